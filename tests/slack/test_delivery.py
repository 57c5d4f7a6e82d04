"""Know you can deliver before you pay; deliver what was paid for; say so when Slack will not.

Slack's rules: ``chat.postMessage`` and ``files.completeUploadExternal`` answer ``not_in_channel``
when the bot is not a member (https://api.slack.com/methods/files.completeUploadExternal#errors);
``conversations.info`` tells membership (``is_member``).
"""

from __future__ import annotations

from typing import Any

from core.types import GeneratedImage, ImageResult
from tests.fakes.slack_requests import BOT_USER_ID, CHANNEL_ID, USER_ID, slash_command
from tests.slack.conftest import Harness, png


async def jobs(harness: Harness) -> list[Any]:
    return list(
        await harness.service.history(await harness.adapter.bot.identity(USER_ID, None, None))
    )


async def imagine(harness: Harness, prompt: str = "a fox") -> None:
    reply = await harness.send(slash_command(prompt, response_url=harness.fake.response_url()))
    assert reply.status == 200


async def test_channel_the_bot_is_not_in_gets_invite_me_and_no_charge(harness: Harness) -> None:
    harness.fake.add_channel(CHANNEL_ID, "art", is_member=False)
    await imagine(harness)
    (hint,) = await harness.wait(harness.ephemerals)
    await harness.settle()
    assert hint.user == USER_ID
    assert f"/invite <@{BOT_USER_ID}>" in (hint.text or "") and "Nothing was charged" in (
        hint.text or ""
    )
    assert harness.gateway.calls == [] and harness.fake.uploads == []
    assert await jobs(harness) == []


async def test_membership_is_checked_once_then_remembered(harness: Harness) -> None:
    await imagine(harness, "one")
    await harness.wait(harness.controls)
    await imagine(harness, "two")
    await harness.wait(lambda: len(harness.controls()) == 2)
    await harness.settle()
    assert len(harness.fake.calls_of("conversations.info")) == 1
    methods = [c.method for c in harness.fake.calls]
    assert methods.index("conversations.info") < methods.index("files.completeUploadExternal")


async def test_membership_unknown_lets_the_job_go_on(harness: Harness) -> None:
    harness.fake.fail_next("conversations.info", "missing_scope")
    await imagine(harness)
    await harness.wait(harness.controls)
    assert len(harness.fake.uploads) == 1


async def test_transient_upload_failures_are_retried(harness: Harness) -> None:
    fake = harness.fake
    fake.fail_next("files.completeUploadExternal", "internal_error", times=2)
    fake.fail_next("upload_url", "upstream connect error", status=503)
    await imagine(harness)
    await harness.wait(harness.controls)
    await harness.settle()
    assert len(fake.uploads) == 1 and harness.ephemerals() == []
    assert len(harness.gateway.calls_to("/v1/images/generations")) == 1  # paid once
    assert len(await jobs(harness)) == 1


async def test_permanent_failure_says_made_and_charged(harness: Harness) -> None:
    fake = harness.fake
    fake.fail_next("files.completeUploadExternal", "not_in_channel")
    await imagine(harness)
    (hint,) = await harness.wait(harness.ephemerals)
    await harness.settle()
    text = hint.text or ""
    (job,) = await jobs(harness)
    assert job.state.value == "SUCCEEDED" and job.cost_micros > 0
    assert f"made and charged (${job.cost_usd:.4f})" in text
    assert "not_in_channel" in text
    assert len(fake.calls_of("files.completeUploadExternal")) == 1  # not retried
    assert harness.controls() == []  # the progress message did not become a result
    # Slack said we are not in the channel: the next job asks again
    await imagine(harness, "again")
    await harness.wait(harness.controls)
    assert len(fake.calls_of("conversations.info")) == 2


async def test_transient_failure_that_never_ends_gives_up_and_tells(harness: Harness) -> None:
    fake = harness.fake
    fake.fail_next("files.completeUploadExternal", "service_unavailable", times=10)
    await imagine(harness)
    (hint,) = await harness.wait(harness.ephemerals)
    await harness.settle()
    assert "made and charged" in (hint.text or "")
    attempts = 1 + len(harness.adapter.bot.delivery_backoff_s)
    assert len(fake.calls_of("files.completeUploadExternal")) == attempts


async def test_post_result_delivers_into_the_identity_channel(harness: Harness) -> None:
    await imagine(harness, "a moth")
    await harness.wait(harness.controls)
    await harness.settle()
    identity = await harness.adapter.bot.identity(USER_ID, None, CHANNEL_ID)
    request = harness.service.build("a moth", identity)
    result = ImageResult(job_id=1, request=request, images=(GeneratedImage(png()),), cost_micros=0)
    assert await harness.adapter.post_result(identity, result) is True
    assert len(harness.fake.uploads) == 2 and len(harness.controls()) == 2
    nowhere = await harness.adapter.bot.identity(USER_ID, None, None)
    assert await harness.adapter.post_result(nowhere, result) is False
