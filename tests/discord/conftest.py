"""Harness for the Discord adapter: the real discord.py against FakeDiscord, the real openai SDK
against FakeGateway, a real SQLite file. Waits have timeouts only to turn a hang into a failure."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest

from bots.discord.app import DiscordAdapter
from core.config import Settings
from core.providers.chat_stream import ChatStreamProvider
from core.providers.images_api import ImagesApiProvider
from core.providers.routing import RoutingProvider
from core.service import ImageService
from tests.conftest import make_settings
from tests.fakes import discord_payloads as P
from tests.fakes.discord import FakeDiscord, MessageEvent, point_discord_py_at
from tests.fakes.gateway import FakeGateway

WAIT = 15.0  # fail-only


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as f:
        with point_discord_py_at(f):
            yield f


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def discord_settings(tmp_path: Path, fake: FakeDiscord, gateway: FakeGateway) -> SettingsFactory:
    """Settings pointing at both fakes; the fake CDN (127.0.0.1) is an allowed attachment host."""

    def factory(**sections: Any) -> Settings:
        discord_section = {
            "token": fake.token,
            "api_base_url": fake.api_base,
            "guild_ids": [int(fake.guild_id)],
            "attachment_hosts": ["127.0.0.1"],
            **sections.pop("discord", {}),
        }
        provider = {"download_hosts": ["127.0.0.1"], **sections.pop("provider", {})}
        return make_settings(
            tmp_path, gateway.base_url, discord=discord_section, provider=provider, **sections
        )

    return factory


def unthrottled_provider(settings: Settings, http: aiohttp.ClientSession) -> RoutingProvider:
    """The real providers with their 1 s progress throttle off, so tests see every event."""
    p = settings.provider
    client = openai.AsyncOpenAI(api_key=p.key, base_url=p.base_url, max_retries=0)
    common: dict[str, Any] = {
        "download_hosts": p.download_hosts,
        "max_download_bytes": p.download_max_bytes,
        "download_timeout_s": 10.0,
        "progress_interval_s": 0.0,
    }
    images = ImagesApiProvider(client, http, partial_images=p.stream_partials, **common)
    chat = ChatStreamProvider(client, http, **common)
    return RoutingProvider({"images": images, "images_compat": images, "chat_stream": chat})


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings, *, live_progress: bool = False, **kwargs: Any
) -> AsyncIterator[DiscordAdapter]:
    """A started service + adapter (adapter progress edits unthrottled: tests see every state).

    ``live_progress``: the providers' own progress throttle is off too.
    """
    async with aiohttp.ClientSession() as http:
        provider = unthrottled_provider(settings, http) if live_progress else None
        service = await ImageService.create(settings, provider=provider)
        await service.start()
        kwargs.setdefault("progress_interval", 0.0)
        kwargs.setdefault("max_edits_per_s", 1000.0)
        adapter = DiscordAdapter(service, guild_ready_timeout=0.05, **kwargs)
        try:
            await adapter.start()
            yield adapter
        finally:
            await adapter.stop()
            await service.close()


@pytest.fixture
async def bot(discord_settings: SettingsFactory) -> AsyncIterator[DiscordAdapter]:
    async with running_bot(discord_settings()) as adapter:
        yield adapter


def final(fake: FakeDiscord, interaction: dict[str, Any]) -> Callable[[MessageEvent], bool]:
    """Predicate: a message of this interaction carrying results, or an ephemeral one."""
    token = interaction["token"]

    def match(m: MessageEvent) -> bool:
        results = [f for f in m.files if f.filename != "preview.png"]
        done = m.kind != "deferred" and (bool(results) or m.ephemeral)
        return m.interaction_token == token and done

    return match


async def imagine(fake: FakeDiscord, ctx: P.InteractionContext, prompt: str) -> MessageEvent:
    """Run /imagine as ``ctx`` and return the final result message."""
    payload = P.slash_command(ctx, "imagine", options={"prompt": prompt})
    await fake.dispatch("INTERACTION_CREATE", payload)
    msg: MessageEvent = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    return msg
