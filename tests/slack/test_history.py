"""/imagine-history: a paid-for image handed over again, free, from the result store — only
the caller's own jobs in the workspace they ask from."""

from __future__ import annotations

from typing import Any

from tests.fakes.slack_requests import USER_ID, block_actions, slash_command
from tests.slack.conftest import Harness
from tests.slack.test_tenancy import from_other_team


async def history(harness: Harness, text: str = "", **fields: Any) -> Any:
    before, uploads = len(harness.ephemerals()), len(harness.fake.uploads)
    await harness.send(
        slash_command(
            text, command="/imagine-history", response_url=harness.fake.response_url(), **fields
        )
    )
    await harness.wait(
        lambda: len(harness.ephemerals()) > before or len(harness.fake.uploads) > uploads
    )
    await harness.settle()
    return harness.ephemerals()[-1] if len(harness.ephemerals()) > before else None


async def made(harness: Harness, prompt: str = "a red kite") -> Any:
    await harness.send(slash_command(prompt, response_url=harness.fake.response_url()))
    await harness.wait(harness.controls)
    await harness.settle()
    identity = await harness.adapter.bot.identity(USER_ID, "T0FAKE001", None)
    (job,) = await harness.service.history(identity)
    return job


async def test_history_lists_jobs_with_a_deliver_again_button(harness: Harness) -> None:
    job = await made(harness)
    listing = await history(harness)
    assert listing is not None and "a red kite" in (listing.text or "")
    (row,) = [b for b in listing.blocks or [] if "accessory" in b]
    assert row["accessory"]["action_id"] == "redeliver"
    assert row["accessory"]["value"] == job.public_id
    calls = len(harness.gateway.calls)
    await harness.send(
        block_actions(
            "redeliver", job.public_id, block_id="x", response_url=harness.fake.response_url()
        )
    )
    await harness.wait(lambda: len(harness.fake.uploads) == 2)
    await harness.settle()
    again = harness.fake.uploads[1]
    assert again.data == harness.fake.uploads[0].data  # the same image, from the store
    assert "free" in (again.initial_comment or "").lower()
    assert len(harness.gateway.calls) == calls  # nothing sent upstream, nothing charged


async def test_history_with_a_job_id_and_from_another_workspace(harness: Harness) -> None:
    job = await made(harness)
    assert await history(harness, job.public_id) is None  # delivered: no hint
    assert len(harness.fake.uploads) == 2
    click = block_actions(
        "redeliver", job.public_id, block_id="x", response_url=harness.fake.response_url()
    )
    await harness.send(from_other_team(click))
    (hint,) = await harness.wait(lambda: harness.ephemerals()[-1:])
    await harness.settle()
    assert len(harness.fake.uploads) == 2 and "MALLORY" not in (hint.text or "")
    assert job.public_id in (hint.text or "") or "no longer valid" in (hint.text or "")


async def test_a_failed_upload_says_how_to_get_it_again(harness: Harness) -> None:
    harness.fake.fail_next("files.completeUploadExternal", "not_in_channel")
    await harness.send(slash_command("a vase", response_url=harness.fake.response_url()))
    (hint,) = await harness.wait(harness.ephemerals)
    await harness.settle()
    identity = await harness.adapter.bot.identity(USER_ID, "T0FAKE001", None)
    (job,) = await harness.service.history(identity)
    assert f"/imagine-history {job.public_id}" in (hint.text or "")
    assert await history(harness, job.public_id) is None
    assert len(harness.fake.uploads) == 1  # the re-delivery is the only upload that worked
