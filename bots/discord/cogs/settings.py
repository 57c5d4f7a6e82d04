"""/settings: the member's own defaults in this server (core/preferences.py), answered
ephemerally. Without options it shows them; each option given changes one (``clear`` resets
one or all). Every value is checked against the catalog by core before anything is stored."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bots.discord import render
from bots.discord.choices import (
    ASPECT_CHOICES,
    BACKGROUND_CHOICES,
    QUALITY_CHOICES,
    Choice,
    choices,
    matching,
    t,
    value_of,
)
from bots.discord.identity import identity_of, locale_of
from bots.discord.reply import Reply, tell
from core import incidents, messages, preferences
from core.config import Settings
from core.errors import PixelsmithError
from core.service import ImageService

FORMAT_CHOICES = choices("png", "jpeg", "webp", "default")
LANGUAGE_CHOICES = [
    Choice(name=t("prefs.language.en"), value="en"),
    Choice(name=t("prefs.language.zh-CN"), value="zh-CN"),
    Choice(name=t("prefs.platform"), value="default"),
]
CLEAR_CHOICES = [Choice(name=t(f"prefs.name.{f}"), value=f) for f in preferences.FIELDS] + choices(
    "all"
)


class SettingsCog(commands.Cog):
    def __init__(self, service: ImageService, settings: Settings) -> None:
        self.service = service
        self.settings = settings

    @app_commands.command(name="settings", description=t("discord.cmd.settings"))
    @app_commands.describe(
        model=t("discord.opt.model"),
        aspect=t("discord.opt.aspect"),
        quality=t("discord.opt.quality"),
        n=t("discord.opt.n"),
        background=t("discord.opt.background"),
        output_format=t("discord.opt.format"),
        private=t("discord.opt.private"),
        language=t("discord.opt.language"),
        remix=t("discord.opt.remix"),
        clear=t("discord.opt.clear"),
    )
    @app_commands.choices(
        aspect=ASPECT_CHOICES,
        quality=QUALITY_CHOICES,
        background=BACKGROUND_CHOICES,
        output_format=FORMAT_CHOICES,
        language=LANGUAGE_CHOICES,
        clear=CLEAR_CHOICES,
    )
    async def settings_command(
        self,
        interaction: discord.Interaction,
        model: app_commands.Range[str, 1, 100] | None = None,
        aspect: Choice[str] | None = None,
        quality: Choice[str] | None = None,
        n: app_commands.Range[int, 1, 10] | None = None,
        background: Choice[str] | None = None,
        output_format: Choice[str] | None = None,
        private: bool | None = None,
        language: Choice[str] | None = None,
        remix: bool | None = None,
        clear: Choice[str] | None = None,
    ) -> None:
        reply = Reply(interaction, locale_of(interaction))
        if not await reply.defer(ephemeral=True):
            return
        identity = identity_of(interaction, self.settings)
        typed: dict[str, str | bool | int | None] = {}
        if clear is not None:
            names = preferences.FIELDS if clear.value == "all" else (clear.value,)
            typed |= {name: None for name in names}
        given = {
            "model": model,
            "size": value_of(aspect),
            "quality": value_of(quality),
            "n": n,
            "background": value_of(background),
            "output_format": value_of(output_format),
            "private": private,
            "language": value_of(language),
            "remix": remix,
        }
        typed |= {name: value for name, value in given.items() if value is not None}
        try:
            if typed:
                await self.service.set_preferences(identity, typed)
            shown, prefs = await self.service.localized(identity)
            text = preferences.summary(prefs, shown.locale)
            if typed:
                text = f"{messages.text('prefs.saved', shown.locale)}\n{text}"
        except PixelsmithError as exc:
            text = render.failure(exc, reply.locale)
        except Exception as exc:
            text = incidents.incident_text(exc, reply.locale, "Discord /settings")
        await tell(reply, text)

    @settings_command.autocomplete("model")
    async def settings_models(
        self, interaction: discord.Interaction, current: str
    ) -> list[Choice[str]]:
        return matching(self.service.catalog.names(enabled_only=True), current)
