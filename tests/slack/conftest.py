"""A Slack adapter in HTTP mode against FakeSlack and FakeGateway, driven by signed requests."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image

from bots.slack.app import SlackAdapter
from core.config import Settings
from core.service import ImageService
from tests.conftest import make_settings
from tests.fakes.gateway import FakeGateway
from tests.fakes.slack import FakeSlack, Message
from tests.fakes.slack_requests import SignedReply, SlackPayload, send

TOKEN = "xoxb-test-0123456789"
SECRET = "slack-signing-secret"
ADMIN_ID = "U0ADMIN01"


def png(width: int = 64, height: int = 64, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "PNG")
    return buf.getvalue()


def slack_settings(
    tmp_path: Path, gateway: FakeGateway, fake: FakeSlack, **sections: Any
) -> Settings:
    slack = {
        "mode": "http",
        "http_port": 0,
        "api_base_url": fake.api_base,
        "file_hosts": ["127.0.0.1"],
        "admin_users": [ADMIN_ID],
        "bot_token": TOKEN,
        "signing_secret": SECRET,
    }
    slack.update(sections.pop("slack", {}))
    provider = {"download_hosts": ["127.0.0.1"], **sections.pop("provider", {})}
    return make_settings(tmp_path, gateway.base_url, slack=slack, provider=provider, **sections)


@dataclass
class Harness:
    fake: FakeSlack
    gateway: FakeGateway
    adapter: SlackAdapter
    service: ImageService
    session: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.port}/slack/events"

    async def send(self, payload: SlackPayload, secret: str = SECRET, **kw: Any) -> SignedReply:
        return await send(self.session, self.url, payload, secret, **kw)

    def posts(self, kind: str = "post") -> list[Message]:
        return [m for m in self.fake.messages if m.kind == kind]

    def controls(self) -> list[Message]:
        """Result messages: the ones with Re-roll/Edit buttons (a progress message edited into
        the result, or a new message), one per message ts."""
        found: dict[str, Message] = {}
        for m in self.fake.messages:
            if m.kind in ("post", "update") and any(
                b.get("type") == "actions" and b.get("block_id") == "result_actions"
                for b in (m.blocks or [])
            ):
                found[m.ts] = m
        return list(found.values())

    def ephemerals(self) -> list[Message]:
        return self.posts("ephemeral")

    async def wait(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        return await self.fake.wait_for(predicate, timeout)

    async def until(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Poll a condition on our side (not a FakeSlack record); the timeout only fails a test."""

        async def poll() -> Any:
            while not (value := predicate()):
                await asyncio.sleep(0.005)
            return value

        return await asyncio.wait_for(poll(), timeout)

    async def settle(self) -> None:
        """Let running listeners finish (jobs, uploads, progress deletes)."""
        await self.adapter.drain(10)


def button(message: Message, action_id: str) -> dict[str, Any]:
    for block in message.blocks or []:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return dict(element)
    raise AssertionError(f"no {action_id} button in {json.dumps(message.blocks)[:300]}")


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=TOKEN) as f:
        yield f


async def _drain_bolt_listeners() -> None:
    current = asyncio.current_task()
    pending = [
        t
        for t in asyncio.all_tasks()
        if t is not current
        and not t.done()
        and "run_ack_function_asynchronously" in getattr(t.get_coro(), "__qualname__", "")
    ]
    if pending:
        await asyncio.wait(pending, timeout=10)


@pytest.fixture
def harness_factory(tmp_path: Path, gateway: FakeGateway, fake: FakeSlack) -> Callable[..., Any]:
    stack: list[tuple[SlackAdapter, ImageService, aiohttp.ClientSession]] = []

    async def build(**sections: Any) -> Harness:
        settings = slack_settings(tmp_path, gateway, fake, **sections)
        service = await ImageService.create(settings)
        adapter = SlackAdapter(service, settings, host="127.0.0.1")
        adapter.bot.progress_interval_s = 0.01
        adapter.bot.first_progress_s = 0.0
        adapter.bot.delivery_backoff_s = (0.0, 0.0, 0.0, 0.0)
        await adapter.start()
        session = aiohttp.ClientSession()
        stack.append((adapter, service, session))
        return Harness(fake, gateway, adapter, service, session)

    build.stack = stack  # type: ignore[attr-defined]
    return build


@pytest.fixture
async def harness(harness_factory: Callable[..., Any]) -> AsyncIterator[Harness]:
    h = await harness_factory()
    try:
        yield h
    finally:
        await _close(harness_factory)


async def _close(factory: Any) -> None:
    await _drain_bolt_listeners()
    for adapter, service, session in reversed(factory.stack):
        await adapter.stop()
        await session.close()
        await service.close()
    factory.stack.clear()


@pytest.fixture
async def closing(harness_factory: Callable[..., Any]) -> AsyncIterator[Callable[..., Any]]:
    """For tests that build their own harness (other settings): closes whatever was built."""
    try:
        yield harness_factory
    finally:
        await _close(harness_factory)
