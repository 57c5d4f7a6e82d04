"""/imagine end to end: signed slash command -> ack -> progress -> upload with buttons."""

from __future__ import annotations

from tests.fakes.gateway import ERRORS, Behavior
from tests.fakes.slack_requests import CHANNEL_ID, USER_ID, slash_command, stale_timestamp
from tests.slack.conftest import Harness, button


async def test_imagine_uploads_images_with_comment_and_buttons(harness: Harness) -> None:
    fake = harness.fake
    reply = await harness.send(
        slash_command("a red fox --ar 2:3 --n 2", response_url=fake.response_url())
    )
    assert reply.status == 200 and reply.text == ""
    controls = (await harness.wait(harness.controls))[0]
    await harness.settle()

    (call,) = harness.gateway.calls_to("/v1/images/generations")
    assert call.params["prompt"] == "a red fox"
    assert call.params["size"] == "1024x1536" and call.params["n"] == 2
    # Both images in one files_upload_v2 call (one completeUploadExternal), one comment.
    assert len(fake.calls_of("files.completeUploadExternal")) == 1
    assert [u.channel for u in fake.uploads] == [CHANNEL_ID, CHANNEL_ID]
    assert all(u.data.startswith(b"\x89PNG") for u in fake.uploads)
    comment = fake.uploads[0].initial_comment or ""
    assert "a red fox" in comment and f"<@{USER_ID}>" in comment and "Cost: $" in comment
    assert not any(u.upload_token_present for u in fake.uploads)
    # Re-roll and Edit carry the public job id (Edit also the uploaded files).
    job = (await harness.service.history(await harness.adapter.bot.identity(USER_ID, None, None)))[
        0
    ]
    assert button(controls, "reroll")["value"] == job.public_id
    assert button(controls, "edit")["value"] == f"{job.public_id}:" + ",".join(
        u.file_id for u in fake.uploads
    )
    assert job.idem_key.startswith("slack:command:")
    # The progress message was edited in place and finally became the result's header.
    (progress,) = harness.posts()
    assert progress.ts == controls.ts and "a red fox" in (progress.text or "")
    assert fake.deleted == [] and harness.ephemerals() == []


async def test_the_word_payload_in_a_prompt(harness: Harness) -> None:
    reply = await harness.send(
        slash_command("a payload of apples", response_url=harness.fake.response_url())
    )
    assert reply.status == 200
    await harness.wait(harness.controls)
    (call,) = harness.gateway.calls_to("/v1/images/generations")
    assert call.params["prompt"] == "a payload of apples"


async def test_bad_signature_and_stale_timestamp_are_401(harness: Harness) -> None:
    payload = slash_command("a fox", response_url=harness.fake.response_url())
    bad = await harness.send(payload, secret="not-the-secret")
    stale = await harness.send(payload, timestamp=stale_timestamp())
    assert (bad.status, stale.status) == (401, 401)
    await harness.settle()
    assert harness.gateway.calls_to("/v1/images/generations") == []
    assert [c.method for c in harness.fake.calls] == ["auth.test"]  # only our start-up check


async def test_invalid_flag_is_an_ephemeral_hint(harness: Harness) -> None:
    reply = await harness.send(
        slash_command("a fox --zoom 3", response_url=harness.fake.response_url())
    )
    # A failure right after the ack must not undo the ack (Bolt would answer 404 after 3 s).
    assert reply.status == 200
    (hint,) = await harness.wait(harness.ephemerals)
    assert hint.user == USER_ID and hint.channel == CHANNEL_ID
    assert "Unknown flag --zoom" in (hint.text or "")
    assert harness.gateway.calls_to("/v1/images/generations") == []


async def test_upstream_refusal_is_explained_with_the_billing_note(harness: Harness) -> None:
    harness.gateway.script(Behavior(error=ERRORS["moderation_blocked"]))
    await harness.send(slash_command("a calm lake", response_url=harness.fake.response_url()))
    (hint,) = await harness.wait(harness.ephemerals)
    assert "safety system refused" in (hint.text or "")
    assert "still billed" in (hint.text or "")
    assert harness.controls() == []


async def test_preflight_refusal_offers_suggestion_and_send_anyway(harness: Harness) -> None:
    from tests.fakes.slack_requests import block_actions

    fake = harness.fake
    await harness.send(
        slash_command("a castle by Greg Rutkowski --q low", response_url=fake.response_url())
    )
    (hint,) = await harness.wait(harness.ephemerals)
    assert "Not sent" in (hint.text or "")
    assert harness.gateway.calls_to("/v1/images/generations") == []
    suggestion = button(hint, "use_suggestion")
    anyway = button(hint, "send_anyway")

    await harness.send(
        block_actions(
            "use_suggestion",
            suggestion["value"],
            block_id="refusal_actions",
            response_url=fake.response_url(),
        )
    )
    await harness.wait(lambda: len(harness.controls()) == 1)
    first = harness.gateway.calls_to("/v1/images/generations")[0].params
    assert "Rutkowski" not in first["prompt"] and first["quality"] == "low"

    await harness.send(
        block_actions(
            "send_anyway",
            anyway["value"],
            block_id="refusal_actions",
            response_url=fake.response_url(),
        )
    )
    await harness.wait(lambda: len(harness.controls()) == 2)
    second = harness.gateway.calls_to("/v1/images/generations")[1].params
    assert "Greg Rutkowski" in second["prompt"]
    assert fake.responses and fake.responses[0].body.get("delete_original") is True


async def test_quota_refusal_says_when_it_resets(closing: object) -> None:
    h: Harness = await closing(quota={"user_daily_images": 1})  # type: ignore[operator]
    await h.send(slash_command("one", response_url=h.fake.response_url()))
    await h.wait(h.controls)
    await h.send(slash_command("two", response_url=h.fake.response_url()))
    (hint,) = await h.wait(h.ephemerals)
    assert "daily image limit" in (hint.text or "") and "<!date^" in (hint.text or "")
    assert len(h.gateway.calls_to("/v1/images/generations")) == 1
    assert "Left today: 0 images" in (h.fake.uploads[0].initial_comment or "")
