"""/imagine-settings and the remix modal on Slack: the real slack_bolt against FakeSlack
(a trigger id works once, within about 3 s; private_metadata <= 3000; views.update with the
opened view's hash — enforced), the real SDK against FakeGateway. What the gateway receives
is what the member's settings and the prompt's flags decided."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.types import Identity
from tests.fakes.slack import Message, View
from tests.fakes.slack_requests import (
    TEAM_ID,
    USER_ID,
    SlackPayload,
    block_actions,
    slash_command,
    text_input_value,
    view_submission,
)
from tests.slack.conftest import Harness, button
from tests.slack.test_tenancy import MALLORY, OTHER_TEAM, charged, from_other_team, interactive

GENERATIONS, EDITS = "/v1/images/generations", "/v1/images/edits"
ALICE = Identity("slack", USER_ID, TEAM_ID)


def chosen(**values: str) -> dict[str, dict[str, Any]]:
    """A settings modal's state.values: field -> the selected option's value."""
    return {
        f"pref_{field}_1": {field: {"type": "static_select", "selected_option": {"value": value}}}
        for field, value in values.items()
    }


async def open_settings(harness: Harness) -> View:
    fake = harness.fake
    await harness.send(
        slash_command("", command="/imagine-settings", response_url=fake.response_url())
    )
    updated: list[View] = await harness.wait(lambda: [v for v in fake.views if v.kind == "update"])
    return updated[-1]


async def submit_settings(harness: Harness, view: View, **values: str) -> Message:
    before = len(harness.ephemerals())
    await harness.send(
        view_submission(
            "imagine_settings",
            chosen(**values),
            view_id=view.view_id,
            private_metadata=view.view["private_metadata"],
        )
    )
    answers: list[Message] = await harness.wait(lambda: harness.ephemerals()[before:])
    return answers[0]


async def a_result(harness: Harness, prompt: str) -> Message:
    before = len(harness.controls())
    await harness.send(slash_command(prompt, response_url=harness.fake.response_url()))
    controls: list[Message] = await harness.wait(lambda: harness.controls()[before:])
    await harness.settle()
    return controls[0]


async def test_settings_modal_opens_first_then_shows_and_saves(harness: Harness) -> None:
    fake = harness.fake
    await harness.service.set_preferences(ALICE, {"quality": "high"})
    shown = await open_settings(harness)
    methods = [c.method for c in fake.calls]
    assert methods.index("views.open") < methods.index("users.info")  # the trigger first
    (opened,) = [v for v in fake.views if v.kind == "open"]
    assert shown.view_id == opened.view_id
    initial = {
        b["element"]["action_id"]: b["element"].get("initial_option", {}).get("value")
        for b in shown.view["blocks"]
        if b["type"] == "input"
    }
    assert initial["quality"] == "high" and initial["model"] == "default"
    assert len(shown.view["private_metadata"]) <= 3000

    answer = await submit_settings(harness, shown, quality="low", n="2", size="2:3")
    assert answer.user == USER_ID and "Settings saved." in (answer.text or "")
    await a_result(harness, "a lighthouse")
    await a_result(harness, "a lighthouse --q high --n 1")
    first, second = (c.params for c in harness.gateway.calls_to(GENERATIONS))
    assert (first["quality"], first["n"], first["size"]) == ("low", 2, "1024x1536")
    assert (second["quality"], second["n"], second["size"]) == ("high", 1, "1024x1536")


async def test_a_forged_value_is_refused_and_nothing_is_stored(harness: Harness) -> None:
    shown = await open_settings(harness)
    answer = await submit_settings(harness, shown, quality="ultra", model="gpt-image-2")
    assert "ultra" in (answer.text or "") and "Settings saved." not in (answer.text or "")
    assert (await harness.service.preferences(ALICE)).empty


async def test_language_setting_overrides_the_slack_locale(harness: Harness) -> None:
    shown = await open_settings(harness)
    answer = await submit_settings(harness, shown, language="zh-CN")
    assert "设置已保存" in (answer.text or "")
    controls = await a_result(harness, "a lighthouse")
    assert button(controls, "reroll")["text"]["text"] == "重新生成"


async def test_a_removed_model_falls_back_with_a_note(closing: Any) -> None:
    first: Harness = await closing()
    await first.service.set_preferences(ALICE, {"model": "gpt-image-2.5-sunburst"})
    changed: Harness = await closing(models={"gpt-image-2.5-sunburst": {"enabled": False}})
    for _ in range(2):  # every time the same fallback, never an error
        await a_result(changed, "a lighthouse")
        comment = changed.fake.uploads[-1].initial_comment or ""
        assert "gpt-image-2.5-sunburst is not available" in comment
    models = [c.params["model"] for c in changed.gateway.calls_to(GENERATIONS)]
    assert models == ["gpt-image-2", "gpt-image-2"]


def remix_values(prompt: str) -> dict[str, dict[str, Any]]:
    return {"prompt_block": {"prompt_input": text_input_value(prompt)}}


async def remix(harness: Harness, action_id: str, value: str, **kw: Any) -> View:
    before = len([v for v in harness.fake.views if v.kind == "open"])
    await harness.send(
        block_actions(action_id, value, response_url=harness.fake.response_url(), **kw)
    )
    opened: list[View] = await harness.wait(
        lambda: [v for v in harness.fake.views if v.kind == "open"][before:]
    )
    return opened[0]


async def submit_remix(harness: Harness, view: View, prompt: str) -> None:
    before = len(harness.controls())
    await harness.send(
        view_submission(
            "remix_prompt",
            remix_values(prompt),
            view_id=view.view_id,
            private_metadata=view.view["private_metadata"],
        )
    )
    await harness.wait(lambda: len(harness.controls()) > before)
    await harness.settle()


def prefilled(view: View) -> str:
    [block] = [b for b in view.view["blocks"] if b["type"] == "input"]
    value: str = block["element"]["initial_value"]
    return value


async def test_remix_opens_the_prompt_before_reroll_and_vary(harness: Harness) -> None:
    controls = await a_result(harness, "a teapot --size 1536x1024")
    await harness.service.set_preferences(ALICE, {"remix": True})
    gateway = harness.gateway

    opened = await remix(harness, "reroll", button(controls, "reroll")["value"])
    assert prefilled(opened) == "a teapot" and len(gateway.calls) == 1  # nothing started yet
    assert len(opened.view["private_metadata"]) <= 3000
    await submit_remix(harness, opened, "a teapot, in blue")
    assert gateway.last_call.params["prompt"] == "a teapot, in blue"
    assert gateway.last_call.params["size"] == "1536x1024"  # the job's options stay

    opened = await remix(harness, "vary_subtle", button(controls, "vary_subtle")["value"])
    await submit_remix(harness, opened, "a teapot with a crack")
    [edit] = gateway.calls_to(EDITS)
    assert edit.form["prompt"] == "a teapot with a crack"

    opened = await remix(harness, "vary_strong", button(controls, "vary_strong")["value"])
    await submit_remix(harness, opened, "a kettle")
    assert str(gateway.last_call.params["prompt"]).startswith("a kettle\n\n(")

    # every modal was opened with its own click's trigger id, before users.info was asked
    triggers = [v.trigger_id for v in harness.fake.views if v.kind == "open"]
    assert len(set(triggers)) == 3


async def test_remix_after_the_upscale_estimate(harness: Harness) -> None:
    controls = await a_result(harness, "a lighthouse --size 1024x1536 --q high")
    await harness.service.set_preferences(ALICE, {"remix": True})
    ref = button(controls, "upscale")["value"]
    await harness.send(block_actions("upscale", ref, response_url=harness.fake.response_url()))
    (estimate,) = await harness.wait(harness.ephemerals)
    assert "2048x3072" in (estimate.text or "")
    assert [v for v in harness.fake.views if v.kind == "open"] == []  # the estimate first
    opened = await remix(harness, "upscale_go", ref, block_id="upscale_confirm")
    assert prefilled(opened) == "a lighthouse"
    await submit_remix(harness, opened, "a lighthouse at night")
    [call] = harness.gateway.calls_to(EDITS)
    assert call.form["size"] == "2048x3072" and "a lighthouse at night" in call.form["prompt"]


def from_mallory(payload: SlackPayload) -> SlackPayload:
    data = json.loads(json.dumps(payload.data))
    data["team"] = {"id": OTHER_TEAM, "domain": "other"}
    data["user"] = {"id": MALLORY, "username": "mallory", "team_id": OTHER_TEAM}
    return interactive(data)


async def test_remix_across_workspaces_is_refused(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    controls = await a_result(harness, "alice's secret garden")
    await harness.service.set_preferences(Identity("slack", MALLORY, OTHER_TEAM), {"remix": True})
    await harness.service.set_preferences(ALICE, {"remix": True})
    ref = button(controls, "reroll")["value"]
    click = block_actions("reroll", ref, response_url=harness.fake.response_url())
    await harness.send(from_other_team(click))
    (hint,) = await harness.wait(harness.ephemerals)
    assert "no longer valid" in (hint.text or "") and harness.fake.views == []
    # a remix submit forged with Alice's job in its metadata is checked again: refused
    opened = await remix(harness, "reroll", ref)  # Alice's own modal, for its metadata
    forged = view_submission(
        "remix_prompt",
        remix_values("steal it"),
        view_id=opened.view_id,
        private_metadata=opened.view["private_metadata"],
    )
    await harness.send(from_mallory(forged))
    await harness.wait(lambda: len(harness.ephemerals()) == 2)
    await harness.settle()
    assert "no longer valid" in (harness.ephemerals()[1].text or "")
    assert len(harness.gateway.calls) == 1 and await charged(harness) == []
