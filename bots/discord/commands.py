"""The application commands: /imagine, /edit, /quota, /history and the "Edit image" menu.

Descriptions and choice names are ``locale_str`` keys of core.messages; :class:`Translator`
turns them into Discord's ``*_localizations`` (Chinese for zh-CN and zh-TW) at sync time.
Handlers only translate options into core's :class:`Options` and hand over to ``Actions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str

from core import messages
from core.request import Options

if TYPE_CHECKING:
    from bots.discord.app import DiscordAdapter

Choice = app_commands.Choice
AUTOCOMPLETE_LIMIT = 25
ASPECTS = ("1:1", "2:3", "3:2", "16:9", "9:16", "4:3", "3:4")


def t(key: str) -> locale_str:
    """An English string Discord shows by default, with its key for the translator."""
    return locale_str(messages.text(key, "en"), key=key)


class Translator(app_commands.Translator):
    async def translate(
        self,
        string: locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("key")
        if key is None or messages.lang(locale.value) != "zh":
            return None
        return messages.text(key, "zh")


def _choices(*values: str) -> list[Choice[str]]:
    return [Choice(name=t(f"discord.choice.{v}"), value=v) for v in values]


ASPECT_CHOICES = [Choice(name=a, value=a) for a in ASPECTS] + _choices("auto")
QUALITY_CHOICES = _choices("low", "medium", "high", "auto")
BACKGROUND_CHOICES = _choices("transparent", "opaque", "auto")


def _value(choice: Choice[Any] | None) -> Any:
    return None if choice is None else choice.value


def build_commands(adapter: DiscordAdapter) -> list[Any]:
    """Every command object, ready for ``tree.add_command``."""
    from bots.discord.admin import build_admin_group

    actions = adapter.actions

    async def models(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        names = adapter.service.catalog.names(enabled_only=True)
        found = [n for n in names if current.lower() in n.lower()]
        return [Choice(name=n, value=n) for n in found[:AUTOCOMPLETE_LIMIT]]

    @app_commands.command(name="imagine", description=t("discord.cmd.imagine"))
    @app_commands.describe(
        prompt=t("discord.opt.prompt"),
        aspect=t("discord.opt.aspect"),
        quality=t("discord.opt.quality"),
        n=t("discord.opt.n"),
        model=t("discord.opt.model"),
        background=t("discord.opt.background"),
    )
    @app_commands.choices(
        aspect=ASPECT_CHOICES, quality=QUALITY_CHOICES, background=BACKGROUND_CHOICES
    )
    @app_commands.autocomplete(model=models)
    async def imagine(
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, 4000],
        aspect: Choice[str] | None = None,
        quality: Choice[str] | None = None,
        n: app_commands.Range[int, 1, 10] | None = None,
        model: str | None = None,
        background: Choice[str] | None = None,
    ) -> None:
        options = Options(
            model=model,
            aspect=_value(aspect),
            quality=_value(quality),
            n=n,
            background=_value(background),
        )
        await actions.imagine(interaction, prompt, options)

    @app_commands.command(name="edit", description=t("discord.cmd.edit"))
    @app_commands.describe(
        prompt=t("discord.opt.edit_prompt"),
        image=t("discord.opt.image"),
        image2=t("discord.opt.image_more"),
        image3=t("discord.opt.image_more"),
        image4=t("discord.opt.image_more"),
        mask=t("discord.opt.mask"),
        model=t("discord.opt.model"),
        quality=t("discord.opt.quality"),
    )
    @app_commands.choices(quality=QUALITY_CHOICES)
    @app_commands.autocomplete(model=models)
    async def edit(
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, 4000],
        image: discord.Attachment,
        image2: discord.Attachment | None = None,
        image3: discord.Attachment | None = None,
        image4: discord.Attachment | None = None,
        mask: discord.Attachment | None = None,
        model: str | None = None,
        quality: Choice[str] | None = None,
    ) -> None:
        files = [a for a in (image, image2, image3, image4) if a is not None]
        options = Options(model=model, quality=_value(quality))
        await actions.edit(interaction, prompt, files, mask, options)

    @app_commands.command(name="quota", description=t("discord.cmd.quota"))
    async def quota(interaction: discord.Interaction) -> None:
        await actions.quota(interaction)

    @app_commands.command(name="history", description=t("discord.cmd.history"))
    async def history(interaction: discord.Interaction) -> None:
        await actions.history(interaction)

    @app_commands.context_menu(name=t("discord.cmd.edit_menu"))
    async def edit_menu(interaction: discord.Interaction, message: discord.Message) -> None:
        await actions.edit_menu(interaction, message)

    return [imagine, edit, quota, history, edit_menu, build_admin_group(adapter)]
