"""Safe downloads, against a loopback aiohttp server (no internet)."""

from __future__ import annotations

import asyncio
import gzip
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from core.errors import InvalidImage
from core.fetch import FETCH_KEYS, PublicOnlyResolver, fetch_bytes, host_allowed

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
TOKEN = "xoxb-very-secret-token"
HTML = b"<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in</body></html>"
MB = 1024 * 1024


@dataclass
class Server:
    base: str
    port: int
    hits: list[tuple[str, str | None]] = field(default_factory=list)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    hits: list[tuple[str, str | None]] = []
    stop = asyncio.Event()

    async def record(request: web.Request) -> None:
        hits.append((request.path, request.headers.get("Authorization")))

    async def ok(request: web.Request) -> web.StreamResponse:
        await record(request)
        return web.Response(body=PNG, content_type="image/png")

    async def redirect(request: web.Request) -> web.StreamResponse:
        await record(request)
        raise web.HTTPFound("/ok.png")

    async def login(request: web.Request) -> web.StreamResponse:
        await record(request)
        return web.Response(body=HTML, content_type="text/html", charset="utf-8")

    async def private(request: web.Request) -> web.StreamResponse:
        await record(request)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.Response(body=HTML, content_type="text/html")
        return web.Response(body=PNG, content_type="image/png")

    async def declared_big(request: web.Request) -> web.StreamResponse:
        await record(request)
        resp = web.StreamResponse(headers={"Content-Type": "image/png"})
        resp.content_length = 10 * MB
        await resp.prepare(request)
        await resp.write(PNG)
        return resp

    async def chunked_big(request: web.Request) -> web.StreamResponse:
        await record(request)
        resp = web.StreamResponse(headers={"Content-Type": "image/png"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for _ in range(40):  # 40 x 64 KiB = 2.5 MiB, no Content-Length
            await resp.write(b"\x00" * 65536)
        await resp.write_eof()
        return resp

    async def gzip_bomb(request: web.Request) -> web.StreamResponse:
        await record(request)
        body = gzip.compress(b"\x00" * (8 * MB))
        return web.Response(
            body=body, headers={"Content-Type": "image/png", "Content-Encoding": "gzip"}
        )

    async def slow(request: web.Request) -> web.StreamResponse:
        await record(request)
        await stop.wait()
        return web.Response(body=PNG, content_type="image/png")

    async def missing(request: web.Request) -> web.StreamResponse:
        await record(request)
        return web.Response(status=404, text="gone")

    async def json(request: web.Request) -> web.StreamResponse:
        await record(request)
        return web.json_response({"ok": False, "error": "not_authed"})

    async def empty(request: web.Request) -> web.StreamResponse:
        await record(request)
        return web.Response(body=b"", content_type="image/png")

    async def octet(request: web.Request) -> web.StreamResponse:
        await record(request)
        return web.Response(body=PNG, content_type="application/octet-stream")

    app = web.Application()
    app.add_routes(
        [
            web.get("/ok.png", ok),
            web.get("/redirect", redirect),
            web.get("/login", login),
            web.get("/private.png", private),
            web.get("/declared-big", declared_big),
            web.get("/chunked-big", chunked_big),
            web.get("/gzip-bomb", gzip_bomb),
            web.get("/slow", slow),
            web.get("/missing", missing),
            web.get("/json", json),
            web.get("/empty", empty),
            web.get("/octet", octet),
        ]
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sockets = site._server.sockets  # type: ignore[union-attr]
    port = sockets[0].getsockname()[1]
    try:
        yield Server(base=f"http://127.0.0.1:{port}", port=port, hits=hits)
    finally:
        stop.set()
        await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


LOCAL = ["127.0.0.1"]


async def get(session: aiohttp.ClientSession, url: str, **kw: Any) -> bytes:
    kw.setdefault("allowed_hosts", LOCAL)
    kw.setdefault("max_bytes", 1 * MB)
    kw.setdefault("timeout_s", 5.0)
    return await fetch_bytes(session, url, **kw)


async def refused(session: aiohttp.ClientSession, url: str, **kw: Any) -> InvalidImage:
    with pytest.raises(InvalidImage) as caught:
        await get(session, url, **kw)
    exc = caught.value
    assert exc.key in FETCH_KEYS
    for value in exc.params.values():
        assert value is None or isinstance(value, (str, int, float)), exc.params
    assert TOKEN not in repr(exc)
    return exc


async def test_downloads_an_image(server: Server, session: aiohttp.ClientSession) -> None:
    assert await get(session, f"{server.base}/ok.png") == PNG


async def test_octet_stream_is_fine(server: Server, session: aiohttp.ClientSession) -> None:
    assert await get(session, f"{server.base}/octet") == PNG


async def test_redirect_is_refused_and_not_followed(
    server: Server, session: aiohttp.ClientSession
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    exc = await refused(session, f"{server.base}/redirect", headers=headers)
    assert exc.key == "image.redirected"
    assert exc.params == {"name": None, "host": "127.0.0.1", "status": 302}
    assert [path for path, _ in server.hits] == ["/redirect"]  # the token went nowhere else


async def test_html_login_page(server: Server, session: aiohttp.ClientSession) -> None:
    exc = await refused(session, f"{server.base}/login", name="cat.png")
    assert exc.key == "image.html_page"
    assert exc.params == {"name": "cat.png", "host": "127.0.0.1"}


async def test_bearer_token_is_sent_to_the_allowed_host(
    server: Server, session: aiohttp.ClientSession
) -> None:
    url = f"{server.base}/private.png"
    assert (await refused(session, url)).key == "image.html_page"  # no token: the login page
    data = await get(session, url, headers={"Authorization": f"Bearer {TOKEN}"})
    assert data == PNG


async def test_foreign_host_is_refused_before_sending_anything(
    server: Server, session: aiohttp.ClientSession
) -> None:
    exc = await refused(
        session,
        f"{server.base}/ok.png",
        allowed_hosts=["files.slack.com"],
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert exc.key == "image.foreign_host"
    assert exc.params == {"name": None, "host": "127.0.0.1"}
    assert server.hits == []


async def test_declared_length_over_the_cap(server: Server, session: aiohttp.ClientSession) -> None:
    exc = await refused(session, f"{server.base}/declared-big", name="big.png")
    assert exc.key == "image.too_large"
    assert exc.params == {
        "name": "big.png",
        "size_mb": 10.0,
        "limit_mb": 1.0,
        "size_known": True,
    }


async def test_cap_enforced_while_reading_without_length(
    server: Server, session: aiohttp.ClientSession
) -> None:
    exc = await refused(session, f"{server.base}/chunked-big")
    assert exc.key == "image.too_large"
    assert exc.params["size_known"] is False
    assert exc.params["size_mb"] > exc.params["limit_mb"]  # "at least", never equal


async def test_cap_enforced_after_decompression(
    server: Server, session: aiohttp.ClientSession
) -> None:
    exc = await refused(session, f"{server.base}/gzip-bomb")
    assert exc.key == "image.too_large"


async def test_timeout(server: Server, session: aiohttp.ClientSession) -> None:
    exc = await refused(session, f"{server.base}/slow", timeout_s=0.2)
    assert exc.key == "image.download_failed"
    named = await refused(session, f"{server.base}/slow", timeout_s=0.2, name="cat.png")
    assert named.params["name"] == "cat.png"
    assert exc.key == "image.download_failed"
    assert exc.params == {"name": None, "host": "127.0.0.1", "reason": "timeout", "status": None}


async def test_http_error_status(server: Server, session: aiohttp.ClientSession) -> None:
    exc = await refused(session, f"{server.base}/missing")
    assert exc.params == {"name": None, "host": "127.0.0.1", "reason": "status", "status": 404}


async def test_connection_refused(session: aiohttp.ClientSession) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    exc = await refused(session, f"http://127.0.0.1:{port}/x.png")
    assert exc.key == "image.download_failed"
    assert exc.params == {
        "name": None,
        "host": "127.0.0.1",
        "reason": "connection",
        "status": None,
    }


async def test_json_is_not_an_image(server: Server, session: aiohttp.ClientSession) -> None:
    exc = await refused(session, f"{server.base}/json")
    assert exc.key == "image.unsupported_type"
    assert exc.params["detected"] == "application/json"
    assert await get(session, f"{server.base}/json", expect_image=False)


async def test_empty_body(server: Server, session: aiohttp.ClientSession) -> None:
    assert (await refused(session, f"{server.base}/empty")).key == "image.empty"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/x.png",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "http://user:pass@127.0.0.1/x.png",
        "not a url",
        "http:///x.png",
    ],
)
async def test_bad_urls(session: aiohttp.ClientSession, url: str) -> None:
    exc = await refused(session, url)
    assert exc.key == "image.bad_url"
    assert exc.params == {"name": None}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.png",
        "http://10.0.0.1/x.png",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x.png",
        "http://[::ffff:127.0.0.1]/x.png",
        "http://localhost/x.png",
        "http://api.localhost/x.png",
    ],
)
async def test_any_host_still_means_no_private_address(
    session: aiohttp.ClientSession, url: str
) -> None:
    exc = await refused(session, url, allowed_hosts=None)
    assert exc.key == "image.foreign_host"


async def test_any_host_with_private_allowed_for_local_fakes(
    server: Server, session: aiohttp.ClientSession
) -> None:
    assert await get(session, f"{server.base}/ok.png", allowed_hosts=None, allow_private=True)


class _ToLoopback(AbstractResolver):
    """Resolves every name to 127.0.0.1: a public-looking name that lands on a private address."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


async def test_any_host_checks_where_the_name_actually_resolved(server: Server) -> None:
    connector = aiohttp.TCPConnector(resolver=_ToLoopback())
    async with aiohttp.ClientSession(connector=connector) as sess:
        url = f"http://images.example.com:{server.port}/ok.png"
        exc = await refused(sess, url, allowed_hosts=None)
        assert exc.key == "image.foreign_host"
        assert exc.params == {"name": None, "host": "images.example.com"}
        # the same name is fine when it is listed explicitly
        assert await get(sess, url, allowed_hosts=["example.com"]) == PNG


async def test_public_only_resolver_refuses_before_connecting(server: Server) -> None:
    connector = aiohttp.TCPConnector(resolver=PublicOnlyResolver(_ToLoopback()))
    async with aiohttp.ClientSession(connector=connector) as sess:
        url = f"http://images.example.com:{server.port}/ok.png"
        exc = await refused(sess, url, allowed_hosts=None)
        assert exc.key == "image.foreign_host"
    assert server.hits == []  # nothing was sent


def test_host_matching() -> None:
    allowed = ["files.slack.com", "cdn.discordapp.com", ".media.discordapp.net"]
    assert host_allowed("files.slack.com", allowed)
    assert host_allowed("FILES.SLACK.COM.", allowed)
    assert host_allowed("a.files.slack.com", allowed)
    assert host_allowed("images-ext-1.media.discordapp.net", allowed)
    assert not host_allowed("evilfiles.slack.com", allowed)
    assert not host_allowed("files.slack.com.evil.example", allowed)
    assert not host_allowed("slack.com", allowed)
    assert host_allowed("anything.example", None)
    assert host_allowed("127.0.0.1", ["127.0.0.1"])
    assert not host_allowed("10.0.0.1", ["0.0.1"])
    assert not host_allowed("x.example", [""])


async def test_logs_carry_neither_token_nor_path(
    server: Server, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for path in ("/redirect?sig=abc123", "/missing?sig=abc123", "/slow?sig=abc123"):
        with pytest.raises(InvalidImage):
            await get(session, f"{server.base}{path}", headers=headers, timeout_s=0.2)
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("core.")]
    assert ours  # something was logged, and none of it is a secret
    for line in ours:
        assert TOKEN not in line and "abc123" not in line and "/redirect" not in line
