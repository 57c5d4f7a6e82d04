"""The Discord adapter: a discord.py client (gateway, no privileged intents) wired to core.

``DiscordAdapter`` implements :class:`bots.base.PlatformAdapter` by composition: it owns a
:class:`PixelsmithBot` (``discord.Client`` + ``CommandTree``) and hands it the service.

Start-up, in order: point discord.py at ``discord.api_base_url`` (``Route.BASE``) -> log in
(runs ``setup_hook``: persistent buttons, translator, command sync to ``discord.guild_ids`` or
globally) -> ask ``GET /gateway/bot`` for the websocket URL (``DiscordWebSocket.DEFAULT_GATEWAY``;
a plain Client never asks by itself) -> connect in a task -> return once READY. The two URLs are
process-wide class attributes of discord.py: every adapter in a process shares them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bots.discord import render
from bots.discord.actions import Actions
from bots.discord.commands import Translator, build_commands
from bots.discord.jobs import locale_of, tell
from bots.discord.memory import PendingRequests, SourceCache
from bots.discord.progress import EditBudget
from bots.discord.reply import Reply
from bots.discord.views import DYNAMIC_ITEMS
from core import messages
from core.config import Settings
from core.errors import ConfigError, PixelsmithError
from core.service import ImageService
from core.store.store import JobView

log = logging.getLogger("pixelsmith.discord")

START_TIMEOUT_S = 120.0


class PixelsmithTree(app_commands.CommandTree):
    """A tree whose ``on_error`` always answers the user (the detail goes to the log)."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        original = getattr(error, "original", error)
        locale = locale_of(interaction)
        if isinstance(original, PixelsmithError):
            text = render.failure(original, locale)
        else:
            log.error("command failed", exc_info=original)
            text = messages.text("error.internal", locale)
        reply = Reply(interaction, locale)
        reply.public = interaction.response.is_done()
        await tell(reply, text)


class PixelsmithBot(discord.Client):
    def __init__(self, adapter: DiscordAdapter, *, guild_ready_timeout: float) -> None:
        super().__init__(
            intents=discord.Intents.default(),
            guild_ready_timeout=guild_ready_timeout,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.adapter = adapter
        self.actions = adapter.actions  # reached by views.handler_of
        self.tree = PixelsmithTree(self)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        await self.tree.set_translator(Translator())
        for command in build_commands(self.adapter):
            self.tree.add_command(command)
        guild_ids = self.adapter.settings.discord.guild_ids
        for guild_id in guild_ids:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        if not guild_ids:
            await self.tree.sync()


class DiscordAdapter:
    """``pixelsmith run``'s Discord platform. Production keeps ``guild_ready_timeout`` at 2 s."""

    name = "discord"

    def __init__(
        self,
        service: ImageService,
        settings: Settings | None = None,
        *,
        guild_ready_timeout: float = 2.0,
        progress_interval: float = 1.0,
        max_edits_per_s: float = 25.0,
    ) -> None:
        self.service = service
        self.progress_interval = progress_interval
        self.edit_budget = EditBudget(max_edits_per_s)
        self.settings = settings or service.settings
        self.pending = PendingRequests()
        self.sources = SourceCache()
        self.actions = Actions(self)
        self.client = PixelsmithBot(self, guild_ready_timeout=guild_ready_timeout)
        self._http: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def http(self) -> aiohttp.ClientSession:
        """The session for attachment downloads (never sends a token anywhere)."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    async def start(self) -> None:
        token = self.settings.discord.token_value
        if not token:
            raise ConfigError(
                "config.invalid", key="discord.token", problem="no token is set (DISCORD_TOKEN)"
            )
        Route.BASE = self.settings.discord.api_base_url.rstrip("/")
        try:
            await self.client.login(token)
            _, url, _ = await self.client.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
            await self._connect()
        except discord.LoginFailure:
            await self.stop()
            raise ConfigError(
                "config.invalid", key="discord.token", problem="Discord rejected the token"
            ) from None
        except BaseException:
            await self.stop()
            raise
        log.info("discord ready as %s", self.client.user)

    async def _connect(self) -> None:
        self._task = asyncio.create_task(self.client.connect(), name="pixelsmith-discord")
        ready = asyncio.create_task(self.client.wait_until_ready())
        done, _ = await asyncio.wait(
            {self._task, ready}, timeout=START_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            if self._task in done:
                self._task.result()  # the connection error (gateway refused, ...)
            raise TimeoutError("Discord did not become ready")

    async def stop(self) -> None:
        await self.client.close()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._task
        if self._http is not None:
            await self._http.close()

    async def notify(self, job: JobView, text: str) -> bool:
        prefix = "user:discord:"
        channel_id = job.request.get("channel_id")
        if not channel_id or not job.user_scope.startswith(prefix):
            return False
        user_id = int(job.user_scope[len(prefix) :])
        locale = job.request.get("locale") or "en"
        content = messages.text(
            "discord.mention", locale, mention=render.mention(user_id), text=text
        )
        try:
            await self.client.get_partial_messageable(int(channel_id)).send(
                render.clip_block(content, render.MAX_CONTENT),
                allowed_mentions=discord.AllowedMentions(users=[discord.Object(user_id)]),
            )
        except discord.HTTPException as exc:
            log.warning("could not notify %s: %s %s", job.user_scope, exc.status, exc.code)
            return False
        return True
