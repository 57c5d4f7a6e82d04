"""Links to the web companion from Discord: the "Edit region" button under results (only while
the web is on), /gallery and /pixelsmith-admin dashboard — always ephemeral, bound to the clicker
in the server and channel the click came from, and checked like every other button."""

from __future__ import annotations

import re
from typing import Any

from bots.web.links import Signer
from core import messages
from core.types import Identity
from tests.discord.conftest import WAIT, SettingsFactory, final, running_bot
from tests.fakes import discord_payloads as P
from tests.fakes.discord import FakeDiscord, MessageEvent

SECRET = "discord-web-secret-0123456789abcdefghij"
WEB = {"web": {"port": 8088, "secret_key": SECRET, "public_url": "https://px.example.org"}}
LINK = re.compile(r"https://px\.example\.org/l/(\S+)")


async def imagine(fake: FakeDiscord, ctx: P.InteractionContext, prompt: str) -> MessageEvent:
    payload = P.slash_command(ctx, "imagine", options={"prompt": prompt})
    await fake.dispatch("INTERACTION_CREATE", payload)
    msg: MessageEvent = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    return msg


def custom_ids(msg: MessageEvent) -> list[str]:
    return [c["custom_id"] for row in msg.components for c in row["components"]]


async def answer(fake: FakeDiscord, payload: dict[str, Any]) -> MessageEvent:
    await fake.dispatch("INTERACTION_CREATE", payload)
    msg: MessageEvent = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    return msg


def grant_in(text: str | None) -> Any:
    found = LINK.search(text or "")
    assert found is not None, text
    grant = Signer(SECRET).open("link", found[1])
    assert grant is not None
    return grant


async def test_edit_region_gives_the_clicker_a_private_link_for_this_channel(
    fake: FakeDiscord, discord_settings: SettingsFactory
) -> None:
    async with running_bot(discord_settings(**WEB)) as bot:
        ctx = fake.context()
        result = await imagine(fake, ctx, "a harbour")
        region = [c for c in custom_ids(result) if c.startswith("px:region:")]
        assert len(region) == 1
        bob = ctx.with_user(200000000000000002, "bob")
        click = P.component_click(bob, region[0], fake.stored_messages[result.message_id])
        await fake.dispatch("INTERACTION_CREATE", click)
        callback = await fake.wait_for_callback(
            lambda c: c.interaction_id == click["id"], timeout=WAIT
        )
        assert callback.type == 4 and callback.ephemeral  # private, and no job ran
        grant = grant_in(callback.data.get("content"))
        [job] = await bot.service.history(Identity("discord", ctx.user_id, ctx.guild_id))
        assert grant.purpose == "edit" and grant.job == job.public_id  # never the row id
        assert (grant.user_id, grant.community_id) == (bob.user_id, bob.guild_id)
        assert grant.channel_id == bob.channel_id and grant.admin is False
        assert "15 minutes" in callback.data["content"]


async def test_no_edit_region_button_while_the_web_is_off(
    fake: FakeDiscord, discord_settings: SettingsFactory
) -> None:
    async with running_bot(discord_settings()):
        result = await imagine(fake, fake.context(), "a harbour")
        assert not [c for c in custom_ids(result) if c.startswith("px:region:")]
        gallery = await answer(fake, P.slash_command(fake.context(), "gallery"))
        assert gallery.ephemeral
        assert gallery.content == messages.text("discord.web.off")


async def test_edit_region_from_another_server_is_no_longer_valid(
    fake: FakeDiscord, discord_settings: SettingsFactory
) -> None:
    async with running_bot(discord_settings(**WEB)):
        result = await imagine(fake, fake.context(), "a harbour")
        [region] = [c for c in custom_ids(result) if c.startswith("px:region:")]
        other_guild = fake.add_guild("elsewhere")
        other = fake.add_channel(other_guild, "general")
        stranger = fake.context(guild_id=other_guild, channel_id=other).with_user(3003, "eve")
        message = dict(fake.stored_messages[result.message_id], channel_id=other)
        click = P.component_click(stranger, region, message)
        await fake.dispatch("INTERACTION_CREATE", click)
        callback = await fake.wait_for_callback(
            lambda c: c.interaction_id == click["id"], timeout=WAIT
        )
        assert callback.ephemeral and LINK.search(str(callback.data)) is None


async def test_gallery_and_dashboard_links(
    fake: FakeDiscord, discord_settings: SettingsFactory
) -> None:
    async with running_bot(discord_settings(**WEB)):
        ctx = fake.context()
        gallery = await answer(fake, P.slash_command(ctx, "gallery"))
        assert gallery.ephemeral
        grant = grant_in(gallery.content)
        assert grant.purpose == "gallery" and grant.admin is False
        assert grant.community_id == ctx.guild_id and grant.channel_id == ctx.channel_id

        denied = await answer(
            fake, P.slash_command(ctx, "pixelsmith-admin", subcommand="dashboard")
        )
        assert denied.ephemeral and denied.content == messages.text("discord.admin.denied")

        admin = fake.context(permissions=P.ADMINISTRATOR)
        dashboard = await answer(
            fake, P.slash_command(admin, "pixelsmith-admin", subcommand="dashboard")
        )
        assert dashboard.ephemeral
        grant = grant_in(dashboard.content)
        assert grant.purpose == "dashboard" and grant.admin is True
        assert grant.community_id == admin.guild_id
