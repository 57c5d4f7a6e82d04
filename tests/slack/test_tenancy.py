"""Two workspaces on one bot: a button, a modal or a hand-made payload from workspace B never
reaches workspace A's jobs; malformed, oversized and incomplete payloads never crash a
listener (a polite answer where there is someone to tell, a warning line, nothing charged)."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.fakes.slack_requests import (
    FORM,
    TEAM_ID,
    USER_ID,
    SlackPayload,
    block_actions,
    event_callback,
    slash_command,
    text_input_value,
    view_submission,
)
from tests.slack.conftest import Harness, button

OTHER_TEAM, MALLORY, OTHER_CHANNEL = "T0OTHER02", "U0MALLORY", "C0OTHER01"


def interactive(data: dict[str, Any]) -> SlackPayload:
    return SlackPayload(urlencode({"payload": json.dumps(data)}), FORM, data)


def from_other_team(payload: SlackPayload) -> SlackPayload:
    """The same click, made by Mallory in workspace B (her own channel)."""
    data = json.loads(json.dumps(payload.data))
    data["team"] = {"id": OTHER_TEAM, "domain": "other"}
    data["user"] = {"id": MALLORY, "username": "mallory", "team_id": OTHER_TEAM}
    data.setdefault("container", {})["channel_id"] = OTHER_CHANNEL
    data["channel"] = {"id": OTHER_CHANNEL, "name": "b"}
    return interactive(data)


async def a_result(harness: Harness, prompt: str = "alice's secret garden") -> Any:
    await harness.send(slash_command(prompt, response_url=harness.fake.response_url()))
    controls = (await harness.wait(harness.controls))[0]
    await harness.settle()
    return controls


async def charged(harness: Harness) -> list[Any]:
    identity = await harness.adapter.bot.identity(MALLORY, OTHER_TEAM, None)
    return await harness.service.history(identity)


def quiet(caplog: pytest.LogCaptureFixture) -> None:
    assert all(r.exc_info is None for r in caplog.records), "a traceback was logged"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_reroll_from_another_workspace_is_refused(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    controls = await a_result(harness)
    value = button(controls, "reroll")["value"]
    click = block_actions("reroll", value, response_url=harness.fake.response_url())
    await harness.send(from_other_team(click))
    (hint,) = await harness.wait(harness.ephemerals)
    await harness.settle()
    assert (hint.user, hint.channel) == (MALLORY, OTHER_CHANNEL)
    assert "no longer valid" in (hint.text or "")
    assert len(harness.gateway.calls_to("/v1/images/generations")) == 1  # only Alice's
    assert not any("secret garden" in (m.text or "") for m in harness.fake.messages[-1:])
    assert await charged(harness) == []
    quiet(caplog)


FORGED = {
    "a sequential row id": "1",
    "23 digits": "9" * 23,
    "oversized": "x" * 2001,
    "empty": "",
    "a path": "../../etc",
    "not a file id": "1:notafile",
    "too many files": "1:" + ",".join(f"F{i:08d}" for i in range(17)),
}


@pytest.mark.parametrize("value", FORGED.values(), ids=FORGED.keys())
async def test_forged_result_values_are_no_longer_valid(
    harness: Harness, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    await a_result(harness)
    click = block_actions("reroll", value, response_url=harness.fake.response_url())
    await harness.send(from_other_team(click))
    (hint,) = await harness.wait(harness.ephemerals)
    await harness.settle()
    assert hint.user == MALLORY and "no longer valid" in (hint.text or "")
    assert len(harness.gateway.calls_to("/v1/images/generations")) == 1
    assert await charged(harness) == []
    quiet(caplog)


async def test_same_workspace_reroll_still_works(harness: Harness) -> None:
    controls = await a_result(harness, "a kite")
    value = button(controls, "reroll")["value"]
    await harness.send(block_actions("reroll", value, response_url=harness.fake.response_url()))
    await harness.wait(lambda: len(harness.controls()) == 2)
    assert len(harness.gateway.calls_to("/v1/images/generations")) == 2


async def test_edit_button_from_another_workspace_opens_a_notice(harness: Harness) -> None:
    fake = harness.fake
    controls = await a_result(harness)
    value = button(controls, "edit")["value"]
    click = block_actions("edit", value, response_url=fake.response_url())
    await harness.send(from_other_team(click))
    (notice,) = await harness.wait(lambda: [v for v in fake.views if v.kind == "update"])
    (opened,) = [v for v in fake.views if v.kind == "open"]
    assert notice.view_id == opened.view_id and "submit" not in notice.view
    assert "no longer valid" in json.dumps(notice.view)
    # submitting the modal that was opened anyway (or a hand-made one) is refused as well
    meta = opened.view["private_metadata"]
    values = {"prompt_block": {"prompt_input": text_input_value("show me")}}
    submit = view_submission("edit_prompt", values, private_metadata=meta, view_id="V0FORGED1")
    data = json.loads(json.dumps(submit.data))
    data["team"], data["user"] = {"id": OTHER_TEAM}, {"id": MALLORY, "team_id": OTHER_TEAM}
    await harness.send(interactive(data))
    (hint,) = await harness.wait(harness.ephemerals)
    await harness.settle()
    assert hint.user == MALLORY and "no longer valid" in (hint.text or "")
    assert harness.gateway.calls_to("/v1/images/edits") == [] and fake.file_fetches == []


BAD_RETRY = {
    "not JSON": "{",
    "a list": "[1]",
    "an unknown option": json.dumps({"p": "x", "o": {"api_key": "k"}}),
    "a huge n": json.dumps({"p": "x", "o": {"n": 10**9}}),
    "a prompt that is not text": json.dumps({"p": 5}),
    "oversized": json.dumps({"p": "x" * 2100}),
}


@pytest.mark.parametrize("value", BAD_RETRY.values(), ids=BAD_RETRY.keys())
async def test_forged_refusal_buttons_are_no_longer_valid(
    harness: Harness, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    click = block_actions(
        "send_anyway", value, block_id="refusal_actions", response_url=harness.fake.response_url()
    )
    await harness.send(click)
    (hint,) = await harness.wait(harness.ephemerals)
    await harness.settle()
    assert hint.user == USER_ID and "no longer valid" in (hint.text or "")
    assert harness.gateway.calls == []
    quiet(caplog)


def _without(payload: SlackPayload, *path: str) -> SlackPayload:
    data = json.loads(json.dumps(payload.data))
    target = data
    for key in path[:-1]:
        target = target[key]
    target.pop(path[-1], None)
    return interactive(data)


def _incomplete(harness: Harness) -> dict[str, SlackPayload]:
    url = harness.fake.response_url()
    click = block_actions("reroll", "1", response_url=url)
    command = slash_command("a fox", response_url=url)
    no_channel = {k: v for k, v in command.data.items() if k != "channel_id"}
    no_user = {k: v for k, v in command.data.items() if k != "user_id"}
    no_trigger = {k: v for k, v in command.data.items() if k != "trigger_id"}
    view = view_submission("imagine_edit", {}, private_metadata="{not json")
    return {
        "click without a user": _without(click, "user"),
        "click without a channel": _without(_without(click, "channel"), "container"),
        "click without actions": _without(click, "actions"),
        "edit click without a trigger": _without(
            block_actions("edit", "1", response_url=url), "trigger_id"
        ),
        "command without a channel": SlackPayload(urlencode(no_channel), FORM, no_channel),
        "command without a user": SlackPayload(urlencode(no_user), FORM, no_user),
        "command without a trigger": SlackPayload(urlencode(no_trigger), FORM, no_trigger),
        "modal without a channel": view,
        "modal without state": _without(view, "view", "state"),
        "mention without a user": event_callback({"type": "app_mention", "text": "hi"}),
    }


@pytest.mark.parametrize(
    "name",
    [
        "click without a user",
        "click without a channel",
        "click without actions",
        "edit click without a trigger",
        "command without a channel",
        "command without a user",
        "command without a trigger",
        "modal without a channel",
        "modal without state",
        "mention without a user",
    ],
)
async def test_incomplete_payloads_never_crash(
    harness: Harness, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    reply = await harness.send(_incomplete(harness)[name])
    await harness.settle()
    # no action id: no listener can match; Bolt answers 404 with its own warning line
    assert reply.status == (404 if name == "click without actions" else 200)
    assert harness.gateway.calls == []
    quiet(caplog)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) >= 1 or harness.ephemerals(), name
    identity = await harness.adapter.bot.identity(USER_ID, TEAM_ID, None)
    assert await harness.service.history(identity) == []
