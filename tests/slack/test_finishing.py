"""Upscale, Vary (subtle) and Vary (strong) under a Slack result: the real slack_bolt against
FakeSlack (button text <= 75, action_id <= 255, enforced), the real SDK against FakeGateway."""

from __future__ import annotations

import pytest

from tests.fakes.slack import Message
from tests.fakes.slack_requests import USER_ID, block_actions, slash_command
from tests.slack.conftest import Harness, button
from tests.slack.test_tenancy import charged, from_other_team, quiet

GENERATIONS = "/v1/images/generations"


async def a_result(harness: Harness, prompt: str) -> Message:
    await harness.send(slash_command(prompt, response_url=harness.fake.response_url()))
    controls: list[Message] = await harness.wait(harness.controls)
    await harness.settle()
    return controls[0]


async def test_upscale_shows_the_estimate_then_edits_at_the_next_size(harness: Harness) -> None:
    controls = await a_result(harness, "a lighthouse --size 1024x1536 --q high")
    labels = [
        e["text"]["text"]
        for b in controls.blocks or []
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert labels == ["Re-roll", "Edit", "Upscale", "Vary (subtle)", "Vary (strong)"]
    ref = button(controls, "upscale")["value"]

    await harness.send(block_actions("upscale", ref, response_url=harness.fake.response_url()))
    (estimate,) = await harness.wait(harness.ephemerals)
    assert "2048x3072" in (estimate.text or "") and estimate.user == USER_ID
    assert harness.gateway.calls_to("/v1/images/edits") == []  # nothing sent yet
    go = button(estimate, "upscale_go")
    assert go["value"] == ref and go["text"]["text"].startswith("Upscale for about $")

    await harness.send(
        block_actions(
            "upscale_go", ref, block_id="upscale_confirm", response_url=harness.fake.response_url()
        )
    )
    await harness.wait(lambda: len(harness.controls()) == 2)
    await harness.settle()
    [call] = harness.gateway.calls_to("/v1/images/edits")
    assert (call.form["size"], call.form["n"], call.form["quality"]) == ("2048x3072", "1", "high")
    assert "input_fidelity" not in call.form  # gpt-image-2 takes none (catalog)
    [image] = call.files
    assert (image.field, image.width, image.height) == ("image", 1024, 1536)
    identity = await harness.adapter.bot.identity(USER_ID, None, None)
    upscaled = (await harness.service.history(identity))[0]  # reserved and charged as a job
    assert upscaled.request["size"] == "2048x3072" and upscaled.worst_cost_micros > 0
    # the estimate was removed once used (response_url, delete_original)
    assert any(r.body.get("delete_original") is True for r in harness.fake.responses)


async def test_vary_subtle_edits_the_result_and_strong_generates_anew(harness: Harness) -> None:
    controls = await a_result(harness, "a teapot --size 1536x1024")
    ref = button(controls, "vary_subtle")["value"]
    await harness.send(block_actions("vary_subtle", ref, response_url=harness.fake.response_url()))
    await harness.wait(lambda: len(harness.controls()) == 2)
    [edit] = harness.gateway.calls_to("/v1/images/edits")
    assert edit.form["prompt"] == "a teapot" and edit.form["size"] == "1536x1024"
    assert [(f.width, f.height) for f in edit.files] == [(1536, 1024)]

    await harness.send(block_actions("vary_strong", ref, response_url=harness.fake.response_url()))
    await harness.wait(lambda: len(harness.controls()) == 3)
    await harness.settle()
    generations = harness.gateway.calls_to(GENERATIONS)
    assert len(generations) == 2 and len(harness.gateway.calls_to("/v1/images/edits")) == 1
    assert str(generations[1].params["prompt"]).startswith("a teapot\n\n(")
    assert generations[1].params["size"] == "1536x1024"


@pytest.mark.parametrize("action_id", ["upscale", "upscale_go", "vary_subtle", "vary_strong"])
async def test_a_finishing_button_from_another_workspace_is_refused(
    harness: Harness, action_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    controls = await a_result(harness, "alice's secret garden --size 1024x1024")
    ref = button(controls, "upscale")["value"]
    click = block_actions(action_id, ref, response_url=harness.fake.response_url())
    await harness.send(from_other_team(click))
    (hint,) = await harness.wait(harness.ephemerals)
    await harness.settle()
    assert "no longer valid" in (hint.text or "")
    assert len(harness.gateway.calls) == 1  # only Alice's image
    assert await charged(harness) == []
    quiet(caplog)
