"""Ephemeral answers (/quota, /history, admin): defer ephemerally, then one sentence, in the
member's language setting (/settings) where one is set."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import discord

from bots.discord import render
from bots.discord.identity import identity_of, locale_of
from bots.discord.reply import Reply, tell
from core import incidents, messages
from core.config import Settings
from core.errors import PixelsmithError
from core.service import ImageService
from core.types import Identity

log = logging.getLogger("pixelsmith.discord")

Work = Callable[[Identity], Awaitable[str]]


class Answers:
    def __init__(self, settings: Settings, service: ImageService | None = None) -> None:
        self.settings = settings
        self.service = service  # for the member's language setting (/settings)

    async def answer(
        self, interaction: discord.Interaction, work: Work, *, admin_only: bool = False
    ) -> None:
        """Defer ephemerally, then answer with ``work``'s text (or the failure's)."""
        locale = locale_of(interaction)
        reply = Reply(interaction, locale)
        if not await reply.defer(ephemeral=True):
            return
        identity = identity_of(interaction, self.settings)
        try:
            if self.service is not None:
                identity, _ = await self.service.localized(identity)
                locale = identity.locale
            if admin_only and not identity.is_admin:
                text = messages.text("discord.admin.denied", locale)
            else:
                text = await work(identity)
        except PixelsmithError as exc:
            text = render.failure(exc, locale, admin=identity.is_admin)
        except Exception as exc:
            text = incidents.incident_text(exc, locale, "a Discord command")
        await tell(reply, text)
