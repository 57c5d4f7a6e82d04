"""slack.distribution = "oauth": many workspaces from any number of identical HTTP processes.

The real slack_bolt and slack_sdk against FakeSlack (tests/fakes/slack_oauth.py: Slack's
authorize page, oauth.v2.access with its published rules, tokens that work only in their own
workspace) and FakeGateway. Installs and OAuth states are in the shared database, so an install
started on one process finishes on another and every process serves every workspace.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bots.slack import oauth
from bots.slack.app import SlackAdapter
from bots.slack.jobs import ProgressMessage
from core import messages
from core.sealed import Unsealable
from core.service import ImageService
from core.types import Progress, Stage
from tests.fakes.slack_oauth import redirect_query
from tests.fakes.slack_requests import event_callback
from tests.slack.conftest import Harness, button, slack_settings
from tests.slack.oauth_flow import (
    OTHER_KEY,
    click_in,
    command_in,
    database_text,
    finish_install,
    install,
    oauth_sections,
    redirect_url,
    start_install,
)

ALPHA, BETA = "T0ALPHA01", "T0BETA001"
CH_A, CH_B = "C0ALPHA01", "C0BETA001"
ANN, BEN = "U0ANN0001", "U0BEN0001"
MANIFEST = Path(__file__).resolve().parents[2] / "bots" / "slack" / "manifest.yml"


@pytest.fixture
def workspaces(fake: Any) -> Any:
    fake.add_workspace(ALPHA, "Alpha", channels=(CH_A,))
    fake.add_workspace(BETA, "Beta", channels=(CH_B,))
    return fake


def calls_in(h: Harness, channel: str) -> list[Any]:
    return [
        c for c in h.fake.calls if channel in (c.params.get("channel"), c.params.get("channel_id"))
    ]


async def test_two_workspaces_install_and_each_job_posts_with_its_own_token(
    closing: Any, workspaces: Any
) -> None:
    h_fake = workspaces
    h: Harness = await closing(**oauth_sections(h_fake))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
        await install(browser, h.adapter.port, h_fake, ALPHA)
        await install(browser, h.adapter.port, h_fake, BETA)
    assert sorted(await h.service.store.install_keys("slack")) == [ALPHA, BETA]
    assert h.adapter.health().details["workspaces"] == 2

    for team, channel, user in ((ALPHA, CH_A, ANN), (BETA, CH_B, BEN)):
        reply = await h.send(command_in(team, channel, user, "a fox", h_fake))
        assert reply.status == 200
    await h.wait(lambda: len(h.controls()) == 2)
    for team, channel in ((ALPHA, CH_A), (BETA, CH_B)):
        calls = calls_in(h, channel)
        assert calls and {c.team for c in calls} == {team}
        assert all(c.token_ok for c in calls)
    api = [c for c in h.fake.calls if c.method != "oauth.v2.access"]
    assert all(c.token_ok for c in api)  # no call with a wrong token
    # the fake's own default workspace token was never configured, never used
    assert {c.team for c in api} == {ALPHA, BETA}


async def test_a_token_of_one_workspace_cannot_post_into_another(
    closing: Any, workspaces: Any
) -> None:
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    h: Harness = await closing(**oauth_sections(workspaces))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
        await install(browser, h.adapter.port, workspaces, ALPHA)
    (token,) = workspaces.issued_for(ALPHA)
    client = AsyncWebClient(token=token, base_url=workspaces.api_base)
    assert (await client.chat_postMessage(channel=CH_A, text="hi"))["ok"]
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel=CH_B, text="hi")
    assert refused.value.response["error"] == "channel_not_found"


async def test_install_starts_on_one_process_and_lands_on_another(
    closing: Any, workspaces: Any
) -> None:
    first: Harness = await closing(**oauth_sections(workspaces))
    second: Harness = await closing(**oauth_sections(workspaces))
    workspaces.redirect_urls = [redirect_url(second.adapter.port)]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
        back = await start_install(browser, first.adapter.port, workspaces, BETA)
        assert back.url.startswith(redirect_url(second.adapter.port))
        status, page = await finish_install(browser, back)
    assert status == 200 and "Beta" in page
    # both processes serve the new workspace: a command on the first, its Re-roll on the second
    await first.send(command_in(BETA, CH_B, BEN, "a heron", workspaces))
    (result,) = await first.wait(first.controls)
    reroll = button(result, "reroll")["value"]
    await second.send(click_in(BETA, CH_B, BEN, "reroll", reroll, workspaces))
    await second.wait(lambda: len(second.controls()) == 2)
    assert {c.team for c in calls_in(first, CH_B)} == {BETA}


async def test_round_robin_over_two_processes_needs_no_process_state(
    closing: Any, workspaces: Any
) -> None:
    procs: list[Harness] = [await closing(**oauth_sections(workspaces)) for _ in range(2)]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
        await install(browser, procs[0].adapter.port, workspaces, ALPHA)
        await install(browser, procs[1].adapter.port, workspaces, BETA)
    turn = 0

    def next_proc() -> Harness:
        nonlocal turn
        turn += 1
        return procs[turn % 2]

    for team, channel, user in ((ALPHA, CH_A, ANN), (BETA, CH_B, BEN)) * 2:
        reply = await next_proc().send(command_in(team, channel, user, "a boat", workspaces))
        assert reply.status == 200
    await procs[0].wait(lambda: len(procs[0].controls()) == 4)
    results = procs[0].controls()
    for result in results:  # every result's Re-roll, on the other process than the last one
        team = ALPHA if result.channel == CH_A else BETA
        user = ANN if team == ALPHA else BEN
        value = button(result, "reroll")["value"]
        reply = await next_proc().send(
            click_in(team, result.channel, user, "reroll", value, workspaces)
        )
        assert reply.status == 200
    await procs[0].wait(lambda: len(procs[0].controls()) == 8)
    for channel, team in ((CH_A, ALPHA), (CH_B, BETA)):
        assert {c.team for c in calls_in(procs[0], channel)} == {team}


async def test_uninstall_removes_the_tokens_and_the_workspace_is_not_served(
    closing: Any, workspaces: Any
) -> None:
    h: Harness = await closing(**oauth_sections(workspaces))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
        await install(browser, h.adapter.port, workspaces, ALPHA)
        await install(browser, h.adapter.port, workspaces, BETA)
    workspaces.uninstall(ALPHA)  # Slack revokes the tokens, then sends the event
    reply = await h.send(event_callback({"type": "app_uninstalled"}, team_id=ALPHA))
    assert reply.status == 200
    await h.until(lambda: h.adapter.health().details["workspaces"] == 1)
    assert await h.service.store.install_keys("slack") == [BETA]

    before = len(h.fake.calls)
    reply = await h.send(command_in(ALPHA, CH_A, ANN, "a fox", workspaces))
    answer = await h.wait(lambda: h.fake.responses)
    assert "not installed in this workspace" in str(answer[-1].body)
    await h.settle()
    assert h.gateway.calls_to("/v1/images/generations") == []
    assert [c for c in h.fake.calls[before:] if c.team == ALPHA] == []

    # tokens_revoked for the bot of the other workspace removes that install too
    revoked = {"type": "tokens_revoked", "tokens": {"bot": ["U0BOT0003"]}}
    assert (await h.send(event_callback(revoked, team_id=BETA))).status == 200
    await h.until(lambda: h.adapter.health().details["workspaces"] == 0)


async def test_tokens_are_not_plaintext_in_the_database(
    closing: Any, workspaces: Any, tmp_path: Path
) -> None:
    h: Harness = await closing(**oauth_sections(workspaces))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
        await install(browser, h.adapter.port, workspaces, ALPHA)
    (token,) = workspaces.issued_for(ALPHA)
    db = tmp_path / "pixelsmith.db"
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT key, details, sealed FROM platform_install").fetchall()
    assert [r[0] for r in rows] == [ALPHA]
    assert rows[0][2].startswith("gAAAAA") and token not in rows[0][1]
    assert token.encode() not in database_text(db)
    assert token.split("-")[-1].encode() not in database_text(db)


async def test_a_forged_or_replayed_state_installs_nothing(closing: Any, workspaces: Any) -> None:
    h: Harness = await closing(**oauth_sections(workspaces))
    workspaces.redirect_urls = [redirect_url(h.adapter.port)]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
        back = await start_install(browser, h.adapter.port, workspaces, ALPHA)
        code = redirect_query(back.url)["code"]
        forged = f"{redirect_url(h.adapter.port)}?code={code}&state=forged-state"
        status, page = await finish_install(
            browser, type(back)(forged, "slack-app-oauth-state=forged-state")
        )
        assert status == 401 and "did not finish" in page
        # the right cookie with another state (a link planted by someone else) fails too
        status, _ = await finish_install(browser, type(back)(forged, back.cookie))
        assert status == 400
        assert await h.service.store.install_keys("slack") == []
        assert workspaces.exchanges == []  # the code was never exchanged

        assert (await finish_install(browser, back))[0] == 200
        replayed = await finish_install(browser, back)
        assert replayed[0] == 401  # the state was consumed by the first landing
    assert [e.get("team") for e in workspaces.exchanges] == [ALPHA]


async def test_a_cancelled_install_says_so(closing: Any, workspaces: Any) -> None:
    h: Harness = await closing(**oauth_sections(workspaces))
    workspaces.redirect_urls = [redirect_url(h.adapter.port)]
    workspaces.deny_next = True
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
        back = await start_install(browser, h.adapter.port, workspaces, ALPHA)
        status, page = await finish_install(browser, back)
    assert status == 200 and "cancelled" in page
    assert await h.service.store.install_keys("slack") == []


async def test_another_secret_key_is_a_clear_error_at_start(
    closing: Any, workspaces: Any, tmp_path: Path
) -> None:
    h: Harness = await closing(**oauth_sections(workspaces))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
        await install(browser, h.adapter.port, workspaces, ALPHA)
    sections = oauth_sections(workspaces, secret_key=OTHER_KEY)
    settings = slack_settings(tmp_path, h.gateway, workspaces, **sections)
    service = await ImageService.create(settings)
    try:
        adapter = SlackAdapter(service, settings, host="127.0.0.1")
        with pytest.raises(Unsealable) as failed:
            await adapter.start()
        text = messages.render(failed.value, "en")
        assert "PIXELSMITH_SECRET_KEY" in text and "Slack token" in text
        assert workspaces.issued_for(ALPHA)[0] not in text
        await adapter.stop()
    finally:
        await service.close()


def test_default_scopes_are_the_manifest_bot_scopes() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == oauth.SCOPES


async def test_healthz_of_the_slack_port_reports_the_workspaces(
    closing: Any, workspaces: Any
) -> None:
    h: Harness = await closing(**oauth_sections(workspaces))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
        await install(browser, h.adapter.port, workspaces, BETA)
        async with browser.get(f"http://127.0.0.1:{h.adapter.port}/healthz") as resp:
            report = await resp.json()
    assert report["distribution"] == "oauth" and report["workspaces"] == 1
    assert report["workspace_ids"] == [BETA]
    assert not any(t in str(report) for t in workspaces.issued_for(BETA))


async def test_doctor_reports_the_installs_and_a_key_that_cannot_open_them(
    closing: Any, workspaces: Any, tmp_path: Path
) -> None:
    from bots.doctor import collect

    h: Harness = await closing(**oauth_sections(workspaces))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
        await install(browser, h.adapter.port, workspaces, ALPHA)
        await install(browser, h.adapter.port, workspaces, BETA)
    checks = {c.what: c for c in await collect(h.adapter.settings)}
    assert checks["Slack OAuth client"].status == "ok"
    assert (checks["Slack workspaces"].status, checks["Slack workspaces"].detail) == (
        "ok",
        "2 workspaces or Grid orgs installed",
    )
    assert not any(t in str(checks) for t in workspaces.issued_for(ALPHA))

    wrong = slack_settings(
        tmp_path, h.gateway, workspaces, **oauth_sections(workspaces, secret_key=OTHER_KEY)
    )
    check = {c.what: c for c in await collect(wrong)}["Slack workspaces"]
    assert check.status == "fail" and "2 of 2" in check.detail
    assert "PIXELSMITH_SECRET_KEY" in str(check.fix)

    bad = oauth_sections(workspaces, client_secret="not-the-secret-at-all")
    client = {
        c.what: c for c in await collect(slack_settings(tmp_path, h.gateway, workspaces, **bad))
    }
    assert client["Slack OAuth client"].status == "fail"
    assert "bad_client_secret" in client["Slack OAuth client"].detail


async def test_an_org_wide_grid_install_serves_every_workspace_of_the_org(
    closing: Any, fake: Any
) -> None:
    org = "E0ORG0009"
    fake.add_workspace(
        "T0GRIDA01", "Grid A", enterprise_id=org, org_wide=True, channels=("C0GRIDA1",)
    )
    fake.add_workspace("T0GRIDB01", "Grid B", enterprise_id=org, channels=("C0GRIDB1",))
    fake.add_workspace(BETA, "Beta", channels=(CH_B,))  # outside the org, not installed
    h: Harness = await closing(**oauth_sections(fake))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
        await install(browser, h.adapter.port, fake, "T0GRIDA01")
    assert await h.service.store.install_keys("slack") == [org]  # keyed by the org

    grid = {"enterprise_id": org, "is_enterprise_install": "true"}
    for team, channel in (("T0GRIDA01", "C0GRIDA1"), ("T0GRIDB01", "C0GRIDB1")):
        await h.send(command_in(team, channel, ANN, "a map", fake, **grid))
    await h.wait(lambda: len(h.controls()) == 2)
    assert {c.team for c in calls_in(h, "C0GRIDA1") + calls_in(h, "C0GRIDB1")} == {org}
    jobs = await h.service.history(h.adapter.bot._identity(ANN, "T0GRIDB01", None, "en", org))
    assert {j.community_scope for j in jobs} == {f"community:slack:{org}"}  # the org's, both

    await h.send(command_in(BETA, CH_B, BEN, "a map", fake))
    await h.wait(lambda: h.fake.responses)
    await h.settle()
    assert calls_in(h, CH_B) == [] and len(h.controls()) == 2


async def test_a_notice_outside_a_request_uses_its_workspace_token(
    closing: Any, workspaces: Any
) -> None:
    h: Harness = await closing(**oauth_sections(workspaces))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
        await install(browser, h.adapter.port, workspaces, ALPHA)
        await install(browser, h.adapter.port, workspaces, BETA)
    await h.send(command_in(BETA, CH_B, BEN, "a kite", workspaces))
    await h.wait(h.controls)
    await h.settle()
    (job,) = await h.service.history(h.adapter.bot._identity(BEN, BETA, None, "en", None))
    before = len(h.fake.calls)
    assert await h.adapter.notify(job, "your job was ended")  # as the reaper does
    (call,) = [c for c in h.fake.calls[before:] if c.method == "chat.postEphemeral"]
    assert call.team == BETA and call.params["channel"] == CH_B

    workspaces.uninstall(BETA)
    await h.send(event_callback({"type": "app_uninstalled"}, team_id=BETA))
    await h.until(lambda: h.adapter.health().details["workspaces"] == 1)
    before = len(h.fake.calls)
    assert not await h.adapter.notify(job, "your job was ended")
    assert h.fake.calls[before:] == []


async def test_a_queue_position_announced_by_another_task_acts_for_the_jobs_workspace(
    closing: Any, workspaces: Any
) -> None:
    """The queue announces positions from its own task, which runs in the context of whatever
    started it (another workspace's job, or none): the progress message and the users.info it
    starts still carry the token of the job's own workspace."""
    h: Harness = await closing(**oauth_sections(workspaces))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
        await install(browser, h.adapter.port, workspaces, ALPHA)
        await install(browser, h.adapter.port, workspaces, BETA)
    bot = h.adapter.bot
    async with bot.acting_for(BETA):  # what a Beta member's /imagine listener runs in
        identity, locale = bot.identity_soon(BEN, BETA, CH_B)
        progress = ProgressMessage(bot, bot.service.build("a kite", identity), CH_B, locale=locale)

    async def announcer() -> None:
        async with bot.acting_for(ALPHA):  # the queue's task, started by an Alpha job
            await progress(Progress(Stage.QUEUED, queue_position=2))

    await asyncio.create_task(announcer())
    await h.wait(lambda: [c for c in calls_in(h, CH_B) if c.method == "chat.postMessage"])
    async with bot.acting_for(BETA):
        await progress.close()
    asked = [c for c in h.fake.calls if c.method == "users.info"]
    assert [(c.params["user"], c.team) for c in asked] == [(BEN, BETA)]
    assert {(c.method, c.team) for c in calls_in(h, CH_B)} == {
        ("chat.postMessage", BETA),
        ("chat.delete", BETA),
    }


async def test_a_rotating_token_is_refreshed_and_both_tokens_are_sealed(
    closing: Any, workspaces: Any, tmp_path: Path
) -> None:
    workspaces.rotation = True
    workspaces.rotation_expires_in = 60  # inside the two hours before expiry Bolt refreshes in
    h: Harness = await closing(**oauth_sections(workspaces))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
        await install(browser, h.adapter.port, workspaces, ALPHA)
    installs = h.adapter.bot.installs
    assert installs is not None
    found = await installs.for_community(ALPHA)
    assert found is not None
    first_token, refresh = found[1]["bot_token"], found[1]["bot_refresh_token"]
    assert refresh.startswith("xoxe-1-") and found[0]["bot_token_expires_at"]
    text = database_text(tmp_path / "pixelsmith.db")
    assert first_token.encode() not in text and refresh.encode() not in text

    await h.send(command_in(ALPHA, CH_A, ANN, "a lamp", workspaces))
    await h.wait(h.controls)
    assert workspaces.refreshed == [ALPHA]
    again = await installs.for_community(ALPHA)
    assert again is not None and again[1]["bot_token"] == workspaces.issued_for(ALPHA)[-1]
    assert again[1]["bot_token"] != first_token
    assert {c.team for c in calls_in(h, CH_A)} == {ALPHA}
    assert again[1]["bot_refresh_token"].encode() not in database_text(tmp_path / "pixelsmith.db")


async def test_a_web_result_is_posted_with_its_workspace_token(
    closing: Any, workspaces: Any
) -> None:
    h: Harness = await closing(**oauth_sections(workspaces))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
        await install(browser, h.adapter.port, workspaces, ALPHA)
        await install(browser, h.adapter.port, workspaces, BETA)
    ben = h.adapter.bot._identity(BEN, BETA, CH_B, "en", None)
    result = await h.service.run(h.service.build("a kite", ben, idem_key="web:oauth:1"))
    before = len(h.fake.calls)
    assert await h.adapter.post_result(ben, result)  # as the web companion hands it back
    calls = [c for c in h.fake.calls[before:] if c.method != "files.getUploadURLExternal"]
    assert calls and {c.team for c in h.fake.calls[before:]} == {BETA}
    # a community that never installed the app: nothing is sent
    stranger = h.adapter.bot._identity(BEN, "T0NEVER01", "C0NEVER01", "en", None)
    before = len(h.fake.calls)
    assert not await h.adapter.post_result(stranger, result)
    assert h.fake.calls[before:] == []
