"""Harness for the web companion: its aiohttp app on a loopback test server, a real service on
SQLite with the fake gateway, and helpers to mint links and open sessions like a browser would."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bots.web.app import build_app
from bots.web.backend import KeptImage, WebBackend
from bots.web.links import mint_link
from core.config import Settings
from core.service import ImageService
from core.types import GeneratedImage, Identity, ImageResult, JobView
from tests.conftest import make_settings
from tests.fakes.gateway import FakeGateway
from tests.web.browser import Browser, free_port, launched, serving

SECRET = "test-web-secret-0123456789abcdefghijkl"
ALICE = Identity("discord", "111", community_id="900", channel_id="5001")
BOB = Identity("discord", "222", community_id="900", channel_id="5001")
MALLORY = Identity("discord", "333", community_id="777", channel_id="6001")


@dataclass
class RecordingPoster:
    """Stands in for a chat adapter's ``post_result``: records what the web hands back."""

    posted: list[tuple[Identity, ImageResult]] = field(default_factory=list)
    answer: bool = True

    async def post_result(self, identity: Identity, result: ImageResult) -> bool:
        self.posted.append((identity, result))
        return self.answer


class KeptBackend(WebBackend):
    """The real backend with the kept result files given by the test (the result store's role)."""

    def __init__(self, service: ImageService, kept: dict[str, list[KeptImage]]) -> None:
        super().__init__(service)
        self.kept = kept

    async def kept_images(
        self, caller: Identity, job: JobView, *, shared: bool = False
    ) -> list[KeptImage]:
        if not shared and not self.is_mine(caller, job):
            return []
        return self.kept.get(job.public_id, [])

    async def kept_result(self, caller: Identity, job: JobView) -> ImageResult | None:
        kept = await self.kept_images(caller, job)
        if not kept:
            return None
        request = self.service.rebuild(job, caller, idem_key=f"test:again:{job.public_id}")
        images = tuple(GeneratedImage(k.data, k.mime) for k in kept)
        return ImageResult(job_id=job.id, request=request, images=images, cost_micros=0)


@dataclass
class Web:
    client: TestClient[Any, Any]
    service: ImageService
    settings: Settings
    poster: RecordingPoster
    kept: dict[str, list[KeptImage]] = field(default_factory=dict)

    def link(
        self,
        identity: Identity = ALICE,
        purpose: str = "gallery",
        *,
        admin: bool = False,
        job: str | None = None,
        minutes: float = 15,
        secret: str = SECRET,
        now: float | None = None,
    ) -> str:
        """A link's path (``/l/<token>``) as a chat adapter would mint it."""
        url = mint_link(
            secret,
            "http://web.test",
            purpose,
            identity,
            minutes=minutes,
            admin=admin,
            job=job,
            now=now,
        )
        return url.removeprefix("http://web.test")

    async def login(self, identity: Identity = ALICE, purpose: str = "gallery", **kw: Any) -> str:
        """Open a link like the browser does (GET, then the form's POST); returns where it led."""
        path = self.link(identity, purpose, **kw)
        got = await self.client.get(path)
        assert got.status == 200, await got.text()
        done = await self.client.post(path, allow_redirects=False)
        assert done.status == 303, await done.text()
        return done.headers["Location"]

    async def csrf(self, path: str = "/gallery") -> str:
        page = await self.client.get(path)
        found = re.search(r'name="csrf-token" content="([^"]*)"', await page.text())
        assert found is not None
        return found[1]


WebFactory = Callable[..., Any]


@pytest.fixture
async def web_factory(tmp_path: Path, gateway: FakeGateway) -> AsyncIterator[Callable[..., Any]]:
    opened: list[tuple[TestClient[Any, Any], ImageService]] = []

    async def factory(**sections: Any) -> Web:
        web_section = {"port": 0, "secret_key": SECRET, "public_url": "http://web.test"}
        web_section.update(sections.pop("web", {}))
        settings = make_settings(tmp_path, gateway.base_url, web=web_section, **sections)
        service = await ImageService.create(settings)
        poster = RecordingPoster()
        kept: dict[str, list[KeptImage]] = {}
        backend = KeptBackend(service, kept)
        app: web.Application = build_app(service, settings, {"discord": poster}, backend=backend)
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        opened.append((client, service))
        return Web(client, service, settings, poster, kept)

    yield factory
    for client, service in opened:
        await client.close()
        await service.close()


@pytest.fixture
async def webapp(web_factory: Callable[..., Any]) -> Web:
    made: Web = await web_factory()
    return made


async def make_job(service: ImageService, identity: Identity, prompt: str = "a red fox") -> str:
    """One finished /imagine of ``identity`` (through the fake gateway); returns its public id."""
    request = service.build(prompt, identity, idem_key=f"test:{identity.user_id}:{time.time_ns()}")
    result = await service.run(request)
    return result.public_id


@dataclass
class Live:
    base: str
    service: ImageService
    gateway: FakeGateway
    poster: RecordingPoster
    kept: dict[str, list[KeptImage]]

    def link(self, identity: Identity, purpose: str, **kw: Any) -> str:
        return mint_link(SECRET, self.base, purpose, identity, minutes=15, **kw)


@pytest.fixture
async def live(tmp_path: Path, gateway: FakeGateway) -> AsyncIterator[Live]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(
        tmp_path, gateway.base_url, web={"port": port, "secret_key": SECRET, "public_url": base}
    )
    service = await ImageService.create(settings)
    kept: dict[str, list[KeptImage]] = {}
    poster = RecordingPoster()
    app = build_app(service, settings, {"discord": poster}, backend=KeptBackend(service, kept))
    try:
        async with serving(app, port):
            yield Live(base, service, gateway, poster, kept)
    finally:
        await service.close()


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    async with launched(tmp_path / "screenshots") as opened:
        yield opened
