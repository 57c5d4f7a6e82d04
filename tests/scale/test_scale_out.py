"""Issue 15, "Scale out": three real ``pixelsmith run`` processes on one PostgreSQL database.

The layout (tests/scale/conftest.py, :class:`Cluster`), the smallest one with three processes
that has every kind of replica of docs/SCALING.md:

* A: Discord shard 0 of 2, and a Slack HTTP replica;
* B: Discord shard 1 of 2, and a Slack HTTP replica;
* C: a Slack HTTP replica only.

The fake Discord routes a guild's events to the session of shard ``(guild_id >> 22) % 2``, so a
Discord click always lands on the process that owns its guild: what crosses processes there is a
restart (the new process answers a button the old one showed). Slack requests go through a
round-robin over the replicas that are up (``Cluster.next_slack``), or to a chosen replica, so a
click lands on another process than the one that posted its message. Slack is served through
OAuth installs (``slack.distribution = "oauth"``): workspace Alpha is installed when the cluster
starts, Beta by the last case. Every process has ``provider.max_concurrency`` = 4, one budget
on PostgreSQL, and one result folder (the shared volume of docker-compose.scale.yml).

Each case asserts what the fakes accepted (messages, uploads, upstream calls, the tokens they
carried) and the database's end state (no live job, counters equal to the ledger). Waits have
timeouts only to turn a hang into a failure; nothing asserts a duration.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from core import messages
from core.sealed import fingerprint
from tests.fakes import discord_payloads as DP
from tests.fakes import slack_requests as SR
from tests.fakes.discord import MessageEvent
from tests.fakes.gateway import Behavior
from tests.fakes.slack import Message
from tests.reliability.harness import (
    API_KEY,
    SLACK_SECRET,
    WAIT,
    Ask,
    BotProcess,
    World,
    answer,
    check_invariants,
    discord_imagine_in,
    discord_reply,
    new_user,
    notice,
    prompt,
    slack_imagine,
)
from tests.scale.conftest import ALPHA, BETA, CH_ALPHA, CH_BETA, MAX_CONCURRENCY, Cluster
from tests.slack.conftest import button
from tests.slack.oauth_flow import click_in, finish_install, redirect_url, start_install

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.postgres]

IN_ALPHA = {"team_id": ALPHA, "channel_id": CH_ALPHA}
IN_BETA = {"team_id": BETA, "channel_id": CH_BETA}
GENERATIONS, EDITS = "/v1/images/generations", "/v1/images/edits"
BETA_KEY = "sk-beta-workspace-own-key-5e6f7a8b"  # Beta's own gateway account


async def until(condition: Callable[[], object], timeout: float = WAIT) -> None:
    """Poll ``condition()`` (recorded state, not a clock) until true."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


# ------------------------------------------------------------------------------------- Slack


def slack_results(world: World, user: str) -> list[Message]:
    """The result messages (Re-roll etc. under them) addressed to ``user``, one per ts."""
    found: dict[str, Message] = {}
    for m in world.slack.messages:
        if (
            m.kind in ("post", "update")
            and f"<@{user}>" in (m.text or "")
            and any(b.get("block_id") == "result_actions" for b in (m.blocks or []))
        ):
            found[m.ts] = m
    return list(found.values())


async def nth_result(world: World, user: str, n: int) -> Message:
    """Wait for ``user``'s ``n``-th result message; returns it."""
    await world.slack.wait_for(lambda: len(slack_results(world, user)) >= n or None, WAIT)
    return slack_results(world, user)[n - 1]


def ephemerals(world: World, user: str) -> list[Message]:
    return [m for m in world.slack.messages if m.kind == "ephemeral" and m.user == user]


async def nth_ephemeral(world: World, user: str, n: int) -> Message:
    await world.slack.wait_for(lambda: len(ephemerals(world, user)) >= n or None, WAIT)
    return ephemerals(world, user)[n - 1]


async def slack_click(
    session: aiohttp.ClientSession,
    bot: BotProcess,
    user: str,
    action: str,
    value: str,
    block_id: str = "result_actions",
    where: dict[str, str] = IN_ALPHA,
) -> None:
    payload = click_in(
        where["team_id"], where["channel_id"], user, action, value, bot.world.slack, block_id
    )
    reply = await SR.send(session, bot.slack_url, payload, SLACK_SECRET)
    assert reply.status == 200, reply


# ------------------------------------------------------------------------------------- Discord


def discord_buttons(msg: MessageEvent) -> dict[str, str]:
    return {b["label"]: b["custom_id"] for row in msg.components for b in row["components"]}


async def discord_click(
    world: World, where: dict[str, str], user: str, msg: MessageEvent, custom_id: str
) -> MessageEvent:
    """Click a button of ``msg`` as ``user``; the final answer to the click."""
    ctx = world.discord.context(**where).with_user(user, f"user{user[-4:]}")
    message = world.discord.stored_messages.get(msg.message_id, msg.message)
    payload = DP.component_click(ctx, custom_id, message)
    assert await world.discord.dispatch("INTERACTION_CREATE", payload) == 1
    return await discord_reply(world, payload["token"])


# ------------------------------------------------------------------------------------- cases


def jobs_by(cluster: Cluster, user: str) -> list[dict[str, Any]]:
    return [j for j in cluster.a.jobs() if j["user_scope"].endswith(f":{user}")]


async def settled(cluster: Cluster, user: str, jobs: int) -> list[dict[str, Any]]:
    """``user`` has ``jobs`` jobs (a click's job is the clicker's), every one SUCCEEDED and
    charged, and every counter equals the ledger. Returns them."""
    found = jobs_by(cluster, user)
    assert [j["state"] for j in found] == ["SUCCEEDED"] * jobs, found
    assert all(j["cost_micros"] > 0 for j in found)
    assert await cluster.a.ledger_problems() == []
    return found


def calls_since(world: World, start: int, path: str) -> list[Any]:
    return [c for c in world.gateway.calls[start:] if c.path == path]


async def test_slack_buttons_are_answered_by_the_other_replicas(
    world: World, cluster: Cluster, session: aiohttp.ClientSession
) -> None:
    """A posts the result; its Re-roll is clicked through B, its Upscale through C and the
    Upscale's confirmation through A again."""
    await cluster.revive()
    start = len(world.gateway.calls)
    user, text = new_user("slack"), prompt("a lighthouse")
    sent = await slack_imagine(
        world, cluster.a, session, text, user, "--size 1024x1536 --q high", where=IN_ALPHA
    )
    assert sent.ack_status == 200
    first = await nth_result(world, user, 1)

    await slack_click(session, cluster.b, user, "reroll", button(first, "reroll")["value"])
    await nth_result(world, user, 2)
    await slack_click(session, cluster.c, user, "upscale", button(first, "upscale")["value"])
    estimate = await nth_ephemeral(world, user, 1)
    go = button(estimate, "upscale_go")["value"]
    await slack_click(session, cluster.a, user, "upscale_go", go, block_id="upscale_confirm")
    await nth_result(world, user, 3)

    made = calls_since(world, start, GENERATIONS)
    assert [c.json["prompt"] for c in made] == [text, text]  # the result, its Re-roll
    [upscale] = calls_since(world, start, EDITS)  # the result's image from the shared folder
    assert upscale.form["size"] == "2048x3072"
    assert [(f.width, f.height) for f in upscale.files] == [(1024, 1536)]
    await settled(cluster, user, 3)


async def test_a_discord_button_is_answered_after_its_process_restarted(
    world: World, cluster: Cluster
) -> None:
    """B (shard 1) posts a result and is restarted; the new B answers its Vary (subtle) with
    the kept image."""
    await cluster.revive()
    where, user = cluster.guilds[1], new_user("discord")
    sent = await discord_imagine_in(world, where, prompt("a teapot"), user)
    first = await discord_reply(world, sent.token or "")
    assert first.files and not first.ephemeral

    cluster.b.send_signal(signal.SIGTERM)
    assert await cluster.b.wait() == 0, cluster.b.log_tail()
    await cluster.revive()
    start = len(world.gateway.calls)
    varied = await discord_click(world, where, user, first, discord_buttons(first)["Vary (subtle)"])
    assert varied.files and not varied.ephemeral, varied.content
    [edit] = calls_since(world, start, EDITS)
    assert edit.form["prompt"] == sent.prompt
    assert [(f.width, f.height) for f in edit.files] == [(1024, 1024)]
    await settled(cluster, user, 2)


def upstream_with(world: World, start: int, text: str) -> list[Any]:
    return [c for c in world.upstream_calls()[start:] if text in str(c.params.get("prompt"))]


async def test_send_anyway_after_the_slack_replica_that_refused_was_killed(
    world: World, cluster: Cluster, session: aiohttp.ClientSession
) -> None:
    """C shows the refusal and is SIGKILLed; the click lands on another replica, which runs
    the request as refused: one upstream call, one charged job."""
    await cluster.revive()
    start = len(world.gateway.calls)
    user, text = new_user("slack"), prompt("a castle by Greg Rutkowski")
    sent = await slack_imagine(world, cluster.c, session, text, user, where=IN_ALPHA)
    assert sent.ack_status == 200
    refusal = await nth_ephemeral(world, user, 1)
    token = button(refusal, "send_anyway")["value"]
    assert world.upstream_calls()[start:] == []  # refused before anything was sent

    cluster.c.send_signal(signal.SIGKILL)
    assert await cluster.c.wait() == -signal.SIGKILL
    other = cluster.next_slack()
    await slack_click(session, other, user, "send_anyway", token, block_id="refusal_actions")
    result = await nth_result(world, user, 1)
    assert f"<@{user}>" in (result.text or "")
    [forced] = upstream_with(world, start, text)
    assert forced.params["prompt"] == text  # sent as the member wrote it
    [job] = await settled(cluster, user, 1)  # billed once
    assert job["request"]["prompt"] == text
    assert ephemerals(world, user) == [refusal]  # nothing else was said to them


async def test_send_anyway_after_the_discord_shard_that_refused_was_killed(
    world: World, cluster: Cluster
) -> None:
    """B (shard 1) shows the refusal and is SIGKILLed; the restarted B runs the click."""
    await cluster.revive()
    start = len(world.gateway.calls)
    where, user = cluster.guilds[1], new_user("discord")
    sent = await discord_imagine_in(world, where, prompt("a castle by Greg Rutkowski"), user)
    refusal = await discord_reply(world, sent.token or "")
    assert refusal.ephemeral and not refusal.files
    force = discord_buttons(refusal)["Send anyway"]
    assert world.upstream_calls()[start:] == []

    cluster.b.send_signal(signal.SIGKILL)
    assert await cluster.b.wait() == -signal.SIGKILL
    await cluster.revive()
    done = await discord_click(world, where, user, refusal, force)
    assert done.files and not done.ephemeral, done.content
    [forced] = upstream_with(world, start, sent.prompt)
    assert forced.params["prompt"] == sent.prompt
    await settled(cluster, user, 1)


async def burst(
    world: World,
    cluster: Cluster,
    session: aiohttp.ClientSession,
    *,
    per_shard: int,
    slack: int,
) -> dict[str, list[Ask]]:
    """/imagine from ``per_shard`` members in a guild of each shard and ``slack`` commands over
    the round-robin; the asks by the process that got them."""
    by: dict[str, list[Ask]] = {bot.name: [] for bot in cluster.processes}
    for shard, where in enumerate(cluster.guilds):
        for _ in range(per_shard):
            asked = await discord_imagine_in(world, where, prompt())
            by[cluster.on_shard(shard).name].append(asked)
    for _ in range(slack):
        bot = cluster.next_slack()
        asked = await slack_imagine(world, bot, session, prompt(), where=IN_ALPHA)
        assert asked.ack_status == 200
        by[bot.name].append(asked)
    return by


def jobs_of(cluster: Cluster, asks: list[Ask]) -> list[dict[str, Any]]:
    prompts = {a.prompt for a in asks}
    return [j for j in cluster.a.jobs() if j["request"].get("prompt") in prompts]


async def test_the_gateway_limit_holds_across_all_three_processes(
    world: World, cluster: Cluster, session: aiohttp.ClientSession
) -> None:
    await cluster.revive()
    await until(lambda: world.gateway.in_flight == 0)  # nothing left from an earlier case
    hold = asyncio.Event()
    world.gateway.default = Behavior(hold=hold)  # every call waits until released
    world.gateway.peak_in_flight = 0
    try:
        by = await burst(world, cluster, session, per_shard=3, slack=6)
        asks = [a for group in by.values() for a in group]
        assert all(by.values())  # every process got some
        # Every job is claimed and the budget is full: the rest wait for a slot.
        await until(
            lambda: (
                world.gateway.in_flight == MAX_CONCURRENCY
                and len(jobs_of(cluster, asks)) == len(asks)
            )
        )
        world.gateway.default = Behavior(latency_s=0.2)  # the rest overlap as they drain
        hold.set()
        answers = [await answer(world, a) for a in asks]
    finally:
        world.gateway.default = Behavior()
        hold.set()
    assert all(a.ok for a in answers), [a.text for a in answers if not a.ok]
    assert world.gateway.peak_in_flight == MAX_CONCURRENCY
    inv = await check_invariants(world, cluster.a, asks)
    assert [j["state"] for j in inv.jobs] == ["SUCCEEDED"] * len(asks)


def told(world: World, ask: Ask) -> int:
    """The reaper's notices ``ask``'s user got (Discord channel mentions / Slack ephemerals)."""
    if ask.platform == "discord":
        mention = f"<@{ask.user}>"
        return sum(
            1
            for m in world.discord.messages
            if m.kind == "channel" and mention in (m.content or "")
        )
    return len(ephemerals(world, ask.user))


def delivered(world: World, ask: Ask) -> bool:
    """Whether images reached ``ask``'s user."""
    if ask.platform == "discord":
        return any(m.files for m in world.discord.messages if m.interaction_token == ask.token)
    return bool(slack_results(world, ask.user))


async def test_sigkill_of_one_process_mid_burst_loses_nothing(
    world: World, cluster: Cluster, session: aiohttp.ClientSession
) -> None:
    """B (shard 1 + a Slack replica) is killed with the budget full and the rest of the burst
    queued behind it: the others finish theirs, B's jobs are reaped by the others (released if nothing
    was sent, charged at worst if it was) and each of their users is told once."""
    await cluster.revive()
    hold = asyncio.Event()
    world.gateway.default = Behavior(hold=hold)
    try:
        by = await burst(world, cluster, session, per_shard=3, slack=6)
        asks = [a for group in by.values() for a in group]
        await until(
            lambda: (
                world.gateway.in_flight == MAX_CONCURRENCY
                and len(jobs_of(cluster, asks)) == len(asks)
            )
        )
        cluster.b.send_signal(signal.SIGKILL)
        assert await cluster.b.wait() == -signal.SIGKILL
        world.gateway.default = Behavior()
        hold.set()  # B's held calls end on a closed connection; the others' are answered
        survivors = by["a"] + by["c"]
        answers = [await answer(world, a) for a in survivors]
        notices = {a.user: await notice(world, a) for a in by["b"]}
    finally:
        world.gateway.default = Behavior()
        hold.set()
    assert all(a.ok for a in answers), [a.text for a in answers if not a.ok]
    prompts = {a.prompt for a in asks}

    def mine() -> list[dict[str, Any]]:
        return [j for j in cluster.a.jobs() if j["request"].get("prompt") in prompts]

    await until(lambda: all(j["notified"] for j in mine()))
    inv = await check_invariants(world, cluster.a, asks, answered=False)  # 0 stuck, <= 1 call
    state = {j["request"]["prompt"]: j["state"] for j in inv.jobs}
    assert {state[a.prompt] for a in survivors} == {"SUCCEEDED"}
    for a in by["b"]:
        key = "reaper.released" if state[a.prompt] == "RELEASED" else "reaper.unknown"
        assert state[a.prompt] in ("RELEASED", "UNKNOWN_CHARGED")
        assert messages.text(key, "en", prompt=a.prompt) in notices[a.user]
        assert not delivered(world, a)
    assert [told(world, a) for a in survivors] == [0] * len(survivors)
    assert [told(world, a) for a in by["b"]] == [1] * len(by["b"])

    code, out = await cluster.usage_check()  # the operator's CLI, on the same database
    assert code == 0 and messages.text("cli.check_ok", "en") in out, out
    await cluster.revive()  # B again: it tells nobody a second time
    assert [told(world, a) for a in survivors] == [0] * len(survivors)
    assert [told(world, a) for a in by["b"]] == [1] * len(by["b"])


async def test_a_second_workspace_installs_and_each_posts_with_its_own_token(
    world: World, cluster: Cluster, session: aiohttp.ClientSession
) -> None:
    """Beta's install starts on B and Slack's redirect lands on C; then every replica serves
    both workspaces, and every call into a workspace's channel carries that workspace's token."""
    await cluster.revive()
    landing = redirect_url(cluster.c.config["slack"]["http_port"])
    world.slack.redirect_urls = [landing]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
        back = await start_install(
            browser, cluster.b.config["slack"]["http_port"], world.slack, BETA
        )
        assert back.url.startswith(landing)
        status, page = await finish_install(browser, back)
    assert status == 200 and "Beta" in page, page
    assert world.slack.exchanges[-1] == {"team": BETA}

    asks = []
    for bot in cluster.processes:
        for where in (IN_ALPHA, IN_BETA):
            asked = await slack_imagine(world, bot, session, prompt("a heron"), where=where)
            assert asked.ack_status == 200
            asks.append(asked)
    answers = [await answer(world, a) for a in asks]
    assert all(a.ok for a in answers), [a.text for a in answers if not a.ok]
    await check_invariants(world, cluster.a, asks)

    api = [c for c in world.slack.calls if c.method != "oauth.v2.access"]
    wrong = [(c.method, c.token_present, c.params) for c in api if not c.token_ok]
    assert wrong == []  # no call without a token, or with a wrong or revoked one
    assert {c.team for c in api} == {ALPHA, BETA}  # never the fake's unconfigured own token
    for team, channel in ((ALPHA, CH_ALPHA), (BETA, CH_BETA)):
        into = [c for c in api if channel in (c.params.get("channel"), c.params.get("channel_id"))]
        assert {c.team for c in into} == {team}, (channel, {c.method for c in into})
        assert {"chat.postMessage", "files.completeUploadExternal"} <= {c.method for c in into}


async def test_a_community_with_its_own_key_is_billed_on_it(
    world: World, cluster: Cluster, session: aiohttp.ClientSession
) -> None:
    """The operator sets Beta's own gateway key with the real CLI (one more process on the
    database); then a burst of Alpha's and Beta's jobs over all three replicas: the gateway,
    which now knows two accounts and answers any other key 401, saw every Beta call with
    Beta's key and every Alpha call with the deployment's; the ledger says who paid."""
    await cluster.revive()
    world.gateway.api_key = API_KEY
    world.gateway.other_keys.add(BETA_KEY)
    code, out = await cluster.cli("keys", "set", f"slack:{BETA}", stdin=BETA_KEY + "\n")
    assert code == 0 and BETA_KEY not in out, out
    start = len(world.gateway.calls)
    asks: dict[str, list[Ask]] = {ALPHA: [], BETA: []}
    for _ in range(2):
        for bot in cluster.processes:
            for team, where in ((ALPHA, IN_ALPHA), (BETA, IN_BETA)):
                asked = await slack_imagine(world, bot, session, prompt("a kite"), where=where)
                assert asked.ack_status == 200
                asks[team].append(asked)
    everyone = asks[ALPHA] + asks[BETA]
    answers = [await answer(world, a) for a in everyone]
    assert all(a.ok for a in answers), [a.text for a in answers if not a.ok]
    await check_invariants(world, cluster.a, everyone)

    sent = {c.json["prompt"]: c.key_last4 for c in calls_since(world, start, GENERATIONS)}
    assert {sent[a.prompt] for a in asks[BETA]} == {BETA_KEY[-4:]}
    assert {sent[a.prompt] for a in asks[ALPHA]} == {API_KEY[-4:]}
    code, report = await cluster.cli("usage", "--by", "key")
    assert code == 0 and fingerprint(BETA_KEY) in report and "operator" in report, report
    code, out = await cluster.usage_check()
    assert code == 0, out
