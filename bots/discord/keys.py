"""``/pixelsmith-admin key``: a server's own gateway key (see :mod:`bots.chat_keys`).

``set`` opens a form (a modal) with the key and an optional gateway address; the submit, in
whichever process receives it (:mod:`bots.discord.forms`), is checked for admin rights again
and goes straight to the service: the key is never kept in the form's context, never echoed,
never logged. ``show``, ``test`` and ``remove`` answer ephemerally.
"""

from __future__ import annotations

from typing import Any

import discord

from bots import chat_keys
from bots.discord import render
from bots.discord.answers import Answers
from bots.discord.forms import MODAL_TITLE_MAX, Forms
from bots.discord.identity import identity_of
from core import messages
from core.keys import KeyProblem
from core.service import ImageService
from core.types import Identity

KEY_FLOW = "community_key"
LABEL_MAX = 45  # Discord: a Label's text is at most 45 characters
DESCRIPTION_MAX = 100  # ... and its description at most 100


def key_modal(locale: str, custom_id: str, default_url: str) -> discord.ui.Modal:
    """Two text inputs, each in a Label: the key (required) and the gateway address."""
    title = messages.text("chat.key.title", locale)[:MODAL_TITLE_MAX]
    modal = discord.ui.Modal(title=title, timeout=None, custom_id=custom_id)
    key: discord.ui.TextInput[discord.ui.Modal] = discord.ui.TextInput(
        custom_id=chat_keys.KEY_FIELD,
        style=discord.TextStyle.short,
        min_length=chat_keys.KEY_MIN,
        max_length=chat_keys.KEY_MAX,
        required=True,
        placeholder="sk-...",
    )
    url: discord.ui.TextInput[discord.ui.Modal] = discord.ui.TextInput(
        custom_id=chat_keys.URL_FIELD,
        style=discord.TextStyle.short,
        max_length=chat_keys.URL_MAX,
        required=False,
        placeholder=default_url[:100],
    )
    hint = messages.text("chat.key.url_hint", locale, default=default_url)
    modal.add_item(
        discord.ui.Label(
            text=messages.text("chat.key.label", locale)[:LABEL_MAX],
            description=messages.text("chat.key.hint", locale)[:DESCRIPTION_MAX],
            component=key,
        )
    )
    modal.add_item(
        discord.ui.Label(
            text=messages.text("chat.key.url_label", locale)[:LABEL_MAX],
            description=hint[:DESCRIPTION_MAX],
            component=url,
        )
    )
    return modal


class KeyCommand:
    """The ``key`` subcommand's work, and the submit of its form."""

    def __init__(self, service: ImageService, answers: Answers, forms: Forms) -> None:
        self.service = service
        self.answers = answers
        self.forms = forms
        forms.handle_fields(KEY_FLOW, self._submitted)

    async def run(self, interaction: discord.Interaction, action: str) -> None:
        if action == "set":
            await self._open(interaction)
            return

        async def work(me: Identity) -> str:
            if action == "show":
                return await chat_keys.show(self.service, me, render.discord_time)
            if action == "test":
                return await chat_keys.test(self.service, me)
            return await chat_keys.remove(self.service, me)

        await self.answers.answer(interaction, work, admin_only=True)

    async def _open(self, interaction: discord.Interaction) -> None:
        me, _ = await self.service.localized(identity_of(interaction, self.service.settings))
        if not me.is_admin or not self.service.settings.byok.enabled:

            async def refuse(me: Identity) -> str:
                raise KeyProblem("byok.disabled")  # reached by admins only (admin_only)

            await self.answers.answer(interaction, refuse, admin_only=True)
            return
        default_url = self.service.settings.provider.base_url

        def build(custom_id: str) -> discord.ui.Modal:
            return key_modal(me.locale, custom_id, default_url)

        await self.forms.open_modal(interaction, me, KEY_FLOW, {}, build)

    async def _submitted(
        self, interaction: discord.Interaction, fields: dict[str, str], payload: dict[str, Any]
    ) -> None:
        async def work(me: Identity) -> str:
            key = fields.get(chat_keys.KEY_FIELD, "")
            return await chat_keys.saved(self.service, me, key, fields.get(chat_keys.URL_FIELD))

        await self.answers.answer(interaction, work, admin_only=True)
