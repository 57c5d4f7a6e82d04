"""Two servers in one deployment: an admin of server B has no power in server A.

Each attack of the trust-boundary issue, replayed against the real adapter: an override, a ban
and a grant given in B do not reach A; B's usage, chart and audit show nothing of A."""

from __future__ import annotations

from typing import Any

from bots.discord.app import DiscordAdapter
from core import messages
from tests.discord.conftest import WAIT, SettingsFactory, final, running_bot
from tests.fakes import discord_payloads as P
from tests.fakes.discord import FakeDiscord, MessageEvent
from tests.fakes.gateway import FakeGateway

ALICE = "100000000000000001"  # the fake's default user
MALLORY = "300000000000000003"


async def run(fake: FakeDiscord, payload: dict[str, Any]) -> MessageEvent:
    await fake.dispatch("INTERACTION_CREATE", payload)
    msg: MessageEvent = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    return msg


def server_b(fake: FakeDiscord) -> P.InteractionContext:
    """Mallory, Administrator of her own server B."""
    guild = fake.add_guild("Mallory's server")
    channel = fake.add_channel(guild, "general")
    return fake.context(guild_id=guild, channel_id=channel, permissions=P.ADMINISTRATOR).with_user(
        MALLORY, "mallory"
    )


def admin(ctx: P.InteractionContext, sub: str, **options: Any) -> dict[str, Any]:
    opts = [P.option(k, v, type=6) if k == "user" else P.option(k, v) for k, v in options.items()]
    return P.slash_command(ctx, "pixelsmith-admin", subcommand=sub, options=opts)


async def imagine(fake: FakeDiscord, ctx: P.InteractionContext, prompt: str) -> MessageEvent:
    return await run(fake, P.slash_command(ctx, "imagine", options={"prompt": prompt}))


async def test_an_override_given_in_b_does_not_reach_a(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    async with running_bot(discord_settings(quota={"user_daily_images": 1})):
        b = server_b(fake)
        done = await run(
            fake, admin(b, "limits", limit="user_daily_images", value="unlimited", user=MALLORY)
        )
        assert done.ephemeral
        mallory_in_a = fake.context().with_user(MALLORY, "mallory")
        assert (await imagine(fake, mallory_in_a, "one")).files
        second = await imagine(fake, mallory_in_a, "two")
        assert second.ephemeral and "daily image limit" in (second.content or "")
        assert len(gateway.calls) == 1


async def test_a_ban_given_in_b_does_not_reach_a(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    b = server_b(fake)
    banned = await run(fake, admin(b, "ban", user=ALICE))
    assert banned.ephemeral and f"<@{ALICE}>" in (banned.content or "")
    assert (await imagine(fake, fake.context(), "in A")).files  # Alice in A: not banned
    alice_in_b = b.with_user(ALICE, "alice", permissions=P.DEFAULT_MEMBER_PERMISSIONS)
    refused = await imagine(fake, alice_in_b, "in B")
    assert refused.content == messages.text("quota.banned")


async def test_usage_and_audit_in_b_show_nothing_of_a(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    assert (await imagine(fake, fake.context(), "alice's fox")).files
    a_admin = fake.context(permissions=P.ADMINISTRATOR).with_user("400000000000000004", "ann")
    await run(fake, admin(a_admin, "ban", user="200000000000000002"))
    b = server_b(fake)
    for by in ("user", "community", "model"):
        usage = await run(fake, admin(b, "usage", by=by))
        text = usage.content or ""
        assert fake.guild_id not in text and ALICE not in text and "fox" not in text
        empty = messages.text("discord.admin.usage_empty", since="SINCE").split("SINCE")[0]
        assert text.startswith(empty)
    audit = await run(fake, admin(b, "audit"))
    assert audit.content == messages.text("discord.admin.audit_empty")
    own = await run(fake, admin(a_admin, "audit"))
    assert "200000000000000002" in (own.content or "") and MALLORY not in (own.content or "")
