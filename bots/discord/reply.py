"""Everything one interaction says back, in Discord's order of things.

- :meth:`Reply.defer` acknowledges first (within the 3 s deadline). A public "thinking" message
  is chosen because results belong in the channel; Discord fixes ephemerality at defer time.
- Progress edits that message; the result turns it into the header + first files (later batches
  are followups).
- Failures must be ephemeral. While the public "thinking" message is still loading, the first
  follow-up would become it (and public), so it is first edited to a neutral line; then the
  ephemeral follow-up carries the sentence, and only then is the thinking message deleted
  (a follow-up sent after that delete can fail with 10008, discord-api-docs#2739).
- A member whose settings ask for private results gets an ephemeral "thinking" message that
  the results replace, later batches as ephemeral follow-ups (:meth:`Reply.defer` ``private``).
- Token trouble (10062 on the defer: expired before we answered; 401/50027 or 10015 on webhooks:
  the 15-minute token died) switches to the channel, mentioning the requester.
- A deleted thinking message (10008 Unknown Message) is no dead end: the result goes out as a
  new follow-up, and an ephemeral follow-up that Discord answers with 10008 (it does so once the
  original was deleted) falls back to the channel, so the sentence always reaches the requester.
- Another process acknowledged first (40060): :meth:`defer` returns False and nothing is said.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Sequence
from typing import Any

import discord

from bots.discord import render
from core import messages
from core.packing import OutputFile
from core.preferences import Preferences

log = logging.getLogger("pixelsmith.discord")

ALREADY_ACKNOWLEDGED = 40060
UNKNOWN_INTERACTION = 10062
UNKNOWN_WEBHOOK = 10015
UNKNOWN_MESSAGE = 10008
INVALID_WEBHOOK_TOKEN = 50027


def token_dead(exc: discord.HTTPException) -> bool:
    """The interaction's webhook token can no longer be used (expired or unknown)."""
    return exc.status == 401 or exc.code in (
        INVALID_WEBHOOK_TOKEN,
        UNKNOWN_WEBHOOK,
        UNKNOWN_INTERACTION,
    )


def unusable(exc: discord.HTTPException) -> bool:
    """The interaction's messages cannot carry this reply: a dead token, or 10008."""
    return token_dead(exc) or exc.code == UNKNOWN_MESSAGE


def files_of(batch: Sequence[OutputFile]) -> list[discord.File]:
    # Fresh File objects per attempt: discord.py consumes the stream when it sends.
    return [discord.File(io.BytesIO(f.data), filename=f.filename) for f in batch]


async def send_to_channel(
    client: discord.Client,
    channel_id: int,
    requester: int,
    locale: str,
    content: str | None,
    **kwargs: Any,
) -> None:
    """A channel message mentioning ``requester`` (and only them)."""
    text = messages.text("discord.mention", locale, mention=render.mention(requester), text=content)
    await client.get_partial_messageable(channel_id).send(
        render.clip_block(text, render.MAX_CONTENT),
        allowed_mentions=discord.AllowedMentions(users=[discord.Object(requester)]),
        **kwargs,
    )


class ChannelPost:
    """Results posted straight into a channel, without an interaction (the web companion)."""

    in_channel = True

    def __init__(
        self, client: discord.Client, channel_id: int, requester: int, locale: str
    ) -> None:
        self.client, self.channel_id = client, channel_id
        self.requester, self.locale = requester, locale

    async def send_batch(
        self,
        content: str | None,
        batch: Sequence[OutputFile],
        view: discord.ui.View | None,
        *,
        first: bool,
    ) -> None:
        extra: dict[str, Any] = {"view": view} if view is not None else {}
        await send_to_channel(
            self.client,
            self.channel_id,
            self.requester,
            self.locale,
            content,
            files=files_of(batch),
            **extra,
        )


class Reply:
    """The replies of one interaction (see the module docstring)."""

    def __init__(self, interaction: discord.Interaction, locale: str) -> None:
        self.interaction = interaction
        self.locale = locale
        self.public = False  # the original response is our public "thinking" message
        self.loading = False  # ... still in its loading state (never edited)
        self.in_channel = False  # the token is dead: speak in the channel
        self.private = False  # results answer ephemerally (the member's private setting)
        self.requester = interaction.user.id
        self.prefs = Preferences()  # the member's /settings (the job runner looks them up)

    async def defer(self, *, ephemeral: bool = False, private: bool = False) -> bool:
        """Acknowledge now. False: another process owns this interaction (stay silent).
        ``private``: an ephemeral "thinking" message that the results then replace (the
        member's private-results setting); ``ephemeral`` alone is for one-line answers."""
        ephemeral = ephemeral or private
        try:
            await self.interaction.response.defer(thinking=True, ephemeral=ephemeral)
        except discord.NotFound:
            log.info("interaction %s expired before the defer", self.interaction.id)
            self.in_channel = True
            return True
        except discord.HTTPException as exc:
            if exc.code == ALREADY_ACKNOWLEDGED:
                log.info("interaction %s acknowledged elsewhere", self.interaction.id)
                return False
            raise
        self.public = not ephemeral
        self.private = private
        self.loading = self.public
        return True

    async def progress(self, content: str, preview: bytes | None = None) -> None:
        """Edit the thinking message; best effort (a lost progress edit is no failure)."""
        if self.in_channel or not (self.public or self.private):
            return
        extra: dict[str, Any] = {}
        if preview is not None:
            extra["attachments"] = [discord.File(io.BytesIO(preview), filename="preview.png")]
        try:
            await self.interaction.edit_original_response(content=content, **extra)
            self.loading = False
        except discord.HTTPException as exc:
            log.debug("progress edit failed: %s %s", exc.status, exc.code)

    async def send_batch(
        self,
        content: str | None,
        batch: Sequence[OutputFile],
        view: discord.ui.View | None,
        *,
        first: bool,
    ) -> None:
        """One message of results: the first replaces the thinking message."""
        extra: dict[str, Any] = {"view": view} if view is not None else {}
        if not self.in_channel and first and (self.public or self.private):
            try:
                await self.interaction.edit_original_response(
                    content=content, attachments=files_of(batch), **extra
                )
                return
            except discord.HTTPException as exc:
                if not unusable(exc):
                    raise
                log.info("thinking message gone (%s); posting the result anew", exc.code)
                self.public = False
                self.in_channel = token_dead(exc)
        if not self.in_channel:
            try:
                await self.interaction.followup.send(
                    content or discord.utils.MISSING,
                    files=files_of(batch),
                    ephemeral=self.private,
                    **extra,
                )
                return
            except discord.HTTPException as exc:
                if not unusable(exc):
                    raise
                self.in_channel = True
        await self.channel_send(content, files=files_of(batch), **extra)

    async def channel_send(self, content: str | None, **kwargs: Any) -> None:
        client, channel_id = self.interaction.client, self.interaction.channel_id or 0
        await send_to_channel(client, channel_id, self.requester, self.locale, content, **kwargs)

    async def failure(self, text: str, view: discord.ui.View | None = None) -> None:
        """An ephemeral sentence for the requester only (in the channel if the token is dead)."""
        extra: dict[str, Any] = {"view": view} if view is not None else {}
        if not self.in_channel:
            try:
                await self._ephemeral(text, extra)
                return
            except discord.HTTPException as exc:
                if not unusable(exc):
                    raise
                log.info("ephemeral reply refused (%s); saying it in the channel", exc.code)
                self.in_channel = True
        await self.channel_send(text, **extra)

    async def _ephemeral(self, text: str, extra: dict[str, Any]) -> None:
        response = self.interaction.response
        if not response.is_done():
            await response.send_message(text, ephemeral=True, **extra)
            return
        if not self.public:
            await self.interaction.followup.send(text, ephemeral=True, **extra)
            return
        if self.loading:
            with contextlib.suppress(discord.HTTPException):  # the follow-up below still tries
                await self.interaction.edit_original_response(
                    content=messages.text("discord.no_result", self.locale)
                )
            self.loading = False
        await self.interaction.followup.send(text, ephemeral=True, **extra)
        await self.discard()

    async def info(self, text: str) -> None:
        """The answer to an ephemeral command (/quota, /history, admin)."""
        await self.failure(text)

    async def discard(self) -> None:
        """Remove our thinking message (a duplicate delivery, or before an ephemeral failure)."""
        if self.public and not self.in_channel:
            self.public = False
            with contextlib.suppress(discord.HTTPException):
                await self.interaction.delete_original_response()


async def tell(reply: Reply, text: str, view: discord.ui.View | None = None) -> None:
    """:meth:`Reply.failure`, and a log line instead of an exception if even that fails."""
    try:
        await reply.failure(text, view)
    except discord.HTTPException as exc:
        log.warning("could not tell the user about a failure: %s %s", exc.status, exc.code)
