"""Refusals with their hint and buttons, quotas, /quota, /history, the admin permission check,
and the command tree's error handler (every failure replies)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bots.discord.app import DiscordAdapter
from bots.discord.cogs.account import AccountCog
from core import messages
from core.types import Identity
from tests.discord.conftest import WAIT, SettingsFactory, final, running_bot
from tests.fakes import discord_payloads as P
from tests.fakes.discord import FakeDiscord, MessageEvent
from tests.fakes.gateway import ERRORS, Behavior, FakeGateway

MIYAZAKI = "a quiet forest village in the style of Hayao Miyazaki"


async def run(fake: FakeDiscord, payload: dict[str, Any]) -> MessageEvent:
    await fake.dispatch("INTERACTION_CREATE", payload)
    msg: MessageEvent = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    return msg


def buttons(msg: MessageEvent) -> dict[str, str]:
    return {b["label"]: b["custom_id"] for row in msg.components for b in row["components"]}


async def press(fake: FakeDiscord, msg: MessageEvent, custom_id: str) -> MessageEvent:
    return await run(fake, P.component_click(fake.context(), custom_id, msg.message))


async def test_preflight_refusal_send_anyway_upstream_refusal_then_suggestion(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    refused = await run(
        fake, P.slash_command(fake.context(), "imagine", options={"prompt": MIYAZAKI})
    )
    assert refused.ephemeral and "Hayao Miyazaki" in (refused.content or "")
    assert "nothing was charged" in (refused.content or "") and gateway.calls == []
    assert set(buttons(refused)) == {"Use suggested prompt", "Send anyway"}

    gateway.script(Behavior(error=ERRORS["moderation_blocked_details"]))
    upstream = await press(fake, refused, buttons(refused)["Send anyway"])
    assert upstream.ephemeral and "safety system refused" in (upstream.content or "")
    assert "still billed" in (upstream.content or "") and "Try:" in (upstream.content or "")
    assert set(buttons(upstream)) == {"Use suggested prompt"}
    [sent] = gateway.calls_to("/v1/images/generations")
    assert sent.json["prompt"] == MIYAZAKI

    done = await press(fake, upstream, buttons(upstream)["Use suggested prompt"])
    assert done.files and not done.ephemeral
    last = gateway.calls_to("/v1/images/generations")[-1].json["prompt"]
    assert "Miyazaki" not in last and "forest village" in last


async def test_expired_suggestion_button(fake: FakeDiscord, bot: DiscordAdapter) -> None:
    button = {
        "type": 2,
        "style": 3,
        "label": "Use suggested prompt",
        "custom_id": "px:suggest:000000000000000000000000000000aa",
    }
    msg = P.message_object(
        channel_id=fake.channel_id,
        author=fake.bot_user,
        content="old",
        components=[{"type": 1, "components": [button]}],
    )
    payload = P.component_click(fake.context(), "px:suggest:000000000000000000000000000000aa", msg)
    await fake.dispatch("INTERACTION_CREATE", payload)
    answer = await fake.wait_for_message(lambda m: m.kind == "response", timeout=WAIT)
    assert answer.ephemeral and answer.content == messages.text("discord.expired_button")


async def test_quota_exhausted_is_ephemeral_with_a_discord_timestamp(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    async with running_bot(discord_settings(quota={"user_daily_images": 1})):
        ok = await run(fake, P.slash_command(fake.context(), "imagine", options={"prompt": "a"}))
        assert ok.files and "1 images" not in (ok.content or "")
        assert "Left: 0 images today" in (ok.content or "")
        over = await run(fake, P.slash_command(fake.context(), "imagine", options={"prompt": "b"}))
        assert over.ephemeral and "daily image limit" in (over.content or "")
        assert "<t:" in (over.content or "") and ":R>" in (over.content or "")
        assert len(gateway.calls) == 1


async def test_quota_and_history_commands(
    fake: FakeDiscord, discord_settings: SettingsFactory
) -> None:
    async with running_bot(discord_settings(quota={"user_daily_images": 5})):
        await run(fake, P.slash_command(fake.context(), "imagine", options={"prompt": "a moon"}))
        quota = await run(fake, P.slash_command(fake.context(), "quota"))
        assert quota.ephemeral and quota.kind == "followup"
        assert "daily image limit: 4 images of 5 images left" in (quota.content or "")
        assert "<t:" in (quota.content or "")
        history = await run(fake, P.slash_command(fake.context(), "history"))
        assert history.ephemeral and "a moon" in (history.content or "")
        assert "done" in (history.content or "")
        assert [c.ephemeral for c in fake.callbacks if c.type == 5] == [False, True, True]


async def test_admin_commands_are_checked_in_code(fake: FakeDiscord, bot: DiscordAdapter) -> None:
    bob = "200000000000000002"
    member = fake.context()  # default member permissions: no Manage Server
    denied = await run(
        fake,
        P.slash_command(
            member, "pixelsmith-admin", subcommand="ban", options=[P.option("user", bob, type=6)]
        ),
    )
    assert denied.ephemeral and denied.content == messages.text("discord.admin.denied")
    bob_id = Identity(platform="discord", user_id=bob, community_id=fake.guild_id)  # a member ban
    assert not (await bot.service.quota_status(bob_id)).banned

    admin = fake.context(permissions=P.ADMINISTRATOR)
    banned = await run(
        fake,
        P.slash_command(
            admin, "pixelsmith-admin", subcommand="ban", options=[P.option("user", bob, type=6)]
        ),
    )
    assert banned.ephemeral and f"<@{bob}>" in (banned.content or "")
    assert (await bot.service.quota_status(bob_id)).banned

    as_bob = fake.context().with_user(bob)
    refused = await run(fake, P.slash_command(as_bob, "imagine", options={"prompt": "hi"}))
    assert refused.ephemeral and refused.content == messages.text("quota.banned")

    limits = await run(
        fake,
        P.slash_command(
            admin,
            "pixelsmith-admin",
            subcommand="limits",
            options=[
                P.option("limit", "user_daily_images"),
                P.option("value", "3"),
                P.option("user", bob, type=6),
            ],
        ),
    )
    assert "3 images" in (limits.content or "")
    usage = await run(fake, P.slash_command(admin, "pixelsmith-admin", subcommand="usage"))
    assert usage.ephemeral and usage.content


async def test_admin_role_from_config(fake: FakeDiscord, discord_settings: SettingsFactory) -> None:
    async with running_bot(discord_settings(discord={"admin_roles": ["555000000000000555"]})):
        unban = [P.option("user", "200000000000000002", type=6)]
        member = fake.context(roles=("444000000000000444",))
        denied = await run(
            fake, P.slash_command(member, "pixelsmith-admin", subcommand="unban", options=unban)
        )
        assert denied.content == messages.text("discord.admin.denied")
        moderator = fake.context(roles=("555000000000000555",))
        allowed = await run(
            fake, P.slash_command(moderator, "pixelsmith-admin", subcommand="unban", options=unban)
        )
        assert allowed.ephemeral and "was not banned" in (allowed.content or "")


async def test_tree_on_error_always_replies(
    fake: FakeDiscord,
    bot: DiscordAdapter,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        async def answer(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("boom: secret detail")

    cog = bot.client.get_cog("AccountCog")
    assert isinstance(cog, AccountCog)
    monkeypatch.setattr(cog, "answers", Broken())
    with caplog.at_level(logging.ERROR, logger="pixelsmith.incident"):
        msg = await run(fake, P.slash_command(fake.context(), "quota"))
    # the traceback is logged once, under the incident id the user is shown
    [record] = [r for r in caplog.records if r.name == "pixelsmith.incident"]
    assert record.exc_info is not None and "boom" in str(record.exc_info[1])
    incident = record.getMessage().split()[1].rstrip(":")
    assert msg.ephemeral and msg.content == messages.text("error.incident", incident=incident)
    assert "boom" not in (msg.content or "")


async def test_upstream_failure_replies_ephemerally(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    gateway.script(Behavior(error=ERRORS["moderation_blocked"]))
    msg = await run(fake, P.slash_command(fake.context(), "imagine", options={"prompt": "x"}))
    assert msg.ephemeral and "refused" in (msg.content or "")
    assert not [m for m in fake.messages if m.kind == "original_edit" and m.files]


async def test_admin_spend_chart_is_posted(fake: FakeDiscord, bot: DiscordAdapter) -> None:
    await run(fake, P.slash_command(fake.context(), "imagine", options={"prompt": "a fox"}))
    admin = fake.context(permissions=P.ADMINISTRATOR)
    chart = await run(fake, P.slash_command(admin, "pixelsmith-admin", subcommand="chart"))
    assert chart.ephemeral
    (png,) = chart.files
    assert png.data[:8] == b"\x89PNG\r\n\x1a\n" and png.width and png.width > 300
    member = await run(
        fake, P.slash_command(fake.context(), "pixelsmith-admin", subcommand="chart")
    )
    assert member.content == messages.text("discord.admin.denied") and not member.files


async def test_admin_limits_and_grants_speak_the_one_limit_language(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    admin = fake.context(permissions=P.ADMINISTRATOR)
    for value in ("inf", "1e309", "-1", "lots"):
        options = [P.option("limit", "user_daily_images"), P.option("value", value)]
        msg = await run(
            fake, P.slash_command(admin, "pixelsmith-admin", subcommand="limits", options=options)
        )
        assert msg.ephemeral and value in (msg.content or "")
        assert "is now" not in (msg.content or "")
    audit = await run(fake, P.slash_command(admin, "pixelsmith-admin", subcommand="audit"))
    assert audit.content == messages.text("discord.admin.audit_empty")  # nothing was stored
