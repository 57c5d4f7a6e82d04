"""core.diagnostics probes, directly: the fake gateway, a temporary SQLite file, a dead PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from aiohttp import web

from core import messages
from core.diagnostics import probe_database, probe_gateway, public_url, schema_head
from tests.fakes.gateway import FakeGateway

KEY = "sk-diag-HUSHKEY-Qk18"
SERVED = ("gpt-image-2", "gpt-4o-image")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_gateway_lists_served_models_and_nothing_else() -> None:
    async with FakeGateway(served_models=SERVED, api_key=KEY) as gw:
        probe = await probe_gateway(gw.base_url, KEY, timeout_s=5)
        assert probe.ok and probe.outcome == "ok" and probe.status == 200
        assert probe.models == frozenset(SERVED)
        assert probe.failure is None and probe.error is None
        assert [c.path for c in gw.calls] == ["/v1/models"]  # nothing generated, nothing billed


async def test_gateway_wrong_key_is_the_bots_typed_failure() -> None:
    async with FakeGateway(served_models=SERVED, api_key=KEY) as gw:
        probe = await probe_gateway(gw.base_url, "sk-diag-HUSHWRONG-Wq27", timeout_s=5)
    assert not probe.ok and probe.outcome == "rejected" and probe.status == 401
    assert probe.models is None and probe.failure is not None
    assert probe.failure.key == "upstream.bad_key"
    # the admin sentence is the one the bot shows for the same answer
    fix = messages.render(probe.failure, "en", admin=True, base_url=public_url(gw.base_url))
    assert fix.startswith("The gateway rejected the API key (HTTP 401). Set PIXELSMITH_API_KEY")
    assert "HUSH" not in repr(probe)


async def test_gateway_without_a_model_list_is_unlisted() -> None:
    runner = web.AppRunner(web.Application())  # every path 404
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        probe = await probe_gateway(f"http://127.0.0.1:{port}/v1", KEY, timeout_s=5)
    finally:
        await runner.cleanup()
    assert probe.outcome == "unlisted" and probe.status == 404 and probe.models is None


async def test_unreachable_gateway() -> None:
    probe = await probe_gateway(f"http://127.0.0.1:{closed_port()}/v1", KEY, timeout_s=5)
    assert probe.outcome == "unreachable" and probe.status is None
    assert probe.error is not None and probe.error.key == "connect"
    assert probe.failure is not None and probe.failure.key == "upstream.network"


async def test_sqlite_file_is_migrated_to_head(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "diag.db"
    probe = await probe_database(f"sqlite:///{path}")
    assert probe.ok and probe.error is None, probe
    assert probe.dialect == "sqlite" and probe.where == str(path)
    assert probe.revision == probe.head == schema_head()
    assert path.exists()


async def test_unreachable_postgres_is_an_error_not_a_hang() -> None:
    url = f"postgresql+psycopg://nobody:HUSHDB@127.0.0.1:{closed_port()}/x?application_name=HUSHQ"
    # the guard only turns a hang into a failure; the probe itself bounds the connect
    probe = await asyncio.wait_for(probe_database(url, timeout_s=2), 60)
    assert not probe.ok and probe.dialect == "postgresql"
    assert probe.error is not None and probe.error.key in ("connect", "other", "timeout")
    assert probe.revision is None
    assert probe.where.startswith("127.0.0.1:") and probe.where.endswith("/x")
    assert probe.public_url.startswith("postgresql+psycopg://nobody@127.0.0.1:")
    assert "HUSH" not in repr(probe)


async def test_unsupported_database_url_opens_nothing() -> None:
    for url in ("mysql://u@h/db", "not a url"):
        probe = await probe_database(url)
        assert probe.dialect is None and not probe.supported and not probe.ok
        assert probe.error is None
