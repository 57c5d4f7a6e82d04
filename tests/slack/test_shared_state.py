"""Refusal buttons on Slack name a refused request kept in the database: the real slack_bolt
against FakeSlack, the real SDK against FakeGateway. A second bot process on the same database
answers the click (an edit's images included); another member, another workspace, a forged or
an expired token gets "no longer valid" and nothing is charged."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from bots.slack import ids
from core.types import Identity
from tests.fakes.slack_requests import (
    FORM,
    TEAM_ID,
    USER_ID,
    SlackPayload,
    block_actions,
    file_input_value,
    slash_command,
    text_input_value,
    view_submission,
)
from tests.slack.conftest import Harness, button, png

RUTKOWSKI = "a castle by Greg Rutkowski"
EDITS = "/v1/images/edits"


async def edit(h: Harness, prompt: str, photo: Any) -> None:
    """/imagine-edit with one image and ``prompt``."""
    before = len(h.fake.views)
    await h.send(slash_command("", command="/imagine-edit", response_url=h.fake.response_url()))
    opened = (await h.wait(lambda: h.fake.views[before:]))[0]
    values = {
        "image_block": {"image_input": file_input_value([photo])},
        "prompt_block": {"prompt_input": text_input_value(prompt)},
    }
    meta = opened.view["private_metadata"]
    await h.send(view_submission("imagine_edit", values, private_metadata=meta))


def click(action_id: str, token: str, h: Harness, **kw: Any) -> SlackPayload:
    url = h.fake.response_url()
    return block_actions(action_id, token, block_id="refusal_actions", response_url=url, **kw)


def elsewhere(payload: SlackPayload) -> SlackPayload:
    """The same click made by the same user id in another workspace."""
    data = json.loads(json.dumps(payload.data))
    data["team"] = {"id": "T0OTHER02", "domain": "other"}
    data["user"]["team_id"] = "T0OTHER02"
    return SlackPayload(urlencode({"payload": json.dumps(data)}), FORM, data)


async def test_a_refused_edit_is_sent_anyway_by_another_process_with_the_same_image(
    closing: Any,
) -> None:
    first: Harness = await closing()
    second: Harness = await closing()
    photo = first.fake.add_file("dog.png", png(), "image/png")
    await edit(first, RUTKOWSKI, photo)
    (hint,) = await first.wait(first.ephemerals)
    assert "Not sent" in (hint.text or "") and first.gateway.calls == []
    token = button(hint, "send_anyway")["value"]
    assert button(hint, "use_suggestion")["value"] == token and len(token) == 32

    await second.send(click("send_anyway", token, second))
    await second.wait(lambda: len(second.controls()) == 1)
    await second.send(click("use_suggestion", token, second))
    await second.wait(lambda: len(second.controls()) == 2)
    await edit(second, "a castle", photo)
    await second.wait(lambda: len(second.controls()) == 3)
    forced, suggested, direct = second.gateway.calls_to(EDITS)
    assert forced.params["prompt"] == RUTKOWSKI and "Rutkowski" not in suggested.params["prompt"]
    same = [f.data for f in direct.files]
    assert [f.data for f in forced.files] == [f.data for f in suggested.files] == same


def hints(h: Harness, n: int) -> Callable[[], bool]:
    return lambda: len(h.ephemerals()) == n


BAD_TOKENS = {
    "random": secrets.token_hex(16),
    "upper case": secrets.token_hex(16).upper(),
    "too short": secrets.token_hex(8),
    "kept inputs": "inputs:1",
}


@pytest.mark.parametrize("forged", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
async def test_a_forged_refusal_token_runs_nothing(harness: Harness, forged: str) -> None:
    await harness.send(click("send_anyway", forged, harness))
    (hint,) = await harness.wait(harness.ephemerals)
    assert hint.user == USER_ID and "no longer valid" in (hint.text or "")
    assert harness.gateway.calls == []


async def test_a_refusal_token_of_another_member_workspace_or_past_its_hour_runs_nothing(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = harness.fake
    fake.add_user("U0BOB0001", "bob")
    await harness.send(slash_command(RUTKOWSKI, response_url=fake.response_url()))
    (hint,) = await harness.wait(harness.ephemerals)
    token = button(hint, "send_anyway")["value"]
    for shown, payload in enumerate(
        (
            click("send_anyway", token, harness, user_id="U0BOB0001"),
            elsewhere(click("send_anyway", token, harness)),
        ),
        start=2,
    ):
        await harness.send(payload)
        await harness.wait(hints(harness, shown))
        assert "no longer valid" in (harness.ephemerals()[-1].text or "")

    monkeypatch.setattr(ids, "REFUSAL_TTL_S", 0.0)  # the next refusal's hour is over
    await harness.send(slash_command(RUTKOWSKI, response_url=fake.response_url()))
    await harness.wait(lambda: len(harness.ephemerals()) == 4)
    stale = button(harness.ephemerals()[-1], "send_anyway")["value"]
    await harness.send(click("send_anyway", stale, harness))
    await harness.wait(lambda: len(harness.ephemerals()) == 5)
    assert "no longer valid" in (harness.ephemerals()[-1].text or "")
    await harness.settle()
    assert harness.gateway.calls == []
    bob = Identity("slack", "U0BOB0001", TEAM_ID)
    assert await harness.service.history(bob) == []
