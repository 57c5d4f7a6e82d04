"""HTTP mode: ``POST /slack/events`` on our own aiohttp runner (Bolt's ``app.start()`` blocks and
binds 0.0.0.0). Bolt verifies every signature; we only translate requests and responses.

Bolt 1.30's ``parse_body`` treats any form body containing the substring "payload" as an
interactive payload, so ``/imagine a payload of apples`` parses as ``{}`` and answers 404. Plain
form bodies (slash commands) are parsed again here; the signature still covers the raw body.
"""

from __future__ import annotations

from urllib.parse import parse_qs, parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

FORM = "application/x-www-form-urlencoded"
EVENTS_PATH = "/slack/events"


def reparse_form(req: AsyncBoltRequest) -> AsyncBoltRequest:
    """Undo Bolt's "payload" substring misparse of a plain form body (a slash command)."""
    raw = req.raw_body
    if req.content_type == FORM and "payload" in raw and "payload" not in parse_qs(raw):
        req.body = dict(parse_qsl(raw, keep_blank_values=True))
        req.context = build_async_context(AsyncBoltContext(), req.body)
    return req


def web_app(app: AsyncApp, path: str = EVENTS_PATH) -> web.Application:
    async def events(request: web.Request) -> web.Response:
        bolt_request = reparse_form(await to_bolt_request(request))
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    application = web.Application()
    application.router.add_post(path, events)
    application.router.add_get("/healthz", health)
    return application


class HttpServer:
    """Serves a Bolt app on ``host:port`` (port 0: any free port, see :attr:`port`)."""

    def __init__(self, app: AsyncApp, host: str, port: int, path: str = EVENTS_PATH) -> None:
        self._runner = web.AppRunner(web_app(app, path), access_log=None)
        self._host = host
        self._port = port
        self.port = port

    async def start(self) -> None:
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        address = self._runner.addresses[0]
        self.port = int(address[1])

    async def stop(self) -> None:
        await self._runner.cleanup()
