"""HTTP mode: ``POST /slack/events`` on our own aiohttp runner (Bolt's ``app.start()`` blocks and
binds 0.0.0.0).

Nothing reaches Bolt before its signature is verified here, on the raw bytes: a missing, junk,
non-numeric or stale timestamp, a missing or wrong signature answers 401, a body that is too
large or cannot be read (not UTF-8, not a JSON object, an empty or broken form) answers 400 —
each with one warning line and nothing else: no listener runs, no Web API call, no reply to the
ids the body names. Slack's rules: https://api.slack.com/authentication/verifying-requests-from-slack
(HMAC-SHA256 of ``v0:{timestamp}:{body}``, requests older than five minutes refused). Bolt
checks the signature once more; only verified requests carry :data:`VERIFIED` in their context.

Bolt 1.30's ``parse_body`` treats any form body containing the substring "payload" as an
interactive payload, so ``/imagine a payload of apples`` would parse as ``{}``. Bodies are parsed
here with the form rules and handed to Bolt already parsed; the signature covers the raw body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from core.metrics import PlatformHealth
from core.pacing import AckFirst

log = logging.getLogger("pixelsmith.slack")

FORM = "application/x-www-form-urlencoded"
EVENTS_PATH = "/slack/events"
VERIFIED = "pixelsmith_verified"  # context key: the signature of this request was checked
MAX_BODY_BYTES = 1024 * 1024  # Slack's payloads are far smaller (aiohttp's default cap too)
MAX_AGE_S = 5 * 60  # Slack: refuse a request whose timestamp is more than five minutes away
_MAX_TIMESTAMP_DIGITS = 12
# Connections the kernel may queue before we accept them (aiohttp's default: 128). A burst of
# Slack requests beyond it overflowed the queue; each dropped connection was retried by its
# sender a full second later (TCP's first retransmit), past the ack's budget. Linux caps it at
# net.core.somaxconn.
BACKLOG = 1024


class Rejected(Exception):
    """A request that is not handled: HTTP ``status``, and why (for the one log line)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def check_timestamp(raw: str | None, now: float) -> str:
    if not raw:
        raise Rejected(401, "no timestamp")
    if not raw.isascii() or not raw.isdigit() or len(raw) > _MAX_TIMESTAMP_DIGITS:
        raise Rejected(401, "timestamp is not a number")
    if abs(now - int(raw)) > MAX_AGE_S:
        raise Rejected(401, "stale timestamp")
    return raw


def check_signature(secret: str, timestamp: str, body: bytes, signature: str | None) -> None:
    if not signature:
        raise Rejected(401, "no signature")
    if not secret:
        raise Rejected(401, "no signing secret configured")
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    given = signature.encode("utf-8", "replace")
    if not hmac.compare_digest(expected.encode("ascii"), given):
        raise Rejected(401, "bad signature")


def parse_body(text: str, content_type: str | None) -> dict[str, Any]:
    """What Slack sends: a JSON object (Events API), a form (slash commands), or a form with
    one ``payload`` field holding a JSON object (interactivity). Anything else is Rejected."""
    if not text.strip():
        raise Rejected(400, "empty body")
    if content_type == "application/json" or text.startswith("{"):
        body = _json_object(text)
    else:
        form = parse_qs(text, keep_blank_values=True)
        if not form:
            raise Rejected(400, "not a form")
        payload = form.get("payload")
        if payload is not None:
            if len(payload) != 1:
                raise Rejected(400, "several payload fields")
            body = _json_object(payload[0])
        else:
            body = dict(parse_qsl(text, keep_blank_values=True))
    return body


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Rejected(400, "body is not JSON") from None
    if not isinstance(value, dict):
        raise Rejected(400, "body is not a JSON object")
    return value


async def _read(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise Rejected(400, "body too large")
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Rejected(400, "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


async def verified_request(request: web.Request, secret: str) -> AsyncBoltRequest:
    """The Bolt request for a verified, readable Slack request; else :class:`Rejected`."""
    timestamp = check_timestamp(request.headers.get("X-Slack-Request-Timestamp"), time.time())
    raw = await _read(request)
    check_signature(secret, timestamp, raw, request.headers.get("X-Slack-Signature"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "body is not UTF-8") from None
    body = parse_body(text, request.content_type)
    bolt = AsyncBoltRequest(body="", query=request.query_string, headers=dict(request.headers))
    bolt.raw_body, bolt.body = text, body
    bolt.context = build_async_context(AsyncBoltContext({VERIFIED: True}), body)
    return bolt


def web_app(
    app: AsyncApp,
    secret: str,
    path: str = EVENTS_PATH,
    health: Callable[[], PlatformHealth] | None = None,
    acks: AckFirst | None = None,
) -> web.Application:
    acks = acks or AckFirst()

    async def events(request: web.Request) -> web.Response:
        # a ticket until the answer is built: work behind earlier acks waits for it (AckFirst)
        ticket = acks.arrived()
        try:
            try:
                bolt_request = await verified_request(request, secret)
            except Rejected as no:
                log.warning("refused a Slack request from %s: %s", request.remote, no.reason)
                return web.json_response({"error": "invalid request"}, status=no.status)
            return await to_aiohttp_response(await app.async_dispatch(bolt_request))
        finally:
            acks.answered(ticket)

    async def healthz(_: web.Request) -> web.Response:
        # what this process serves (OAuth: the installed workspaces), for a load balancer
        report = health().as_json() if health is not None else {}
        return web.json_response({"status": "ok", **report})

    async def oauth(request: web.Request) -> web.Response:
        # GET, no signature: the installer's browser. Bolt checks the state (cookie + store).
        flow = app.oauth_flow
        assert flow is not None
        bolt = await to_bolt_request(request)
        if request.path == flow.install_path:
            answer = await flow.handle_installation(bolt)
        else:
            answer = await flow.handle_callback(bolt)
        return await to_aiohttp_response(answer)

    application = web.Application(client_max_size=MAX_BODY_BYTES)
    application.router.add_post(path, events)
    application.router.add_get("/healthz", healthz)
    if app.oauth_flow is not None:
        application.router.add_get(app.oauth_flow.install_path, oauth)
        application.router.add_get(app.oauth_flow.redirect_uri_path, oauth)
    return application


class HttpServer:
    """Serves a Bolt app on ``host:port`` (port 0: any free port, see :attr:`port`)."""

    def __init__(
        self,
        app: AsyncApp,
        secret: str,
        host: str,
        port: int,
        path: str = EVENTS_PATH,
        health: Callable[[], PlatformHealth] | None = None,
        acks: AckFirst | None = None,
    ) -> None:
        self._runner = web.AppRunner(web_app(app, secret, path, health, acks), access_log=None)
        self._host = host
        self._port = port
        self.port = port

    async def start(self) -> None:
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port, backlog=BACKLOG).start()
        address = self._runner.addresses[0]
        self.port = int(address[1])

    async def stop(self) -> None:
        await self._runner.cleanup()
