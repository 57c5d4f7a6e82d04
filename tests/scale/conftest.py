"""Three real ``pixelsmith run`` processes on one PostgreSQL schema, against the loopback fakes.

:class:`Cluster` is the deployment of docs/SCALING.md in miniature (the layout is explained in
tests/scale/test_scale_out.py). The schema is fresh for the module and dropped after it; without
a reachable PostgreSQL server the module is skipped, naming the reason.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from tests.reliability.harness import ROOT, WAIT, BotProcess, World, config_for
from tests.slack.oauth_flow import install, oauth_sections
from tests.store.conftest import _fresh_pg_schema

SHARDS = 2
MAX_CONCURRENCY = 4  # provider.max_concurrency of every process: one budget on PostgreSQL
LEASE_S = 5.0  # a killed process's jobs and upstream slots are free again this long after
REAPER_S = 1.0
# Two Slack workspaces: ALPHA is installed when the cluster starts, BETA by a test.
ALPHA, CH_ALPHA = "T0ALPHA01", "C0ALPHA01"
BETA, CH_BETA = "T0BETA001", "C0BETA001"


@pytest.fixture(scope="module")
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema for the module (its URL), dropped afterwards."""
    yield from _fresh_pg_schema("scale")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world() -> AsyncIterator[World]:
    w = await World.start(shard_count=SHARDS)
    w.slack.add_workspace(ALPHA, "Alpha", channels=(CH_ALPHA,))
    w.slack.add_workspace(BETA, "Beta", channels=(CH_BETA,))
    try:
        yield w
    finally:
        await w.stop()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@dataclass
class Cluster:
    """A: Discord shard 0 + Slack HTTP; B: Discord shard 1 + Slack HTTP; C: Slack HTTP only."""

    world: World
    a: BotProcess
    b: BotProcess
    c: BotProcess
    #: ``where`` for harness.discord_imagine: a guild (and its channel) on shard 0, on shard 1
    guilds: list[dict[str, str]]
    _turn: int = field(default=0)

    @property
    def processes(self) -> list[BotProcess]:
        return [self.a, self.b, self.c]

    def on_shard(self, shard: int) -> BotProcess:
        return [self.a, self.b][shard]

    def next_slack(self, *, avoid: BotProcess | None = None) -> BotProcess:
        """The load balancer: round-robin over the Slack replicas that are up."""
        for _ in range(len(self.processes)):
            self._turn += 1
            bot = self.processes[self._turn % len(self.processes)]
            if bot.running and bot is not avoid:
                return bot
        raise AssertionError("no Slack replica is up")

    async def revive(self) -> None:
        """Start every process that is not running (a test killed it); then each shard has
        exactly one session on the fake Discord."""
        dead = [p for p in self.processes if not p.running]
        for bot in dead:
            await bot.kill()  # reap it
        await self.until_sessions(len([p for p in self.processes if p.running and p.discord]))
        for bot in dead:
            await bot.start()
        await self.until_sessions(SHARDS)

    async def until_sessions(self, count: int) -> None:
        """Wait until the fake Discord holds exactly ``count`` identified sessions (a killed
        process's socket is closed by its kernel; the fake sees that a moment later)."""

        async def poll() -> None:
            while len(self.world.discord.shards_connected) != count:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(poll(), WAIT)

    async def usage_check(self) -> tuple[int, str]:
        """``pixelsmith usage --check`` (the real CLI) against the cluster's database."""
        return await self.cli("usage", "--check")

    async def cli(self, *args: str, stdin: str = "") -> tuple[int, str]:
        """The real ``pixelsmith`` CLI against the cluster's database: exit code, output."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bots.cli", "--config", str(self.a.config_path), *args,
            cwd=ROOT, env=self.a.env(), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(proc.communicate(stdin.encode()), WAIT)
        return await proc.wait(), out.decode(errors="replace")


def cluster_config(
    world: World, tmp: Path, db_url: str, guilds: list[str], shard: int | None
) -> dict[str, dict[str, Any]]:
    """One process's settings: the shared database and result folder, one gateway budget,
    Slack through OAuth installs; Discord shard ``shard`` of 2, or no Discord (None)."""
    discord: dict[str, Any] = (
        {"token": None}
        if shard is None
        else {"shard_count": SHARDS, "shard_ids": [shard], "guild_ids": [int(g) for g in guilds]}
    )
    oauth = oauth_sections(world.slack)
    return config_for(
        world,
        tmp,
        database={"url": db_url, "lease_s": LEASE_S, "reaper_interval_s": REAPER_S},
        provider={"max_concurrency": MAX_CONCURRENCY},
        results={"dir": str(tmp / "results")},  # one folder for every process (a shared volume)
        shutdown={"grace_s": 5},
        discord=discord,
        byok={"enabled": True},  # communities may bring their own gateway key
        **oauth,
    )


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def cluster(
    pg_schema: str, world: World, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    tmp = tmp_path_factory.mktemp("scale")
    guilds = [world.discord.add_guild(f"shard {i}", shard=(i, SHARDS)) for i in range(SHARDS)]
    wheres = [{"guild_id": g, "channel_id": world.discord.add_channel(g, "art")} for g in guilds]
    a, b, c = (
        BotProcess(world, tmp, cluster_config(world, tmp, pg_schema, guilds, shard), name=name)
        for name, shard in (("a", 0), ("b", 1), ("c", None))
    )
    built = Cluster(world, a, b, c, wheres)
    try:
        await a.start()  # migrates the fresh schema; then the others, side by side
        await asyncio.gather(b.start(), c.start())
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
            await install(browser, a.config["slack"]["http_port"], world.slack, ALPHA)
        yield built
        running = [bot for bot in built.processes if bot.running]
        for bot in running:
            bot.send_signal(signal.SIGTERM)
        for bot in running:
            assert await bot.wait() == 0, bot.log_tail()
    finally:
        for bot in built.processes:
            await bot.kill()
