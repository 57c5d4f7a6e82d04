"""The Discord adapter: a discord.py client (gateway, no privileged intents) wired to core.

``DiscordAdapter`` implements :class:`bots.base.PlatformAdapter` by composition: it owns a
:class:`~bots.discord.bot.PixelsmithBot` (a ``commands.Bot`` with its cogs) and runs it.

Start-up, in order: point discord.py at ``discord.api_base_url`` (``Route.BASE``) -> log in
(runs ``setup_hook``: cogs, persistent buttons, translator, command sync to ``discord.guild_ids`` or
globally) -> ask ``GET /gateway/bot`` for the websocket URL (``DiscordWebSocket.DEFAULT_GATEWAY``),
the recommended shard count (used when ``discord.shard_count = "auto"``) and the IDENTIFY
concurrency -> connect this process's shards in a task -> return once every one is READY. The
two URLs are process-wide class attributes of discord.py: every adapter in a process shares them.

A gateway close with 4010 (invalid shard) or 4011 (sharding required) is a
:class:`~core.errors.ConfigError` naming the key to change (:mod:`bots.discord.shards`), at
start-up and, logged, if Discord closes a shard later for either reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bots.discord import render, shards, web
from bots.discord.bot import PixelsmithBot
from bots.discord.delivery import DeliveryFailed, Retry, deliver
from bots.discord.identity import check_role_settings
from bots.discord.reply import ChannelPost
from core import messages
from core.config import Settings
from core.errors import ConfigError
from core.metrics import PlatformHealth
from core.service import ImageService
from core.types import Identity, ImageResult, JobView

log = logging.getLogger("pixelsmith.discord")

START_TIMEOUT_S = 120.0
DEFAULT_FILE_LIMIT = 10 * 1024 * 1024  # Discord's per-file limit without boosts


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
        retry: Retry | None = None,
    ) -> None:
        self.service = service
        self.settings = settings or service.settings
        self.retry = retry or Retry()
        self.client = PixelsmithBot(
            service,
            self.settings,
            guild_ready_timeout=guild_ready_timeout,
            progress_interval=progress_interval,
            max_edits_per_s=max_edits_per_s,
            retry=self.retry,
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        token = self.settings.discord.token_value
        if not token:
            raise ConfigError(
                "config.invalid", key="discord.token", problem="no token is set (DISCORD_TOKEN)"
            )
        check_role_settings(self.settings)
        Route.BASE = self.settings.discord.api_base_url.rstrip("/")
        try:
            await self.client.login(token)
            recommended, url, limits = await self.client.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
            if self.client.shard_count is None:  # "auto": Discord's recommendation
                self.client.shard_count = max(1, int(recommended))
            self.client.identify_gate.max_concurrency = max(
                1, int(limits.get("max_concurrency") or 1)
            )
            await self._connect()
        except discord.LoginFailure:
            await self.stop()
            raise ConfigError(
                "config.invalid", key="discord.token", problem="Discord rejected the token"
            ) from None
        except discord.ConnectionClosed as exc:
            await self.stop()
            error = shards.refusal(exc, self.settings.discord)
            if error is None:
                raise
            raise error from None
        except BaseException:
            await self.stop()
            raise
        if self._task is not None:
            self._task.add_done_callback(self._connection_ended)
        count, running = shards.status(self.client)
        log.info(
            "discord ready as %s: shards %s of %s",
            self.client.user,
            ",".join(c.shard for c in running),
            count,
        )

    def _connection_ended(self, task: asyncio.Task[None]) -> None:
        """Discord closed a shard for good after start-up: say which setting to change."""
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, discord.ConnectionClosed):
            error = shards.refusal(exc, self.settings.discord)
            if error is not None:
                error.params.setdefault("path_or_env", self.settings.source or "config.toml")
                log.error("discord stopped: %s", messages.render(error, "en", admin=True))

    def health(self) -> PlatformHealth:
        """This process's shards for /healthz and /metrics."""
        count, running = shards.status(self.client)
        ids = self.client.shard_ids
        configured = list(ids) if ids is not None else list(range(count or 0))
        return PlatformHealth(
            details={"shard_count": count, "shard_ids": configured}, connections=running
        )

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

    async def post_result(self, identity: Identity, result: ImageResult) -> bool:
        """Post ``result`` (header, images, buttons) into ``identity.channel_id``, mentioning
        the user; False when that is impossible (the web companion then says so)."""
        if identity.platform != "discord" or not identity.channel_id:
            return False
        try:
            post = ChannelPost(
                self.client, int(identity.channel_id), int(identity.user_id), identity.locale
            )
            deadline = datetime.now(UTC) + timedelta(minutes=1)
            await deliver(
                post,
                result,
                DEFAULT_FILE_LIMIT,
                retry=self.retry,
                deadline=deadline,
                region=web.web_on(self.settings),
            )
        except (DeliveryFailed, ValueError) as exc:
            log.warning("could not post a result in %s: %s", identity.channel_id, exc)
            return False
        return True

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
