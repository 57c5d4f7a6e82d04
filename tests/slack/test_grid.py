"""Slack Enterprise Grid: the community is the org, where there is one.

One org-wide install (the fake's token is an org token) serves org ``ORG`` (workspaces ``WS1``
and ``WS2``), another org ``ORG2`` (``WS3``) and a workspace outside any Grid (``SOLO``). The
payloads are shaped as Slack sends them for an org-wide install (api.slack.com/enterprise/apps/
reference; Bolt's own readers, ``slack_bolt.request.internals.extract_actor_enterprise_id`` and
``extract_actor_team_id``): a slash command carries ``enterprise_id`` and
``is_enterprise_install``; an interactive payload ``enterprise: {id}`` and may carry ``team:
null``; an event carries ``authorizations[0].enterprise_id``.

An org admin's default limits, bans and reports cover every workspace of that org, and never
another org or a workspace outside a Grid; each test fails on the workspace-keyed tenancy.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest

from bots.slack.payload import origin
from bots.web.links import Grant, Signer, mint_link
from core.store.policy import effective_limits
from core.types import Identity
from tests.conftest import make_settings
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_requests import (
    CHANNEL_ID,
    FORM,
    TEAM_ID,
    USER_ID,
    SlackPayload,
    app_mention_event,
    block_actions,
    event_callback,
    new_trigger_id,
    slash_command,
)
from tests.slack.conftest import ADMIN_ID, TOKEN, Harness, button

ORG, ORG2 = "E0ORG0001", "E0ORG0002"
WS1, WS2, WS3, SOLO = "T0GRID001", "T0GRID002", "T0GRID003", TEAM_ID
ORG_OF: dict[str, str | None] = {WS1: ORG, WS2: ORG, WS3: ORG2, SOLO: None}
CHANNEL = {WS1: "C0GRID001", WS2: "C0GRID002", WS3: "C0GRID003", SOLO: CHANNEL_ID}
ALICE, BOB, CAROL, DAVE = "W0ALICE01", "W0BOB0001", "W0CAROL01", USER_ID  # WS1, WS2, WS3, SOLO
HOME = {ALICE: WS1, BOB: WS2, CAROL: WS3, DAVE: SOLO, ADMIN_ID: WS1}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=TOKEN, enterprise_id=ORG) as f:
        yield f


def command(text: str, user: str, team: str, response_url: str, name: str = "/imagine") -> Any:
    """A slash command from ``user`` in workspace ``team`` (Grid fields where it is in one)."""
    grid = {}
    org = ORG_OF[team]
    if org is not None:
        grid = {"enterprise_id": org, "enterprise_name": org, "is_enterprise_install": "true"}
    return slash_command(
        text,
        command=name,
        response_url=response_url,
        user_id=user,
        channel_id=CHANNEL[team],
        team_id=team,
        **grid,
    )


def click(payload: SlackPayload, user: str, team: str, *, no_team: bool = False) -> SlackPayload:
    """The same block action sent for ``user`` of ``team``, in ``team``'s channel; an org-wide
    install's payload has ``team: null`` (with ``no_team`` the user's ``team_id`` is left out
    too, so only the org says where it comes from)."""
    data = copy.deepcopy(payload.data)
    data["trigger_id"] = new_trigger_id()  # a new click
    org = ORG_OF[team]
    data["team"] = None if org else {"id": team, "domain": "solo"}
    data["user"] = {"id": user, "username": user.lower()}
    if not no_team:
        data["user"]["team_id"] = team
    data["enterprise"] = {"id": org, "name": org} if org else None
    data["is_enterprise_install"] = org is not None
    data.setdefault("container", {})["channel_id"] = CHANNEL[team]
    data["channel"] = {"id": CHANNEL[team], "name": "art"}
    return SlackPayload(urlencode({"payload": json.dumps(data)}), FORM, data)


def mention(text: str, user: str, team: str) -> SlackPayload:
    """An app_mention event of an org-wide install (``authorizations[0]`` names the org)."""
    payload = event_callback(
        app_mention_event(text, user=user, channel=CHANNEL[team]), team_id=team
    )
    data = copy.deepcopy(payload.data)
    org = ORG_OF[team]
    data["enterprise_id"] = org
    data["authorizations"][0].update(enterprise_id=org, is_enterprise_install=org is not None)
    data["authorizations"][0]["team_id"] = None if org else team
    return SlackPayload(json.dumps(data), payload.content_type, data)


async def admin(harness: Harness, text: str, team: str) -> str:
    before = len(harness.ephemerals())
    url = harness.fake.response_url()
    await harness.send(command(text, ADMIN_ID, team, url, "/imagine-admin"))
    await harness.wait(lambda: len(harness.ephemerals()) > before)
    return harness.ephemerals()[-1].text or ""


async def imagine(harness: Harness, user: str, prompt: str) -> str:
    """``user`` asks in their own workspace: "result", or the hint they were given."""
    controls, hints = len(harness.controls()), len(harness.ephemerals())
    await harness.send(command(prompt, user, HOME[user], harness.fake.response_url()))
    await harness.wait(
        lambda: len(harness.controls()) > controls or len(harness.ephemerals()) > hints
    )
    await harness.settle()
    return "result" if len(harness.controls()) > controls else harness.ephemerals()[-1].text or ""


async def test_an_org_default_binds_every_workspace_of_that_org_and_nothing_else(
    harness: Harness,
) -> None:
    assert "user_daily_images=0" in await admin(harness, "limits everyone user_daily_images=0", WS1)
    assert "reached" in (await imagine(harness, BOB, "a fox in WS2")).lower()  # same org
    assert "reached" in (await imagine(harness, ALICE, "a fox in WS1")).lower()
    assert await imagine(harness, CAROL, "a fox in another org") == "result"
    assert await imagine(harness, DAVE, "a fox outside any Grid") == "result"
    assert await harness.service.store.check() == []


async def test_an_org_ban_covers_its_workspaces_and_no_other_community(harness: Harness) -> None:
    assert "can no longer generate" in await admin(harness, f"ban <@{ALICE}>", WS2)
    assert "not allowed" in await imagine(harness, ALICE, "a lamp in WS1")
    # the same admin, acting from another org and from a workspace outside a Grid
    assert "can no longer generate" in await admin(harness, f"ban <@{BOB}>", WS3)
    assert "can no longer generate" in await admin(harness, f"ban <@{CAROL}>", SOLO)
    assert await imagine(harness, BOB, "a lamp in WS2") == "result"
    assert await imagine(harness, CAROL, "a lamp in WS3") == "result"


async def test_usage_and_audit_of_an_org_cover_its_workspaces_only(harness: Harness) -> None:
    assert await imagine(harness, ALICE, "a boat") == "result"
    assert ALICE in await admin(harness, "usage", WS2)  # WS2 is in Alice's org
    assert ALICE not in await admin(harness, "usage", WS3)
    assert ALICE not in await admin(harness, "usage", SOLO)
    assert ORG not in await admin(harness, "usage community", WS3)
    await admin(harness, f"limits <@{BOB}> user_daily_images=3", WS1)
    assert "user_daily_images=3" in await admin(harness, "audit", WS2)
    assert "No admin actions" in await admin(harness, "audit", WS3)
    assert "No admin actions" in await admin(harness, "audit", SOLO)


async def test_org_wide_buttons_work_across_the_org_and_not_outside_it(harness: Harness) -> None:
    assert await imagine(harness, ALICE, "alice's secret garden") == "result"
    value = button(harness.controls()[-1], "reroll")["value"]
    template = block_actions("reroll", value, response_url=harness.fake.response_url())
    # Bob, in another workspace of the same org (a multi-workspace channel): the org's job
    await harness.send(click(template, BOB, WS2))
    await harness.wait(lambda: len(harness.controls()) == 2)
    await harness.settle()
    # Alice again, with neither team nor user.team_id (only the org says where)
    await harness.send(click(template, ALICE, WS1, no_team=True))
    await harness.wait(lambda: len(harness.controls()) == 3)
    await harness.settle()
    # Carol (another org) and Dave (no Grid) are refused
    base = len(harness.ephemerals())
    for n, user in enumerate((CAROL, DAVE), start=base + 1):
        await harness.send(click(template, user, HOME[user]))
        await harness.wait(lambda n=n: len(harness.ephemerals()) >= n)  # type: ignore[misc]
        hint = harness.ephemerals()[-1]
        assert hint.user == user and "no longer valid" in (hint.text or "")
    await harness.settle()
    assert len(harness.gateway.calls_to("/v1/images/generations")) == 3
    assert await harness.service.store.check() == []


async def test_a_mention_is_kept_in_the_org(harness: Harness) -> None:
    await harness.send(mention(f"<@{harness.fake.bot_user_id}> a kite", ALICE, WS1))
    await harness.wait(harness.controls)
    await harness.settle()
    [job] = await harness.service.store.history(f"user:slack:{ALICE}")
    assert job.community_scope == f"community:slack:{ORG}"


def _grid_payloads() -> dict[str, tuple[SlackPayload, str | None, str | None]]:
    url, reroll = "http://127.0.0.1:9/r", block_actions("reroll", "x", response_url="u")
    return {  # payload, the org and the workspace it must be read as
        "slash command": (command("x", ALICE, WS1, url), ORG, WS1),
        "block action, team null": (click(reroll, BOB, WS2), ORG, WS2),
        "block action, no team at all": (click(reroll, BOB, WS2, no_team=True), ORG, None),
        "event, authorization without a team": (mention("hi", ALICE, WS1), ORG, WS1),
        "another org": (command("x", CAROL, WS3, url), ORG2, WS3),
        "no Grid": (command("x", DAVE, SOLO, url), None, SOLO),
    }


@pytest.mark.parametrize("case", _grid_payloads().values(), ids=_grid_payloads().keys())
def test_the_org_is_read_as_bolt_reads_it(
    case: tuple[SlackPayload, str | None, str | None],
) -> None:
    payload, org, team = case
    request = AsyncBoltRequest(body=payload.body, headers={"content-type": payload.content_type})
    where = origin(request.body)  # the body as Bolt parsed it for the listener
    assert where.enterprise == request.context.enterprise_id == org
    assert where.team == team


def test_a_dashboard_link_of_an_org_admin_stays_in_the_org(tmp_path: Any) -> None:
    secret = "s" * 40
    who = Identity("slack", ADMIN_ID, None, is_admin=True, org_id=ORG)  # org-wide: no team
    token = mint_link(secret, "http://127.0.0.1:9", "dashboard", who, minutes=5, admin=True)
    grant = Signer(secret).open("link", token.rsplit("/", 1)[1])
    assert isinstance(grant, Grant) and grant.identity().community_scope == f"community:slack:{ORG}"


def test_the_operators_table_for_an_org_covers_its_workspaces(tmp_path: Any) -> None:
    settings = make_settings(tmp_path, quota={"communities": {ORG: {"user_daily_images": 2}}})
    for team in (WS1, WS2, None):
        limits = effective_limits(settings.quota, Identity("slack", BOB, team, org_id=ORG))
        assert limits.user_daily_images == 2
    elsewhere = effective_limits(settings.quota, Identity("slack", CAROL, WS3, org_id=ORG2))
    assert elsewhere.user_daily_images != 2
