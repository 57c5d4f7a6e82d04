"""A link works once across every replica: which links were used lives in the database
(``used_token``), so a second web companion on the same database refuses a link the first one
exchanged. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.web.app import build_app
from core.service import ImageService
from core.store import Store
from tests.conftest import make_settings
from tests.fakes.gateway import FakeGateway
from tests.store.conftest import db_url  # noqa: F401  (SQLite and PostgreSQL)
from tests.web.conftest import ALICE, SECRET, RecordingPoster
from tests.web.test_security import FORBIDDEN_TEXT

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
async def replicas(
    tmp_path: Path,
    gateway: FakeGateway,
    db_url: str,  # noqa: F811
) -> AsyncIterator[list[TestClient[Any, Any]]]:
    """Two web companions, each with its own service, on one database (two replicas)."""
    opened: list[tuple[TestClient[Any, Any], ImageService]] = []
    for name in ("a", "b"):
        settings = make_settings(
            tmp_path / name,
            gateway.base_url,
            database={"url": db_url},
            web={"port": 0, "secret_key": SECRET, "public_url": "http://web.test"},
        )
        service = await ImageService.create(settings)
        app = build_app(service, settings, {"discord": RecordingPoster()})
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        opened.append((client, service))
    yield [client for client, _ in opened]
    for client, service in opened:
        await client.close()
        await service.close()


def link() -> str:
    from bots.web.links import mint_link

    return mint_link(SECRET, "http://web.test", "gallery", ALICE, minutes=15).removeprefix(
        "http://web.test"
    )


async def test_a_link_used_on_one_replica_is_refused_on_the_other(
    replicas: list[TestClient[Any, Any]],
) -> None:
    first, second = replicas
    path = link()
    assert (await second.get(path)).status == 200  # a preview fetch uses nothing up
    done = await first.post(path, allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == "/gallery"
    for method in ("GET", "POST"):
        again = await second.request(method, path, allow_redirects=False)
        assert again.status == 403 and "Set-Cookie" not in again.headers
        assert FORBIDDEN_TEXT in await again.text()
    assert (await first.post(path, allow_redirects=False)).status == 403


async def test_the_same_link_raced_on_both_replicas_opens_once(
    replicas: list[TestClient[Any, Any]],
) -> None:
    path = link()
    answers = await asyncio.gather(
        *(client.post(path, allow_redirects=False) for client in replicas * 3)
    )
    assert sorted(a.status for a in answers) == [303, 403, 403, 403, 403, 403]


async def test_used_tokens_are_kept_until_they_expire(db_url: str) -> None:  # noqa: F811
    async with await Store.open(db_url) as store:
        assert await store.use_once("n1", T0 + timedelta(minutes=15), now=T0)
        assert not await store.use_once("n1", T0 + timedelta(minutes=15), now=T0)
        assert await store.used_once("n1")
        # once past its expiry the row is pruned (the link is refused for its age by then)
        later = T0 + timedelta(minutes=16)
        assert await store.use_once("n2", later + timedelta(minutes=15), now=later)
        assert not await store.used_once("n1")
        assert await store.used_once("n2")
