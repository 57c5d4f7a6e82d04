"""A loopback fake of Slack's Web API, file hosts and response_url, for the real slack_sdk.

Point ``AsyncWebClient(token=..., base_url=fake.api_base)`` at it. It speaks what slack_sdk 3.47
sends: JSON bodies (chat.*, views.*), query-string params on POST (auth.test, chat.delete,
files.getUploadURLExternal, files.completeUploadExternal) and GET (files.info, users.info,
conversations.info); form bodies are accepted too. Every Web API answer is HTTP 200 with
``{"ok": ...}`` except a scripted ``ratelimited`` (HTTP 429 + Retry-After), as on real Slack.

Socket Mode: ``apps.connections.open`` (app-level token ``xapp-...`` only) answers a
``ws://127.0.0.1:PORT/socket-mode?ticket=...`` URL; on that websocket the fake says ``hello``,
pushes envelopes (``await fake.socket_send("slash_commands", payload)``), records the client's
acks in ``socket_acks`` (``await fake.wait_for_ack(envelope_id)``), answers pings with pongs and
can ask the client to reconnect (``socket_disconnect``). Point slack_sdk's socket mode client
(or Bolt's ``AsyncSocketModeHandler``) at it through a web client with ``base_url=fake.api_base``.

Tokens are never stored or printed: a call records only whether a token was present and whether
it was the expected token (the bot token; the app token for ``apps.connections.open``).

Strict: Block Kit limits (``tests/fakes/slack_rules.py``) are checked on every message and view
(``invalid_blocks`` / ``invalid_arguments`` with ``response_metadata.messages``, as Slack answers);
a ``trigger_id`` works once, for 3 seconds, and only if Slack issued it; a ``response_url`` 5 times within 30 minutes; the bot
posts only where it is a member, or in a public channel with ``chat:write.public``. Time is the
virtual :data:`CLOCK` (it moves only by ``CLOCK.advance(s)`` or ``fake.slow(method, s)``), so the
deadlines hold on any machine and no test measures real time.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import BodyPartReader, WSMsgType, web

from tests.fakes import slack_rules
from tests.fakes.clock import VirtualClock
from tests.fakes.slack_oauth import OAuthApp

T = TypeVar("T")

# docs.slack.dev/interactivity/handling-user-interaction: "trigger_id ... expires 3 seconds after
# it's sent to your app"; views.open answers exchanged_trigger_id for one already used,
# expired_trigger_id for a late one.
TRIGGER_TTL_S = 3.0
# docs.slack.dev/interactivity/handling-user-interaction ("Message responses"): "You can use a
# response_url five times within 30 minutes."
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL_S = 30 * 60


#: One clock for every fake and payload builder in the process (see tests/fakes/slack_requests.py:
#: each ``trigger_id`` it makes is issued on it).
CLOCK = VirtualClock()

LOGIN_PAGE = (
    "<!DOCTYPE html><html><head><title>Slack</title></head>"
    '<body><h1>Sign in to Slack</h1><form action="/signin" method="post"></form></body></html>'
)

_FILETYPES = {
    "image/png": ("png", "PNG"),
    "image/jpeg": ("jpg", "JPEG"),
    "image/webp": ("webp", "WebP"),
    "image/gif": ("gif", "GIF"),
    "text/plain": ("text", "Plain Text"),
    "application/pdf": ("pdf", "PDF"),
}
_EXT_MIMETYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "txt": "text/plain",
}


@dataclass
class Call:
    """One Web API call as the fake saw it (params merged from query, form and JSON)."""

    method: str
    params: dict[str, Any]
    http_verb: str
    token_present: bool
    token_ok: bool
    content_type: str
    team: str | None = None  # the workspace (or org) whose token made the call


@dataclass
class Message:
    kind: str  # "post" | "update" | "ephemeral"
    channel: str
    ts: str
    text: str | None
    blocks: list[Any] | None
    thread_ts: str | None = None
    user: str | None = None  # ephemeral recipient
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class View:
    kind: str  # "open" | "update" | "publish"
    view_id: str
    view: dict[str, Any]
    trigger_id: str | None = None
    user_id: str | None = None  # views.publish target


@dataclass
class Upload:
    """A file that went through getUploadURLExternal -> upload_url -> completeUploadExternal."""

    file_id: str
    filename: str
    data: bytes
    length: int  # as declared to files.getUploadURLExternal
    title: str | None = None
    alt_txt: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    upload_token_present: bool = False  # slack_sdk must NOT send the token to upload_url
    completed: bool = False


@dataclass
class ResponseUrlPost:
    key: str
    body: dict[str, Any]


@dataclass
class FileFetch:
    file_id: str
    authorized: bool
    token_present: bool
    download: bool


@dataclass
class SocketConnection:
    """One Socket Mode websocket a client opened with a ticket from apps.connections.open."""

    ticket: str
    ws: web.WebSocketResponse = field(repr=False)
    closed: bool = False
    close_code: int | None = None
    closed_by_client: bool = False


@dataclass
class SocketAck:
    """What a client sent back for an envelope: ``{"envelope_id": ..., "payload"?: ...}``."""

    envelope_id: str
    payload: dict[str, Any] | None
    raw: dict[str, Any]


@dataclass
class _Failure:
    error: str
    status: int
    headers: dict[str, str]
    extra: dict[str, Any]


class FakeSlack(OAuthApp):
    """Slack Web API + files.slack.com + hooks.slack.com on 127.0.0.1, port chosen by the OS."""

    def __init__(
        self,
        *,
        token: str = "xoxb-test",
        team_id: str = "T0FAKE001",
        team_domain: str = "pixelsmith-test",
        bot_user_id: str = "U0BOT0001",
        bot_id: str = "B0BOT0001",
        app_id: str = "A0APP0001",
        app_token: str = "xapp-1-A0APP0001-test",
        scopes: str = "app_mentions:read,chat:write,commands,files:read,files:write,users:read",
        host: str = "127.0.0.1",
        port: int = 0,
        default_member: bool = True,
        enterprise_id: str | None = None,
    ) -> None:
        self._token = token
        self.team_id = team_id
        #: An Enterprise Grid org-wide install (the token covers every workspace of the org).
        self.enterprise_id = enterprise_id
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self._app_token = app_token
        self.scopes = scopes
        #: Whether the bot is in a channel nobody configured with ``add_channel(is_member=...)``.
        self.default_member = default_member
        self._slow: dict[str, float] = {}
        self._response_urls: dict[str, tuple[float, int]] = {}  # key -> (issued at, uses)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.base_url = ""

        self.calls: list[Call] = []
        self.messages: list[Message] = []
        self.deleted: list[tuple[str, str]] = []
        self.views: list[View] = []
        self.uploads: list[Upload] = []
        self.responses: list[ResponseUrlPost] = []
        self.file_fetches: list[FileFetch] = []
        self.files: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        # Socket Mode
        self.socket_connections: list[SocketConnection] = []
        self.socket_envelopes: list[dict[str, Any]] = []  # every envelope pushed, in order
        self.socket_acks: list[SocketAck] = []
        self.socket_messages: list[Any] = []  # client frames that are not acks (should be none)
        self.socket_pings: list[bytes] = []  # pings from the client (each answered with a pong)
        self.socket_pongs: list[bytes] = []  # pongs to our socket_ping()
        self._tickets: set[str] = set()

        self._file_bytes: dict[str, bytes] = {}
        self._pending: dict[str, Upload] = {}
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._used_triggers: set[str] = set()
        self._views_by_id: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._ts_base = int(time.time())
        self._changed = asyncio.Event()
        self.clock = CLOCK
        self._init_oauth()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeSlack:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/oauth/v2/authorize", self._authorize)
        app.router.add_post("/upload/v1/{key}", self._upload)
        app.router.add_get("/files-pri/{team_file}/download/{name}", self._file_download)
        app.router.add_get("/files-pri/{team_file}/{name}", self._file)
        app.router.add_post("/hooks/response/{key}", self._response_url)
        app.router.add_get("/socket-mode", self._socket_mode)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://{self._host}:{port}"
        return self

    async def stop(self) -> None:
        for conn in self.socket_connections:  # an open websocket would hold up the cleanup
            if not conn.ws.closed:
                await conn.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_base(self) -> str:
        """Value for ``AsyncWebClient(base_url=...)``; the trailing slash matters (urljoin)."""
        return f"{self.base_url}/api/"

    # ------------------------------------------------------------------ scripting

    def fail_next(
        self,
        method: str,
        error: str,
        *,
        times: int = 1,
        status: int | None = None,
        retry_after: int = 1,
        **extra: Any,
    ) -> None:
        """Make the next ``times`` calls of ``method`` answer ``{"ok": false, "error": error}``.

        ``ratelimited`` answers HTTP 429 with ``Retry-After`` like Slack; everything else HTTP 200.
        ``method="upload_url"`` fails the byte upload itself (give ``status``, e.g. 500).
        """
        headers: dict[str, str] = {}
        if status is None:
            status = 429 if error == "ratelimited" else 200
        if status == 429:
            headers["Retry-After"] = str(retry_after)
        if error == "missing_scope":
            extra.setdefault("needed", _needed_scope(method))
            extra.setdefault("provided", self.scopes)
        for _ in range(times):
            self._failures[method].append(_Failure(error, status, headers, extra))

    def slow(self, method: str, seconds: float) -> None:
        """Each later call of ``method`` takes ``seconds`` of Slack time (:data:`CLOCK`)."""
        self._slow[method] = seconds

    def issue_trigger(self) -> str:
        """A fresh ``trigger_id``, issued now on :data:`CLOCK`."""
        return CLOCK.issue_trigger(f"{next(self._ids)}.98765.{uuid.uuid4().hex}")

    def add_file(
        self,
        name: str,
        data: bytes,
        mimetype: str | None = None,
        *,
        user: str = "U0USER001",
        title: str | None = None,
        file_id: str | None = None,
    ) -> dict[str, Any]:
        """Host ``data`` at ``url_private``; return the Slack file object events carry."""
        self._require_started()
        file_id = file_id or self._new_id("F")
        if mimetype is None:
            mimetype = _EXT_MIMETYPES.get(
                name.rsplit(".", 1)[-1].lower(), "application/octet-stream"
            )
        filetype, pretty = _FILETYPES.get(mimetype, ("binary", "Binary"))
        now = int(time.time())
        path = f"{self.base_url}/files-pri/{self.team_id}-{file_id}"
        obj: dict[str, Any] = {
            "id": file_id,
            "created": now,
            "timestamp": now,
            "name": name,
            "title": title or name,
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": pretty,
            "user": user,
            "user_team": self.team_id,
            "editable": False,
            "size": len(data),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": True,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{path}/{name}",
            "url_private_download": f"{path}/download/{name}",
            "permalink": f"https://{self.team_domain}.slack.com/files/{user}/{file_id}/{name}",
            "is_starred": False,
            "has_rich_preview": False,
            "file_access": "visible",
        }
        dims = _png_size(data)
        if dims is not None:
            obj["original_w"], obj["original_h"] = dims
        self.files[file_id] = obj
        self._file_bytes[file_id] = data
        return dict(obj)

    def add_user(self, user_id: str, name: str = "alice", **fields: Any) -> dict[str, Any]:
        user = _default_user(user_id, self.team_id, name)
        user.update(fields)
        self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str, name: str = "general", **fields: Any) -> dict[str, Any]:
        channel = _default_channel(channel_id, name)
        channel.update(fields)
        self.channels[channel_id] = channel
        return channel

    def response_url(self, key: str | None = None) -> str:
        """A response_url that records what Bolt's ``respond()`` posts (see ``responses``).

        It works 5 times within 30 minutes of :data:`CLOCK` from now, like Slack's.
        """
        self._require_started()
        key = key or self._new_id("R")
        self._response_urls.setdefault(key, (CLOCK.now(), 0))
        return f"{self.base_url}/hooks/response/{key}"

    def file_bytes(self, file_id: str) -> bytes:
        return self._file_bytes[file_id]

    # ------------------------------------------------------------------ Socket Mode

    @property
    def socket_open(self) -> list[SocketConnection]:
        """The Socket Mode connections currently open."""
        return [c for c in self.socket_connections if not c.closed and not c.ws.closed]

    async def socket_connection(self, timeout: float = 5.0) -> SocketConnection:
        """The newest open Socket Mode connection, waiting for one to be opened."""
        return await self.wait_for(
            lambda: self.socket_open[-1] if self.socket_open else None, timeout
        )

    async def socket_send(
        self,
        type_: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 5.0,
    ) -> str:
        """Push one envelope (``slash_commands``, ``events_api``, ``interactive``) down the newest
        open connection, as Slack does; return its ``envelope_id`` (see :meth:`wait_for_ack`).

        ``accepts_response_payload`` defaults to what Slack sends: true for slash commands and
        interactivity, false for the Events API.
        """
        conn = await self.socket_connection(timeout)
        if accepts_response_payload is None:
            accepts_response_payload = type_ in ("slash_commands", "interactive")
        envelope = {
            "envelope_id": envelope_id or str(uuid.uuid4()),
            "type": type_,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }
        self.socket_envelopes.append(envelope)
        await conn.ws.send_json(envelope)
        self._notify()
        return str(envelope["envelope_id"])

    async def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> SocketAck:
        """Wait for the client's ack of ``envelope_id``; return it."""
        return await self.wait_for(
            lambda: next((a for a in self.socket_acks if a.envelope_id == envelope_id), None),
            timeout,
        )

    def acks_of(self, envelope_id: str) -> list[SocketAck]:
        return [a for a in self.socket_acks if a.envelope_id == envelope_id]

    async def socket_ping(self, data: bytes = b"fake-slack-ping", timeout: float = 5.0) -> bytes:
        """Ping the client (Slack pings now and then); wait for its pong and return its data."""
        conn = await self.socket_connection(timeout)
        seen = len(self.socket_pongs)
        await conn.ws.ping(data)
        await self.wait_for(lambda: len(self.socket_pongs) > seen, timeout)
        return self.socket_pongs[seen]

    async def socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the clients to reconnect, as Slack does every few hours: ``{"type": "disconnect"}``.

        The client should call apps.connections.open again and open a new connection.
        """
        for conn in self.socket_open:
            await conn.ws.send_json(
                {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}
            )

    # ------------------------------------------------------------------ waiting

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:
        """Return the first truthy value of ``predicate()``, re-checked after every recorded event.

        A timeout only fails a test (it names the methods seen so far); it never measures speed.
        """

        async def poll() -> T:
            while True:
                self._changed.clear()
                value = predicate()
                if value:
                    return value
                await self._changed.wait()

        try:
            return await asyncio.wait_for(poll(), timeout)
        except TimeoutError:
            seen = [c.method for c in self.calls]
            raise AssertionError(
                f"FakeSlack: condition not met in {timeout}s; calls: {seen}"
            ) from None

    async def wait_for_call(self, method: str, count: int = 1, timeout: float = 5.0) -> Call:
        """Wait until ``method`` was called ``count`` times; return the ``count``-th call."""

        def found() -> Call | None:
            matching = [c for c in self.calls if c.method == method]
            return matching[count - 1] if len(matching) >= count else None

        return await self.wait_for(found, timeout)

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    # ------------------------------------------------------------------ HTTP handlers

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, content_type = await _read_params(request)
        if method == "oauth.v2.access":  # client credentials, no token (see slack_oauth.py)
            self.calls.append(Call(method, params, request.method, False, False, content_type))
            self._notify()
            return self._oauth_access(request, params)
        token = _bearer(request) or _str(params.pop("token", None))
        app_level = method == "apps.connections.open"  # the one method for the app token
        refusal = None if token is None or app_level else self._token_refusal(token)
        call = Call(
            method=method,
            params=params,
            http_verb=request.method,
            token_present=token is not None,
            token_ok=token == self._app_token if app_level else token is not None and not refusal,
            content_type=content_type,
        )
        self.calls.append(call)
        try:
            if token is None:
                return _error("not_authed")
            if app_level and not call.token_ok and token.startswith(("xoxb-", "xoxp-")):
                return _error("not_allowed_token_type")
            if not call.token_ok:
                return _error(refusal or "invalid_auth")
            call.team = self._acting_team(token)
            if self._cross_workspace(token, params):
                return _error("channel_not_found")
            self._caller = self.token_workspace(token)
            if self._failures[method]:
                failure = self._failures[method].popleft()
                body = {"ok": False, "error": failure.error, **failure.extra}
                return web.json_response(body, status=failure.status, headers=failure.headers)
            handler = getattr(self, "_m_" + method.replace(".", "_"), None)
            if handler is None:
                return _error("unknown_method")
            if method in self._slow:
                CLOCK.advance(self._slow[method])
            result = handler(params)
            if isinstance(result, web.Response):
                return result
            headers = {
                "x-oauth-scopes": self.scopes,
                "x-accepted-oauth-scopes": _needed_scope(method),
            }
            return web.json_response({"ok": True, **result}, headers=headers)
        finally:
            self._notify()

    async def _upload(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        pending = self._pending.get(key)
        if self._failures["upload_url"]:
            failure = self._failures["upload_url"].popleft()
            await request.read()
            self._notify()
            return web.Response(
                status=failure.status, text=failure.error, content_type="text/plain"
            )
        if pending is None:
            return web.Response(status=404, text="file_not_found")
        if request.content_type.startswith("multipart/"):
            data = b""
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                if part.filename is not None or part.name in ("file", "filename"):
                    data = await part.read()
        else:
            data = await request.read()
        pending.data = data
        pending.upload_token_present = "Authorization" in request.headers
        self._notify()
        # Real upload URLs answer text/plain, which slack_sdk reads as text (not JSON).
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    async def _file(self, request: web.Request, download: bool = False) -> web.Response:
        file_id = request.match_info["team_file"].split("-", 1)[-1]
        token = _bearer(request)
        authorized = token is not None and token == self._token
        self.file_fetches.append(FileFetch(file_id, authorized, token is not None, download))
        self._notify()
        if not authorized:
            # Slack answers its sign-in page with 200, not 401: check Content-Type.
            return web.Response(text=LOGIN_PAGE, content_type="text/html")
        data = self._file_bytes.get(file_id)
        if data is None:
            return web.Response(status=404, text="Not found")
        obj = self.files[file_id]
        headers = {}
        if download:
            headers["Content-Disposition"] = f'attachment; filename="{obj["name"]}"'
        return web.Response(body=data, content_type=obj["mimetype"], headers=headers)

    async def _file_download(self, request: web.Request) -> web.Response:
        return await self._file(request, download=True)

    async def _socket_mode(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        # autoping off: the fake records pings (and answers them) and pongs itself
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        conn = SocketConnection(ticket, ws)
        self.socket_connections.append(conn)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self.socket_open),
                "debug_info": {
                    "host": "applink-fake",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
        )
        self._notify()
        try:
            while True:
                msg = await ws.receive()
                if msg.type in (
                    WSMsgType.CLOSE,
                    WSMsgType.CLOSING,
                    WSMsgType.CLOSED,
                    WSMsgType.ERROR,
                ):
                    conn.closed_by_client = msg.type == WSMsgType.CLOSE
                    break
                if msg.type == WSMsgType.TEXT:
                    self._socket_received(msg.data)
                elif msg.type == WSMsgType.PING:
                    self.socket_pings.append(msg.data)
                    await ws.pong(msg.data)
                elif msg.type == WSMsgType.PONG:
                    self.socket_pongs.append(msg.data)
                self._notify()
        finally:
            conn.closed = True
            conn.close_code = ws.close_code
            self._notify()
        return ws

    def _socket_received(self, data: str) -> None:
        try:
            message = json.loads(data)
        except json.JSONDecodeError:
            message = None
        if isinstance(message, dict) and isinstance(message.get("envelope_id"), str):
            payload = message.get("payload")
            self.socket_acks.append(
                SocketAck(
                    message["envelope_id"], payload if isinstance(payload, dict) else None, message
                )
            )
        else:
            self.socket_messages.append(message if message is not None else data)

    async def _response_url(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = {"_raw": await request.text()}
        self.responses.append(ResponseUrlPost(key, body))
        self._notify()
        issued, uses = self._response_urls.get(key, (CLOCK.now(), 0))
        if uses >= RESPONSE_URL_USES or CLOCK.now() - issued > RESPONSE_URL_TTL_S:
            # Slack does not document this answer; this is what a used-up URL is seen to say.
            return web.Response(status=404, text="expired_url", content_type="text/html")
        self._response_urls[key] = (issued, uses + 1)
        problems = slack_rules.check_message(body) if isinstance(body, dict) else []
        if problems:
            return web.json_response(
                {
                    "ok": False,
                    "error": "invalid_blocks",
                    "response_metadata": {"messages": problems},
                }
            )
        return web.Response(text="ok", content_type="text/html")

    # ------------------------------------------------------------------ Web API methods

    def _acting_team(self, token: str) -> str:
        ws = self.token_workspace(token)
        return ws.key if ws is not None else self.team_id

    def _m_auth_test(self, p: dict[str, Any]) -> dict[str, Any]:
        ws = self._caller
        if ws is not None:  # an installed workspace's token
            return {
                "url": f"https://{ws.team_id.lower()}.slack.com/",
                "team": ws.name,
                "user": "pixelsmith",
                "team_id": ws.team_id,
                "user_id": ws.bot_user_id,
                "bot_id": ws.bot_id,
                "is_enterprise_install": ws.org_wide,
                **({"enterprise_id": ws.enterprise_id} if ws.enterprise_id else {}),
            }
        answer: dict[str, Any] = {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": "Pixelsmith Test",
            "user": "pixelsmith",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }
        if self.enterprise_id is not None:
            # An org-wide token (api.slack.com/enterprise/apps/reference: the install answers
            # with the org's ``enterprise`` id and ``is_enterprise_install: true``).
            answer.update(enterprise_id=self.enterprise_id, is_enterprise_install=True)
        return answer

    def _m_apps_connections_open(self, p: dict[str, Any]) -> dict[str, Any]:
        ticket = str(uuid.uuid4())
        self._tickets.add(ticket)
        host = self.base_url.replace("http://", "ws://", 1)
        return {"url": f"{host}/socket-mode?ticket={ticket}&app_id={self.app_id}"}

    def _m_chat_postMessage(self, p: dict[str, Any]) -> dict[str, Any] | web.Response:
        channel = _str(p.get("channel"))
        if not channel:
            return _error("channel_not_found")
        if not (p.get("text") or p.get("blocks") or p.get("attachments")):
            return _error("no_text")
        refused = self._not_in_channel(channel) or _invalid_blocks(p)
        if refused is not None:
            return refused
        ts = self._new_ts()
        msg = Message(
            "post", channel, ts, p.get("text"), _blocks(p), _str(p.get("thread_ts")), None, p
        )
        self.messages.append(msg)
        return {"channel": channel, "ts": ts, "message": self._message_json(msg)}

    def _m_chat_update(self, p: dict[str, Any]) -> dict[str, Any] | web.Response:
        channel, ts = _str(p.get("channel")), _str(p.get("ts"))
        original = next(
            (m for m in self.messages if m.kind == "post" and m.channel == channel and m.ts == ts),
            None,
        )
        if original is None or (channel, ts) in self.deleted:
            return _error("message_not_found")
        refused = _invalid_blocks(p)
        if refused is not None:
            return refused
        msg = Message(
            "update",
            original.channel,
            original.ts,
            p.get("text"),
            _blocks(p),
            original.thread_ts,
            None,
            p,
        )
        self.messages.append(msg)
        return {
            "channel": channel,
            "ts": ts,
            "text": msg.text or "",
            "message": self._message_json(msg),
        }

    def _m_chat_postEphemeral(self, p: dict[str, Any]) -> dict[str, Any] | web.Response:
        channel, user = _str(p.get("channel")), _str(p.get("user"))
        if not channel:
            return _error("channel_not_found")
        if not user:
            return _error("user_not_in_channel")
        refused = _invalid_blocks(p)
        if refused is not None:
            return refused
        ts = self._new_ts()
        msg = Message(
            "ephemeral", channel, ts, p.get("text"), _blocks(p), _str(p.get("thread_ts")), user, p
        )
        self.messages.append(msg)
        return {"message_ts": ts}

    def _m_chat_delete(self, p: dict[str, Any]) -> dict[str, Any] | web.Response:
        channel, ts = _str(p.get("channel")), _str(p.get("ts"))
        if channel is None or ts is None:
            return _error("message_not_found")
        if not any(m.channel == channel and m.ts == ts for m in self.messages):
            return _error("message_not_found")
        self.deleted.append((channel, ts))
        return {"channel": channel, "ts": ts}

    def _m_views_open(self, p: dict[str, Any]) -> dict[str, Any] | web.Response:
        trigger_id = _str(p.get("trigger_id"))
        if not trigger_id:
            return _error("invalid_arguments")
        if trigger_id in self._used_triggers:
            return _error("exchanged_trigger_id")  # a trigger_id works once
        issued = CLOCK.triggers.get(trigger_id)
        if issued is None:
            # docs.slack.dev/reference/methods/views.open (errors): invalid_trigger_id for a
            # trigger Slack never sent (tests get theirs from issue_trigger / new_trigger_id).
            return _error("invalid_trigger_id")
        if CLOCK.now() - issued > TRIGGER_TTL_S:
            return _error("expired_trigger_id")
        refused = _invalid_view(p)
        if refused is not None:
            return refused
        self._used_triggers.add(trigger_id)
        view = self._store_view(_json_field(p.get("view")), None)
        self.views.append(View("open", view["id"], view, trigger_id=trigger_id))
        return {"view": view}

    def _m_views_update(self, p: dict[str, Any]) -> dict[str, Any] | web.Response:
        view_id = _str(p.get("view_id"))
        if not view_id and p.get("external_id"):
            view_id = next(
                (
                    k
                    for k, v in self._views_by_id.items()
                    if v.get("external_id") == p["external_id"]
                ),
                "",
            )
        if view_id not in self._views_by_id:
            return _error("not_found")
        refused = _invalid_view(p)
        if refused is not None:
            return refused
        view = self._store_view(_json_field(p.get("view")), view_id)
        self.views.append(View("update", view_id, view))
        return {"view": view}

    def _m_views_publish(self, p: dict[str, Any]) -> dict[str, Any] | web.Response:
        user_id = _str(p.get("user_id"))
        if not user_id:
            return _error("invalid_arguments")
        refused = _invalid_view(p)
        if refused is not None:
            return refused
        view = self._store_view(_json_field(p.get("view")), None)
        self.views.append(View("publish", view["id"], view, user_id=user_id))
        return {"view": view}

    def _m_files_getUploadURLExternal(self, p: dict[str, Any]) -> dict[str, Any] | web.Response:
        filename, length = _str(p.get("filename")), _str(p.get("length"))
        if not filename or not length or not length.isdigit():
            return _error("invalid_arguments")
        file_id = self._new_id("F")
        key = f"{file_id}-{next(self._ids)}"
        self._pending[key] = Upload(
            file_id=file_id,
            filename=filename,
            data=b"",
            length=int(length),
            alt_txt=_str(p.get("alt_txt")),
        )
        return {"upload_url": f"{self.base_url}/upload/v1/{key}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, p: dict[str, Any]) -> dict[str, Any] | web.Response:
        entries = _json_field(p.get("files"))
        if not isinstance(entries, list) or not entries:
            return _error("invalid_arguments")
        by_id = {u.file_id: (k, u) for k, u in self._pending.items()}
        if any(e.get("id") not in by_id for e in entries):
            return _error("file_not_found")
        channel = _str(p.get("channel_id")) or _str(p.get("channels"))
        refused = self._not_in_channel(channel, public_scope=False) if channel else None
        if refused is not None:
            return refused
        files = []
        for entry in entries:
            key, upload = by_id[entry["id"]]
            del self._pending[key]
            upload.title = entry.get("title") or upload.filename
            upload.channel = channel
            upload.thread_ts = _str(p.get("thread_ts"))
            upload.initial_comment = _str(p.get("initial_comment"))
            upload.completed = True
            self.uploads.append(upload)
            obj = self.add_file(
                upload.filename,
                upload.data,
                user=self.bot_user_id,
                title=upload.title,
                file_id=upload.file_id,
            )
            files.append({"id": obj["id"], "title": obj["title"]})
        return {"files": files}

    def _m_files_info(self, p: dict[str, Any]) -> dict[str, Any] | web.Response:
        obj = self.files.get(_str(p.get("file")) or "")
        if obj is None:
            return _error("file_not_found")
        return {"file": dict(obj), "comments": [], "response_metadata": {"next_cursor": ""}}

    def _m_users_info(self, p: dict[str, Any]) -> dict[str, Any] | web.Response:
        user_id = _str(p.get("user")) or ""
        if not user_id.startswith(("U", "W")):
            return _error("user_not_found")
        user = dict(
            self.users.get(user_id) or _default_user(user_id, self.team_id, user_id.lower())
        )
        if _str(p.get("include_locale")) not in ("1", "true"):
            user.pop("locale", None)  # Slack sends locale only when asked for it
        return {"user": user}

    def _m_conversations_info(self, p: dict[str, Any]) -> dict[str, Any] | web.Response:
        channel_id = _str(p.get("channel")) or ""
        if not channel_id.startswith(("C", "G", "D")):
            return _error("channel_not_found")
        channel = self.channels.get(channel_id) or _default_channel(channel_id, "general")
        if channel_id not in self.channels:
            channel = {**channel, "is_member": self.default_member or channel["is_im"]}
        return {"channel": channel}

    # ------------------------------------------------------------------ helpers

    def _not_in_channel(self, channel: str, *, public_scope: bool = True) -> web.Response | None:
        """docs.slack.dev/reference/methods/chat.postMessage: ``not_in_channel`` unless the app
        is a member; docs.slack.dev/reference/scopes/chat.write.public: with that scope an app
        may post to public channels it has not joined (never private ones). A DM or a user id
        (the app's own DM with that user) always works. ``public_scope=False``: file uploads
        (files.completeUploadExternal) need real membership even with chat:write.public (seen
        and reported, e.g. github.com/getnao/nao issue 1372)."""
        if not channel.startswith(("C", "G")):
            return None
        known = self.channels.get(channel)
        member = self.default_member if known is None else bool(known.get("is_member"))
        public = channel.startswith("C") and not (known or {}).get("is_private", False)
        write_public = public_scope and "chat:write.public" in self.scopes.split(",")
        if member or (public and write_public):
            return None
        return _error("not_in_channel")

    def _store_view(self, view: Any, view_id: str | None) -> dict[str, Any]:
        stored = dict(view) if isinstance(view, dict) else {}
        stored["id"] = view_id or self._new_id("V")
        stored.setdefault("team_id", self.team_id)
        stored.setdefault("app_id", self.app_id)
        stored.setdefault("bot_id", self.bot_id)
        stored.setdefault("private_metadata", "")
        stored.setdefault("callback_id", "")
        stored.setdefault("external_id", "")
        stored.setdefault("state", {"values": {}})
        stored["hash"] = f"{int(time.time())}.{next(self._ids):08d}"
        stored.setdefault("root_view_id", stored["id"])
        self._views_by_id[stored["id"]] = stored
        return stored

    def _message_json(self, msg: Message) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": msg.text or "",
            "ts": msg.ts,
        }
        if msg.blocks is not None:
            out["blocks"] = msg.blocks
        if msg.thread_ts:
            out["thread_ts"] = msg.thread_ts
        return out

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}0{next(self._ids):08X}"

    def _new_ts(self) -> str:
        return f"{self._ts_base}.{next(self._ids):06d}"

    def _notify(self) -> None:
        self._changed.set()

    def _require_started(self) -> None:
        if not self.base_url:
            raise RuntimeError("FakeSlack: call start() first (URLs need the port)")


# ---------------------------------------------------------------------- module helpers


async def _read_params(request: web.Request) -> tuple[dict[str, Any], str]:
    params: dict[str, Any] = dict(request.query)
    content_type = request.content_type
    if request.method == "POST" and request.can_read_body:
        if content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for k, v in form.items():
                params[k] = v if isinstance(v, str) else v.file.read()  # type: ignore[union-attr]
        else:
            await request.read()
    return params, content_type


def _bearer(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    return auth[7:] if auth.startswith("Bearer ") else None


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _json_field(value: Any) -> Any:
    """Form/query bodies carry nested objects as JSON strings; JSON bodies as objects."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


def _blocks(p: dict[str, Any]) -> list[Any] | None:
    blocks = _json_field(p.get("blocks"))
    return blocks if isinstance(blocks, list) else None


def _error(error: str, status: int = 200) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status)


def _rejected(error: str, messages: list[str]) -> web.Response:
    body = {"ok": False, "error": error, "response_metadata": {"messages": messages}}
    return web.json_response(body)


def _invalid_blocks(p: dict[str, Any]) -> web.Response | None:
    """chat.* answer ``invalid_blocks`` with one message per broken Block Kit rule."""
    problems = slack_rules.check_message({"blocks": _json_field(p.get("blocks"))})
    return _rejected("invalid_blocks", problems) if problems else None


def _invalid_view(p: dict[str, Any]) -> web.Response | None:
    """views.* answer ``invalid_arguments`` with one message per broken rule."""
    problems = slack_rules.check_view(_json_field(p.get("view")))
    return _rejected("invalid_arguments", problems) if problems else None


def _needed_scope(method: str) -> str:
    return {
        "chat.postMessage": "chat:write",
        "chat.update": "chat:write",
        "chat.postEphemeral": "chat:write",
        "chat.delete": "chat:write",
        "files.getUploadURLExternal": "files:write",
        "files.completeUploadExternal": "files:write",
        "files.info": "files:read",
        "users.info": "users:read",
        "conversations.info": "channels:read,groups:read,im:read,mpim:read",
        "apps.connections.open": "connections:write",
    }.get(method, "")


def _default_user(user_id: str, team_id: str, name: str) -> dict[str, Any]:
    return {
        "id": user_id,
        "team_id": team_id,
        "name": name,
        "deleted": False,
        "real_name": name.title(),
        "tz": "Europe/London",
        "tz_label": "Greenwich Mean Time",
        "tz_offset": 0,
        "locale": "en-US",
        "is_admin": False,
        "is_owner": False,
        "is_bot": False,
        "is_app_user": False,
        "profile": {"display_name": name, "real_name": name.title(), "team": team_id},
    }


def _default_channel(channel_id: str, name: str) -> dict[str, Any]:
    is_im = channel_id.startswith("D")
    return {
        "id": channel_id,
        "name": name,
        "is_channel": channel_id.startswith("C"),
        "is_group": channel_id.startswith("G"),
        "is_im": is_im,
        "is_private": not channel_id.startswith("C"),
        "is_archived": False,
        "is_member": True,
        "created": 1700000000,
    }


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return None


async def _main(port: int) -> None:
    async with FakeSlack(port=port) as fake:
        print(f"FakeSlack Web API at {fake.api_base} (bot token xoxb-test); Ctrl-C to stop")
        await asyncio.Event().wait()


if __name__ == "__main__":  # python -m tests.fakes.slack [port]: a development server
    import sys

    asyncio.run(_main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
