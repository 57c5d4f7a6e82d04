"""Localized command texts and option choices (a leaf module).

Descriptions and choice names are ``locale_str`` keys of core.messages; :class:`Translator`
turns them into Discord's ``*_localizations`` (Chinese for zh-CN and zh-TW) at sync time.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str

from core import messages
from core.store.policy import LIMIT_KEYS

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


def choices(*values: str) -> list[Choice[str]]:
    return [Choice(name=t(f"discord.choice.{v}"), value=v) for v in values]


def value_of(choice: Choice[Any] | None) -> Any:
    return None if choice is None else choice.value


def matching(names: list[str], current: str) -> list[Choice[str]]:
    """Autocomplete: the names containing what was typed so far, at most Discord's 25."""
    found = [n for n in names if current.lower() in n.lower()]
    return [Choice(name=n, value=n) for n in found[:AUTOCOMPLETE_LIMIT]]


ASPECT_CHOICES = [Choice(name=a, value=a) for a in ASPECTS] + choices("auto")
QUALITY_CHOICES = choices("low", "medium", "high", "auto")
BACKGROUND_CHOICES = choices("transparent", "opaque", "auto")
LIMIT_CHOICES = [Choice(name=t(f"limit.{key}"), value=key) for key in LIMIT_KEYS]
