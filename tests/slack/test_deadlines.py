"""Slack's trigger_id deadline: a modal opens even when every lookup is slow.

A trigger_id works once and for 3 seconds (views.open then answers ``expired_trigger_id``). The
fake's clock is virtual: ``fake.slow(method, s)`` makes each call of ``method`` take ``s`` seconds
of Slack time, so these tests hold on any machine and measure nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.slack import CLOCK
from tests.fakes.slack_requests import block_actions, slash_command
from tests.slack.conftest import Harness, button


async def test_imagine_edit_opens_its_modal_although_the_user_lookup_is_slow(
    harness: Harness,
) -> None:
    fake = harness.fake
    fake.add_user("U0SLOWUSR", "slow", locale="zh-CN")
    fake.slow("users.info", 3.5)  # a new user's profile takes longer than the trigger lives
    await harness.send(
        slash_command(
            "", command="/imagine-edit", user_id="U0SLOWUSR", response_url=fake.response_url()
        )
    )
    # fake.views records only the views Slack accepted: an expired trigger records nothing
    opened = await harness.wait(lambda: [v for v in fake.views if v.kind == "open"])
    assert opened[0].view["type"] == "modal"


async def test_the_edit_button_opens_its_modal_although_the_lookups_are_slow(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = harness.fake
    await harness.send(slash_command("a teapot", response_url=fake.response_url()))
    controls = (await harness.wait(harness.controls))[0]
    value = button(controls, "edit")["value"]
    fake.slow("users.info", 3.5)
    fake.slow("conversations.info", 3.5)
    for name in ("job", "job_for"):  # a slow database: each job lookup takes 3.5 s of Slack time
        original = getattr(harness.service, name, None)
        if original is not None:
            monkeypatch.setattr(harness.service, name, _slow(original))
    await harness.send(
        block_actions(
            "edit",
            value,
            response_url=fake.response_url(),
            message={"type": "message", "ts": controls.ts, "text": "x"},
        )
    )
    opened = await harness.wait(lambda: [v for v in fake.views if v.kind == "open"])
    assert opened[0].view["type"] == "modal"


def _slow(lookup: Any) -> Any:
    async def slow(*args: Any, **kwargs: Any) -> Any:
        CLOCK.advance(3.5)
        return await lookup(*args, **kwargs)

    return slow
