"""Fixtures: the fakes and a ``pixelsmith run`` subprocess; both always torn down."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio

from tests.reliability.harness import BotProcess, World, config_for


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world() -> AsyncIterator[World]:
    w = await World.start()
    try:
        yield w
    finally:
        await w.stop()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


BotFactory = Callable[..., Awaitable[BotProcess]]


@pytest_asyncio.fixture(loop_scope="module")
async def bots(world: World, tmp_path: Path) -> AsyncIterator[BotFactory]:
    """Build-and-start bots for one test; every one is killed at the end, even on failure."""
    started: list[BotProcess] = []

    async def build(name: str = "bot", **sections: dict[str, Any]) -> BotProcess:
        bot = BotProcess(world, tmp_path, config_for(world, tmp_path, **sections), name=name)
        started.append(bot)
        await bot.start()
        return bot

    try:
        yield build
    finally:
        for bot in started:
            await bot.kill()
