"""Know you can deliver before you pay; deliver what was paid for, or say so plainly.

Permissions come from the interaction's ``app_permissions``; upload failures are scripted in the
fake (transient ones are retried, permanent ones get the honest sentence); a deleted thinking
message or a 10008 on the ephemeral follow-up still reaches the requester."""

from __future__ import annotations

from typing import Any

import discord

from bots.discord.app import DiscordAdapter
from bots.discord.delivery import Retry
from core.types import Identity
from tests.discord.conftest import WAIT, SettingsFactory, final, running_bot
from tests.fakes import discord_payloads as P
from tests.fakes.discord import FakeDiscord, MessageEvent
from tests.fakes.gateway import ERRORS, Behavior, FakeGateway

FAST = Retry(base_s=0.01, cap_s=0.05)


def without(*flags: str) -> str:
    perms = discord.Permissions(int(P.DEFAULT_APP_PERMISSIONS))
    perms.update(**dict.fromkeys(flags, False))
    return str(perms.value)


async def run(fake: FakeDiscord, payload: dict[str, Any]) -> MessageEvent:
    await fake.dispatch("INTERACTION_CREATE", payload)
    msg: MessageEvent = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    return msg


def alice(fake: FakeDiscord) -> Identity:
    return Identity(platform="discord", user_id=fake.context().user_id, community_id=fake.guild_id)


async def test_no_attach_files_is_refused_before_paying(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    ctx = fake.context(app_permissions=without("attach_files"))
    answer = await run(fake, P.slash_command(ctx, "imagine", options={"prompt": "a fox"}))
    assert answer.kind == "response" and answer.ephemeral
    assert "give me Attach Files in this channel" in (answer.content or "")
    assert "Nothing was charged" in (answer.content or "")
    assert gateway.calls == [] and [c.type for c in fake.callbacks] == [4]
    assert await bot.service.history(alice(fake)) == []


async def test_no_send_messages_in_a_server_channel_is_refused_too(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    ctx = fake.context(app_permissions=without("send_messages", "attach_files"))
    answer = await run(fake, P.slash_command(ctx, "imagine", options={"prompt": "a fox"}))
    assert "Send Messages, Attach Files" in (answer.content or "") and gateway.calls == []


async def test_a_transient_upload_failure_is_retried(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    async with running_bot(discord_settings(), retry=FAST) as bot:
        fake.fail_next(503, 0, "Service Unavailable", uploads_only=True, times=2)
        msg = await run(fake, P.slash_command(fake.context(), "imagine", options={"prompt": "a"}))
        assert msg.files and not msg.ephemeral
        assert len(gateway.calls) == 1
        [job] = await bot.service.history(alice(fake))
        assert job.state == "SUCCEEDED"


async def test_upload_500_then_success(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    async with running_bot(discord_settings(), retry=FAST):
        fake.fail_next(500, 0, "Internal Server Error", uploads_only=True)
        msg = await run(fake, P.slash_command(fake.context(), "imagine", options={"prompt": "a"}))
        assert msg.files and len(gateway.calls) == 1


async def test_missing_permissions_after_paying_says_made_and_charged(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    async with running_bot(discord_settings(), retry=FAST) as bot:
        fake.fail_next(403, 50013, "Missing Permissions", uploads_only=True, times=50)
        msg = await run(fake, P.slash_command(fake.context(), "imagine", options={"prompt": "a"}))
        text = msg.content or ""
        assert msg.ephemeral and "was made and charged" in text and "missing a permission" in text
        assert "Something went wrong" not in text and "try again" not in text.lower()
        assert len(gateway.calls) == 1
        [job] = await bot.service.history(alice(fake))
        assert job.state == "SUCCEEDED" and job.cost_micros > 0


async def test_post_result_puts_a_result_in_the_callers_channel(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    user = fake.context().user_id
    caller = Identity(
        platform="discord",
        user_id=user,
        community_id=fake.guild_id,
        channel_id=fake.channel_id,
        locale="en-US",
    )
    result = await bot.service.run(bot.service.build("a fox", caller, idem_key="web:test:1"))
    assert await bot.post_result(caller, result)
    msg = await fake.wait_for_message(lambda m: m.kind == "channel" and bool(m.files), timeout=WAIT)
    assert f"<@{user}>" in (msg.content or "") and "a fox" in (msg.content or "")
    labels = {b["label"] for row in msg.components for b in row["components"]}
    assert labels == {"Re-roll", "Edit", "Upscale", "Vary (subtle)", "Vary (strong)"}
    assert not await bot.post_result(Identity(platform="discord", user_id=user), result)


async def test_an_ephemeral_followup_refused_with_10008_reaches_the_channel(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    gateway.script(Behavior(error=ERRORS["moderation_blocked"]))
    fake.fail_next(404, 10008, "Unknown Message", method="POST", path_contains="/webhooks/")
    payload = P.slash_command(fake.context(), "imagine", options={"prompt": "a"})
    await fake.dispatch("INTERACTION_CREATE", payload)
    said = await fake.wait_for_message(lambda m: m.kind == "channel", timeout=WAIT)
    assert f"<@{fake.context().user_id}>" in (said.content or "")
    assert "refused" in (said.content or "")


async def test_a_deleted_thinking_message_still_gets_the_result(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    fake.fail_next(
        404, 10008, "Unknown Message", method="PATCH", path_contains="@original", times=100
    )
    payload = P.slash_command(fake.context(), "imagine", options={"prompt": "a"})
    msg = await run(fake, payload)
    assert msg.kind == "followup" and msg.files and not msg.ephemeral
    assert len(gateway.calls) == 1


async def test_previews_stay_within_the_per_file_limit(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    gateway.default = Behavior(event_interval_s=0.05)
    settings = discord_settings(provider={"stream_partials": 2})
    async with running_bot(settings, live_progress=True):
        # The fake gateway's partial images are 256x256 PNGs of about 1.3 KB: a limit below
        # that leaves the preview out (text only); one above it lets the preview through.
        for limit, shown in ((1000, False), (4000, True)):
            ctx = fake.context(attachment_size_limit=limit)
            payload = P.slash_command(ctx, "imagine", options={"prompt": "a lighthouse"})
            await fake.dispatch("INTERACTION_CREATE", payload)
            msg = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
            edits = [
                m
                for m in fake.messages
                if m.kind == "original_edit"
                and m.interaction_token == payload["token"]
                and m.seq < msg.seq
            ]
            previews = [f for m in edits for f in m.files if f.filename == "preview.png"]
            assert edits and bool(previews) is shown, (limit, previews)
            assert all(f.size <= limit for f in previews)
            # nothing was refused as too large on the way (a preview above the limit is 413)
            assert not [r for r in fake.rejections if r.status == 413], fake.rejections


async def test_a_failure_is_said_before_the_thinking_message_is_deleted(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    """Discord can answer 10008 to a follow-up sent after the deferred message was deleted
    (discord-api-docs#2739): the ephemeral sentence goes first, the delete after it."""
    gateway.script(Behavior(error=ERRORS["moderation_blocked"]))
    payload = P.slash_command(fake.context(), "imagine", options={"prompt": "a"})
    said = await run(fake, payload)
    gone = await fake.wait_for_message(lambda m: m.kind == "original_delete", timeout=WAIT)
    assert said.kind == "followup" and said.ephemeral and said.seq < gone.seq
    edits = [m for m in fake.messages if m.kind == "original_edit" and m.seq < said.seq]
    assert all("refused" not in (m.content or "") for m in edits)  # the reason stays private


async def test_a_paid_result_refused_by_discord_is_handed_over_again_for_free(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    async with running_bot(discord_settings(), retry=FAST) as bot:
        fake.fail_next(403, 50013, "Missing Permissions", uploads_only=True)  # permanent: no retry
        told = await run(fake, P.slash_command(fake.context(), "imagine", options={"prompt": "a"}))
        assert "was made and charged" in (told.content or "") and "/history" in (told.content or "")
        [job] = await bot.service.history(alice(fake))
        options = {"again": job.public_id}
        again = await run(fake, P.slash_command(fake.context(), "history", options=options))
        assert again.files and not again.ephemeral
        assert len(gateway.calls) == 1  # nothing generated (or charged) again
        assert [j.id for j in await bot.service.history(alice(fake))] == [job.id]


async def test_history_again_with_an_unknown_job_is_refused_privately(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    options = {"again": "not-a-job"}
    answer = await run(fake, P.slash_command(fake.context(), "history", options=options))
    assert answer.ephemeral and not answer.files and gateway.calls == []


async def test_history_again_autocompletes_the_callers_recent_images(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    await run(fake, P.slash_command(fake.context(), "imagine", options={"prompt": "a red fox"}))
    [job] = await bot.service.history(alice(fake))
    payload = P.autocomplete(fake.context(), "history", focused="again", value="")
    await fake.dispatch("INTERACTION_CREATE", payload)
    answer = await fake.wait_for_callback(lambda c: c.type == 8, timeout=WAIT)
    [choice] = answer.data["choices"]
    assert choice["value"] == job.public_id and "a red fox" in choice["name"]
    assert len(choice["name"]) <= 100
