"""App Home, /quota, /imagine-admin, Re-roll, locale, and the error handler."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from core import messages
from tests.fakes.slack_requests import (
    USER_ID,
    app_home_opened_event,
    block_actions,
    event_callback,
    slash_command,
)
from tests.slack.conftest import ADMIN_ID, Harness, button


def _home_text(view: dict[str, Any]) -> str:
    return "\n".join(
        str(b.get("text", {}).get("text", "")) for b in view["blocks"] if b.get("text")
    )


async def test_app_home_shows_quota_reset_and_recent_jobs(closing: Any) -> None:
    h: Harness = await closing(quota={"user_daily_images": 5})
    await h.send(slash_command("a quiet harbour", response_url=h.fake.response_url()))
    await h.wait(h.controls)
    await h.send(event_callback(app_home_opened_event()))
    published = (await h.wait(lambda: [v for v in h.fake.views if v.kind == "publish"]))[0]
    assert published.user_id == USER_ID and published.view["type"] == "home"
    text = _home_text(published.view)
    assert "daily image limit: 4 images of 5 images left" in text and "<!date^" in text
    assert "a quiet harbour" in text and "done" in text


async def test_quota_command(closing: Any) -> None:
    h: Harness = await closing(quota={"user_daily_images": 3})
    await h.send(slash_command("", command="/quota", response_url=h.fake.response_url()))
    (reply,) = await h.wait(h.ephemerals)
    assert "daily image limit: 3 images of 3 images left" in (reply.text or "")


async def test_reroll_runs_the_job_again_and_unknown_job_is_explained(harness: Harness) -> None:
    fake = harness.fake
    await harness.send(slash_command("a paper boat --q low", response_url=fake.response_url()))
    controls = (await harness.wait(harness.controls))[0]
    value = button(controls, "reroll")["value"]
    await harness.send(block_actions("reroll", value, response_url=fake.response_url()))
    await harness.wait(lambda: len(harness.controls()) == 2)
    first, second = harness.gateway.calls_to("/v1/images/generations")
    assert first.params["prompt"] == second.params["prompt"] == "a paper boat"
    assert second.params["quality"] == "low"

    await harness.send(block_actions("reroll", "999999", response_url=fake.response_url()))
    (hint,) = await harness.wait(harness.ephemerals)
    assert "no longer valid" in (hint.text or "")


async def test_admin_commands_only_for_admins(harness: Harness) -> None:
    fake = harness.fake

    async def admin(text: str, user: str = ADMIN_ID) -> str:
        before = len(harness.ephemerals())
        await harness.send(
            slash_command(
                text, command="/imagine-admin", user_id=user, response_url=fake.response_url()
            )
        )
        await harness.wait(lambda: len(harness.ephemerals()) > before)
        return harness.ephemerals()[-1].text or ""

    assert "Only Pixelsmith admins" in await admin("ban <@U0USER001>", user=USER_ID)
    assert "/imagine-admin `limits" in await admin("frobnicate")
    assert "is not a user" in await admin("ban nobody")
    assert "can no longer generate" in await admin(f"ban <@{USER_ID}|alice> spam")
    assert "already banned" in await admin(f"ban {USER_ID}")

    await harness.send(slash_command("a cat", response_url=fake.response_url()))
    await harness.wait(lambda: "not allowed" in (harness.ephemerals()[-1].text or ""))
    assert "can generate images again" in await admin(f"unban <@{USER_ID}>")

    assert "user_daily_images=1" in await admin(f"limits <@{USER_ID}> user_daily_images=1")
    assert "Cannot set" in await admin(f"limits <@{USER_ID}> daily=1")
    assert "1 image of 1 image left" in await admin(f"limits <@{USER_ID}>")
    assert "Granted 2 images" in await admin(f"grant <@{USER_ID}> 2")
    assert "not a valid grant" in await admin(f"grant <@{USER_ID}> lots")
    assert "No charged jobs" in await admin("usage")
    assert harness.gateway.calls == []
    assert "spend chart" in await admin("chart model 7")
    (chart,) = [u for u in fake.uploads if u.filename == "pixelsmith-spend.png"]
    assert chart.data[:8] == b"\x89PNG\r\n\x1a\n" and chart.channel


async def test_chinese_locale_from_users_info(harness: Harness) -> None:
    harness.fake.add_user(USER_ID, "li", locale="zh-CN")
    await harness.send(slash_command("a fox --zoom 2", response_url=harness.fake.response_url()))
    (hint,) = await harness.wait(harness.ephemerals)
    assert "未知参数 --zoom" in (hint.text or "")
    assert harness.fake.calls_of("users.info")[0].params["include_locale"] in ("1", "true", True)


async def test_first_imagine_starts_before_users_info_and_answers_in_chinese(
    harness: Harness,
) -> None:
    harness.fake.add_user(USER_ID, "li", locale="zh-CN")
    client = harness.adapter.bot.client
    users_info = client.users_info

    async def after_the_upstream_call(**kw: Any) -> Any:
        # users.info answers only once the job has reached the gateway: the claim did not wait.
        await harness.until(lambda: harness.gateway.calls_to("/v1/images/generations"))
        return await users_info(**kw)

    client.users_info = after_the_upstream_call  # type: ignore[method-assign]
    await harness.send(slash_command("a fox", response_url=harness.fake.response_url()))
    (controls,) = await harness.wait(harness.controls)
    await harness.settle()
    assert len(harness.fake.calls_of("users.info")) == 1
    (progress,) = harness.posts()
    assert "由 <@" in (progress.text or "") and "requested by" not in (progress.text or "")
    assert (
        "由 <@" in (controls.text or "")
        and button(controls, "reroll")["text"]["text"] == "重新生成"
    )
    comment = harness.fake.uploads[0].initial_comment or ""
    assert "费用" in comment and "Cost" not in comment
    assert harness.ephemerals() == []


async def test_unexpected_failure_still_replies(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.fake.fail_next("views.open", "internal_error")
    with caplog.at_level(logging.ERROR, logger="pixelsmith.incident"):
        await harness.send(
            slash_command("", command="/imagine-edit", response_url=harness.fake.response_url())
        )
        (hint,) = await harness.wait(harness.ephemerals)
    # the traceback is logged once, under the incident id the user is shown
    [record] = [r for r in caplog.records if r.name == "pixelsmith.incident"]
    assert record.exc_info is not None
    incident = record.getMessage().split()[1].rstrip(":")
    assert hint.text == messages.text("error.incident", incident=incident)


async def test_upload_refused_by_slack_is_explained(harness: Harness) -> None:
    harness.fake.fail_next("files.completeUploadExternal", "not_in_channel")
    await harness.send(slash_command("a kite", response_url=harness.fake.response_url()))
    (hint,) = await harness.wait(harness.ephemerals)
    assert "not_in_channel" in (hint.text or "") and "charged" in (hint.text or "")
    await harness.settle()
    assert harness.controls() == []
