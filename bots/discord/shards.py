"""Discord sharding: this process's shard setup, its IDENTIFY pacing and Discord's refusals.

Discord routes each guild's events to shard ``(guild_id >> 22) % shard_count``; events without a
guild (DMs) go to shard 0. ``discord.shard_count`` and ``discord.shard_ids`` (core/config.py) say
how many shards the bot has in all and which of them this process runs; discord.py's
``AutoShardedClient`` opens one gateway connection per shard and sends ``shard: [id, count]``
in each IDENTIFY.

- :class:`IdentifyGate` paces IDENTIFYs by Discord's ``max_concurrency`` (from
  ``GET /gateway/bot``): shard ``i`` is in bucket ``i % max_concurrency``, each bucket may start
  one session per 5 s. Within one process the gate keeps to it; processes starting together may
  still collide, and Discord then answers INVALID_SESSION, after which discord.py identifies
  again through the gate.
- :func:`refusal` turns the gateway's close codes 4010 (invalid shard) and 4011 (sharding
  required) into a :class:`~core.errors.ConfigError` for the operator: discord.py does not
  reconnect after either, and retrying could not help until the config changes.
- :func:`status` is what ``/healthz`` and ``/metrics`` report of this process's shards.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from core.config import DiscordSettings
from core.errors import ConfigError
from core.metrics import Connection

if TYPE_CHECKING:
    import discord

IDENTIFY_WINDOW_S = 5.0
INVALID_SHARD = 4010
SHARDING_REQUIRED = 4011


class IdentifyGate:
    """Waits before an IDENTIFY until the shard's bucket may start a session again."""

    def __init__(
        self,
        max_concurrency: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self.clock = clock
        self.sleep = sleep
        self._next: dict[int, float] = {}

    async def wait(self, shard_id: int) -> None:
        bucket = shard_id % self.max_concurrency
        now = self.clock()
        start = max(now, self._next.get(bucket, -math.inf))
        self._next[bucket] = start + IDENTIFY_WINDOW_S  # reserved before sleeping: waiters queue
        if start > now:
            await self.sleep(start - now)


def describe(settings: DiscordSettings) -> str:
    """The configured setup in words for ``pixelsmith doctor``'s parameters."""
    count = settings.shard_count
    ids = settings.shard_ids
    if ids is None:
        return "all" if count == "auto" else f"0..{count - 1}"
    return ", ".join(str(i) for i in ids)


def refusal(exc: discord.ConnectionClosed, settings: DiscordSettings) -> ConfigError | None:
    """The operator's error for a gateway close that only a config change can fix."""
    shard = "?" if exc.shard_id is None else str(exc.shard_id)
    count = str(settings.shard_count)
    if exc.code == INVALID_SHARD:
        return ConfigError(
            "config.discord_invalid_shard", key="discord.shard_ids", shard=shard, count=count
        )
    if exc.code == SHARDING_REQUIRED:
        return ConfigError("config.discord_sharding_required", key="discord.shard_count")
    return None


def status(client: discord.AutoShardedClient) -> tuple[int | None, list[Connection]]:
    """(the bot's shard count, one :class:`Connection` per shard this process runs)."""
    guilds: dict[int, int] = {}
    for guild in client.guilds:
        guilds[guild.shard_id] = guilds.get(guild.shard_id, 0) + 1
    shards: list[Connection] = []
    for shard_id, info in sorted(client.shards.items()):
        latency = info.latency
        up = not info.is_closed()
        shards.append(
            Connection(
                platform="discord",
                shard=str(shard_id),
                up=up,
                latency_s=latency if up and math.isfinite(latency) else None,
                communities=guilds.get(shard_id, 0),
            )
        )
    return client.shard_count, shards
