"""A loopback fake of Discord: REST API v10, gateway websocket and a CDN, for the real discord.py.

Pointing discord.py at it needs two process-wide class attributes (``point_discord_py_at``):
``discord.http.Route.BASE`` (REST *and* interaction webhooks/callbacks) and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (a plain ``Client`` never asks ``/gateway/bot``;
only ``AutoShardedClient`` does)::

    async with FakeDiscord() as fake, point_discord_py_at(fake):
        client = MyClient(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        task = asyncio.create_task(client.start(fake.token))
        await ready.wait()                              # set in on_ready
        await fake.dispatch("INTERACTION_CREATE", slash_command(fake.context(), "ping"))
        msg = await fake.wait_for_message(lambda m: m.kind == "followup")
        await client.close(); await task

What it records (all also in ``fake.events``, in arrival order, each with a ``seq``):
``messages`` (:class:`MessageEvent`), ``callbacks`` (:class:`CallbackEvent`), ``commands``
(:class:`CommandSync`), ``rejections`` (error answers it gave, scripted or not) and ``gateway``
(:class:`GatewayEvent`: identify / resume / close).

Behaviour copied from Discord, because adapters depend on it:
- callbacks answer 200 ``application/json`` (exactly; discord.py ignores ``; charset``) with
  ``{"interaction": ..., "resource": ...}``; a second callback is 400/40060; an expired or unknown
  interaction is 404/10062;
- followups before any callback are 404/10015; webhooks of an expired token are 401/50027;
- the first followup after a deferred (type 5) response *replaces* the "thinking" message, keeping
  the ephemerality chosen at defer time;
- a file above ``max_file_size`` (10 MiB) is 413/40005; the content type of an upload is sniffed
  from its bytes (discord.py sends every file as ``application/octet-stream``);
- 429s carry ``retry_after`` and the ``Via`` header (without ``Via`` discord.py treats a 429 as a
  Cloudflare ban and raises instead of waiting).

Sharding (``FakeDiscord(shard_count=N, max_concurrency=M, guilds_per_shard=2500)``; the rules
and their sources are in :mod:`tests.fakes.discord_rules`, "Sharding"): ``GET /gateway/bot``
recommends ``shards`` = N with ``session_start_limit.max_concurrency`` = M; an IDENTIFY may
carry ``shard: [id, count]`` (outside ``0 <= id < count`` the socket is closed with 4010); a
session that would hold more than ``guilds_per_shard`` guilds is closed with 4011; each session
gets its own READY listing only its shard's guilds, then their GUILD_CREATEs; ``dispatch``
sends an event with a ``guild_id`` only to the sessions of shard ``(guild_id >> 22) % count``
and one without a guild only to shard 0. A session without ``shard`` is shard ``[0, 1]``: it
gets everything. ``add_guild(..., shard=(id, count))`` makes a guild that lands on that shard.

Strict: every message, modal, autocomplete answer and command sync is checked against Discord's
published limits (``tests/fakes/discord_rules.py``; 400/50035 with the ``errors`` tree); the
per-file limit is the interaction's ``attachment_size_limit``; the initial response must come
within 3 s and webhooks within 15 min of ``fake.clock`` (virtual time: it moves only by
``fake.clock.advance(s)``, so no test depends on the machine's speed).
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import mimetypes
import struct
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import WSMsgType, web
from aiohttp.typedefs import Handler

from . import discord_rules
from .clock import VirtualClock
from .discord_payloads import (
    InteractionContext,
    attachment_object,
    channel_object,
    iso_now,
    message_object,
    new_snowflake,
    user_object,
)

EPHEMERAL = 1 << 6
LOADING = 1 << 7
JSON = "application/json"
# developers/interactions/receiving-and-responding.mdx: "you must send an initial response within
# 3 seconds of receiving the event"; "Interaction tokens are valid for 15 minutes".
INITIAL_RESPONSE_S = 3.0
TOKEN_TTL_S = 15 * 60

# ---------------------------------------------------------------------------------- records


@dataclass
class UploadedFile:
    """A file as the fake stored it (uploads and files registered with ``add_attachment``)."""

    id: str
    filename: str
    content_type: str
    data: bytes
    url: str
    description: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    def to_attachment(self, *, ephemeral: bool = False) -> dict[str, Any]:
        return attachment_object(
            id=self.id,
            filename=self.filename,
            url=self.url,
            size=self.size,
            content_type=self.content_type,
            width=self.width,
            height=self.height,
            ephemeral=ephemeral,
            description=self.description,
        )


@dataclass
class MessageEvent:
    """A message created, edited or deleted. ``kind`` is one of: ``channel`` (POST
    /channels/{id}/messages), ``channel_edit``, ``channel_delete``, ``response`` (callback type 4),
    ``deferred`` (type 5 thinking message), ``update`` (callback type 7), ``followup``,
    ``followup_edit``, ``original_edit``, ``followup_delete``, ``original_delete``."""

    kind: str
    message_id: str
    channel_id: str
    content: str | None
    embeds: list[dict[str, Any]]
    components: list[dict[str, Any]]
    flags: int
    attachments: list[UploadedFile]
    interaction_id: str | None
    interaction_token: str | None
    multipart: bool
    payload: dict[str, Any]
    message: dict[str, Any]
    seq: int = 0

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def files(self) -> list[UploadedFile]:
        """Files uploaded by *this* request (``attachments`` also lists kept ones)."""
        return [a for a in self.attachments if a.id in self._new_ids]

    _new_ids: frozenset[str] = frozenset()


@dataclass
class CallbackEvent:
    """An accepted interaction response (POST /interactions/{id}/{token}/callback)."""

    interaction_id: str
    interaction_token: str
    type: int
    data: dict[str, Any]
    attachments: list[UploadedFile]
    multipart: bool
    seq: int = 0

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.data.get("flags") or 0) & EPHEMERAL)


@dataclass
class CommandSync:
    """A command registration: ``method`` PUT (bulk overwrite), POST (upsert) or DELETE."""

    application_id: str
    guild_id: str | None
    method: str
    payload: Any
    seq: int = 0


@dataclass
class Rejection:
    """An error answer the fake gave (scripted or real-behaviour)."""

    method: str
    path: str
    status: int
    code: int
    message: str
    scripted: bool
    seq: int = 0


@dataclass
class GatewayEvent:
    kind: str  # "identify" | "resume" | "close" | "refused" (closed with ``code``)
    session_id: str | None
    intents: int | None = None
    compress: str | None = None  # the ?compress= the client asked for
    seq: int = 0
    shard: tuple[int, int] | None = None  # the IDENTIFY's [shard_id, num_shards], if any
    code: int | None = None  # the close code of a refused IDENTIFY
    guilds: tuple[str, ...] = ()  # the guilds the READY listed


Event = MessageEvent | CallbackEvent | CommandSync | Rejection | GatewayEvent


@dataclass
class _Failure:
    status: int
    code: int
    message: str
    method: str | None
    path_contains: str | None
    uploads_only: bool
    retry_after: float | None
    is_global: bool
    remaining: int


@dataclass
class _Interaction:
    id: str
    token: str
    type: int
    channel_id: str | None
    guild_id: str | None
    user: dict[str, Any] | None
    command_type: int | None = None
    message_id: str | None = None  # the component's message (type 3)
    response_type: int | None = None
    original_id: str | None = None
    loading: bool = False
    ephemeral: bool = False
    expired: bool = False
    created: float = 0.0  # on fake.clock
    attachment_size_limit: int | None = None


@dataclass(eq=False)
class _Connection:
    ws: web.WebSocketResponse
    compress: str | None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    zlib_ctx: Any = None
    session_id: str | None = None
    seq: int = 0
    ready: bool = False
    shard: tuple[int, int] = (0, 1)  # [shard_id, num_shards] from the IDENTIFY

    async def send(self, payload: dict[str, Any]) -> None:
        text = json.dumps(payload, separators=(",", ":"))
        async with self.lock:
            if self.ws.closed:
                return
            if self.zlib_ctx is not None:
                raw = self.zlib_ctx.compress(text.encode()) + self.zlib_ctx.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(raw)
            else:
                await self.ws.send_str(text)

    async def dispatch(self, event: str, data: Any) -> None:
        self.seq += 1
        await self.send({"op": 0, "t": event, "s": self.seq, "d": data})


class DiscordError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        retry_after: float = 0.05,
        is_global: bool = False,
        errors: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.retry_after, self.is_global = retry_after, is_global
        self.errors = errors


def _invalid(errors: discord_rules.Errors) -> None:
    """Raise Discord's answer to a broken limit: 400/50035 "Invalid Form Body" + errors tree."""
    if errors:
        raise DiscordError(400, 50035, "Invalid Form Body", errors=errors.tree)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # body= (not text=) so Content-Type is exactly "application/json": discord.py compares with ==.
    return web.Response(
        body=json.dumps(data).encode(), status=status, content_type=JSON, headers=headers
    )


def sniff(data: bytes, filename: str) -> tuple[str, int | None, int | None]:
    """Content type (by magic bytes, like Discord) and PNG dimensions."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return "image/png", w, h
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", None, None
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", None, None
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif", None, None
    guessed = mimetypes.guess_type(filename)[0]
    return guessed or "application/octet-stream", None, None


# ---------------------------------------------------------------------------------- server


class FakeDiscord:
    """Discord REST + gateway + CDN on 127.0.0.1 (random port). See the module docstring."""

    def __init__(
        self,
        *,
        token: str | None = "fake-bot-token",
        application_id: str | None = None,
        guild_id: str | None = None,
        channel_id: str | None = None,
        bot_name: str = "Pixelsmith",
        heartbeat_interval_ms: int = 41_250,
        max_file_size: int = 10 * 1024 * 1024,
        max_request_size: int = 25 * 1024 * 1024,
        labels_required: bool = True,
        deleted_defer_unknown: bool = True,
        shard_count: int = 1,
        max_concurrency: int = 1,
        guilds_per_shard: int = discord_rules.MAX_GUILDS_PER_SHARD,
    ) -> None:
        self.token = token
        self.application_id = application_id or new_snowflake()
        self.bot_user = user_object(self.application_id, bot_name, bot=True)
        self.bot_user.update(verified=True, mfa_enabled=False, email=None, bio="")
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.max_file_size = max_file_size
        self.max_request_size = max_request_size
        #: Refuse the deprecated modal form (a text input in an action row, not in a Label).
        self.labels_required = labels_required
        #: discord-api-docs#3087: after the deferred "thinking" message is deleted, follow-ups
        #: answer 404/10008, as real Discord does.
        self.deleted_defer_unknown = deleted_defer_unknown
        #: GET /gateway/bot: the recommended shard count and the IDENTIFY concurrency.
        self.shard_count = shard_count
        self.max_concurrency = max_concurrency
        #: More guilds than this on one session is closed with 4011 (sharding required).
        self.guilds_per_shard = guilds_per_shard
        self.clock = VirtualClock()
        self.guilds: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.guild_id = self.add_guild("Pixelsmith Test", guild_id=guild_id)
        self.channel_id = self.add_channel(self.guild_id, "general", channel_id=channel_id)

        self.events: list[Event] = []
        self.stored_messages: dict[str, dict[str, Any]] = {}
        self.files: dict[str, UploadedFile] = {}  # by id; served by the CDN route
        self.registered_commands: dict[str | None, list[dict[str, Any]]] = {}
        self._interactions: dict[str, _Interaction] = {}
        self._failures: list[_Failure] = []
        self._waiters: list[tuple[Callable[[Any], bool], asyncio.Future[Any]]] = []
        self._connections: set[_Connection] = set()
        self._sessions: set[str] = set()
        self._session_shards: dict[str, tuple[int, int]] = {}
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----------------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE`` (config ``discord.api_base_url``)."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY``; also what ``/gateway/bot`` returns."""
        return f"ws://127.0.0.1:{self.port}/gateway/"

    async def start(self) -> FakeDiscord:
        app = web.Application(
            middlewares=[self._middleware], client_max_size=self.max_request_size * 2
        )
        api = "/api/v{version:\\d+}"
        r = app.router
        r.add_get("/gateway/", self._ws_handler)
        r.add_get("/gateway", self._ws_handler)  # resume_gateway_url / AutoShardedClient form
        r.add_get(f"{api}/users/@me", self._get_me)
        r.add_get(f"{api}/oauth2/applications/@me", self._get_application)
        r.add_get(f"{api}/gateway", self._get_gateway)
        r.add_get(f"{api}/gateway/bot", self._get_gateway)
        for path in ("/applications/{app}/commands", "/applications/{app}/guilds/{guild}/commands"):
            r.add_put(api + path, self._put_commands)
            r.add_get(api + path, self._get_commands)
            r.add_post(api + path, self._post_command)
            r.add_delete(api + path + "/{command}", self._delete_command)
        r.add_post(f"{api}/interactions/{{iid}}/{{token}}/callback", self._callback)
        r.add_post(f"{api}/webhooks/{{app}}/{{token}}", self._followup)
        wh_msg = f"{api}/webhooks/{{app}}/{{token}}/messages/{{mid}}"
        r.add_get(wh_msg, self._webhook_get)
        r.add_patch(wh_msg, self._webhook_edit)
        r.add_delete(wh_msg, self._webhook_delete)
        r.add_get(f"{api}/channels/{{cid}}", self._get_channel)
        r.add_post(f"{api}/channels/{{cid}}/typing", self._typing)
        r.add_post(f"{api}/channels/{{cid}}/messages", self._channel_post)
        r.add_get(f"{api}/channels/{{cid}}/messages/{{mid}}", self._channel_get)
        r.add_patch(f"{api}/channels/{{cid}}/messages/{{mid}}", self._channel_edit)
        r.add_delete(f"{api}/channels/{{cid}}/messages/{{mid}}", self._channel_delete)
        r.add_get("/attachments/{cid}/{aid}/{filename}", self._cdn)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        for conn in list(self._connections):
            await conn.ws.close(code=1001)
        for _, fut in self._waiters:
            fut.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ----------------------------------------------------------------------- world setup

    def add_guild(
        self, name: str, *, guild_id: str | None = None, shard: tuple[int, int] | None = None
    ) -> str:
        """A guild; ``shard=(id, count)`` picks an id that Discord routes to that shard."""
        gid = guild_id or new_snowflake()
        if shard is not None and guild_id is None:
            gid = str(discord_rules.snowflake_on_shard(int(gid), *shard))
        self.guilds[gid] = {"id": gid, "name": name, "channels": []}
        return gid

    def add_channel(self, guild_id: str, name: str, *, channel_id: str | None = None) -> str:
        cid = channel_id or new_snowflake()
        ch = channel_object(cid, guild_id, name, position=len(self.guilds[guild_id]["channels"]))
        self.guilds[guild_id]["channels"].append(ch)
        self.channels[cid] = ch
        return cid

    def context(self, **overrides: Any) -> InteractionContext:
        """An :class:`InteractionContext` in the fake's guild/channel, for the payload builders."""
        base: dict[str, Any] = {
            "application_id": self.application_id,
            "guild_id": self.guild_id,
            "channel_id": self.channel_id,
            "attachment_size_limit": self.max_file_size,
        }
        base.update(
            {k: str(v) if k.endswith("_id") and v is not None else v for k, v in overrides.items()}
        )
        ch = self.channels.get(base["channel_id"])
        if ch is not None and "channel_name" not in overrides:
            base["channel_name"] = ch["name"]
        return InteractionContext(**base)

    def add_attachment(
        self,
        filename: str,
        data: bytes,
        content_type: str | None = None,
        *,
        channel_id: str | None = None,
    ) -> str:
        """Serve ``data`` from the fake CDN; returns its (signed-looking) url."""
        return self._store_file(filename, data, content_type, channel_id or self.channel_id).url

    def make_attachment(
        self,
        filename: str,
        data: bytes,
        content_type: str | None = None,
        *,
        channel_id: str | None = None,
    ) -> dict[str, Any]:
        """Like :meth:`add_attachment` but returns the Discord attachment object."""
        f = self._store_file(filename, data, content_type, channel_id or self.channel_id)
        return f.to_attachment()

    def expire_attachment(self, url_or_id: str) -> None:
        """The CDN answers 404 for this file from now on (signed urls expire)."""
        for fid, f in list(self.files.items()):
            if url_or_id in (fid, f.url):
                del self.files[fid]

    def _store_file(
        self,
        filename: str,
        data: bytes,
        content_type: str | None,
        channel_id: str,
        description: str | None = None,
    ) -> UploadedFile:
        sniffed, w, h = sniff(data, filename)
        if content_type in (None, "", "application/octet-stream"):
            content_type = sniffed
        fid = new_snowflake()
        ex = int(time.time()) + 86_400
        url = (
            f"{self.base_url}/attachments/{channel_id}/{fid}/{quote(filename)}"
            f"?ex={ex:x}&is={int(time.time()):x}&hm={fid[-8:]}&"
        )
        f = UploadedFile(fid, filename, content_type, data, url, description, w, h)
        self.files[fid] = f
        return f

    # ----------------------------------------------------------------------- scripting

    def fail_next(
        self,
        status: int,
        code: int = 0,
        message: str = "",
        *,
        method: str | None = None,
        path_contains: str | None = None,
        uploads_only: bool = False,
        retry_after: float | None = None,
        is_global: bool = False,
        times: int = 1,
    ) -> None:
        """Answer the next matching request(s) with an error (one-shot unless ``times`` > 1)."""
        self._failures.append(
            _Failure(
                status,
                code,
                message or f"{status}: scripted failure",
                method,
                path_contains,
                uploads_only,
                retry_after,
                is_global,
                times,
            )
        )

    def fail_next_upload(self, *, times: int = 1) -> None:
        """Next request carrying files gets 413 / 40005 "Request entity too large"."""
        self.fail_next(413, 40005, "Request entity too large", uploads_only=True, times=times)

    def rate_limit_next(
        self,
        retry_after: float = 0.05,
        *,
        path_contains: str | None = None,
        method: str | None = None,
        is_global: bool = False,
    ) -> None:
        """Next matching request gets 429 with ``retry_after`` (discord.py sleeps, then retries)."""
        self.fail_next(
            429,
            0,
            "You are being rate limited.",
            method=method,
            path_contains=path_contains,
            retry_after=retry_after,
            is_global=is_global,
        )

    def expire_interaction(self, token_or_id: str) -> None:
        """Its callback now answers 404/10062 and its webhooks 401/50027 (token past 3 s/15 min)."""
        for it in self._interactions.values():
            if token_or_id in (it.id, it.token):
                it.expired = True
                return
        raise KeyError(token_or_id)

    def delete_as_user(self, message_id: str) -> None:
        """The user dismisses/deletes a message (e.g. the "thinking" one of a deferred reply)."""
        self.stored_messages.pop(str(message_id), None)

    def register_interaction(self, payload: dict[str, Any]) -> None:
        """Make the REST side know an interaction (``dispatch`` does this by itself; registering
        first lets a test ``expire_interaction`` before dispatching)."""
        if payload["token"] in self._interactions:
            return
        data = payload.get("data") or {}
        user = (payload.get("member") or {}).get("user") or payload.get("user")
        msg = payload.get("message")
        self._interactions[payload["token"]] = _Interaction(
            id=str(payload["id"]),
            token=payload["token"],
            type=int(payload["type"]),
            channel_id=payload.get("channel_id") or (payload.get("channel") or {}).get("id"),
            guild_id=payload.get("guild_id"),
            user=user,
            command_type=data.get("type"),
            message_id=str(msg["id"]) if msg else None,
            created=self.clock.now(),
            attachment_size_limit=payload.get("attachment_size_limit"),
        )
        if msg and str(msg["id"]) not in self.stored_messages:
            self.stored_messages[str(msg["id"])] = dict(msg)

    # ----------------------------------------------------------------------- gateway push

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Send a DISPATCH to every identified gateway session of the event's shard (its
        ``guild_id``'s, shard 0 without one); returns how many got it."""
        if event == "INTERACTION_CREATE":
            self.register_interaction(data)
        guild_id = data.get("guild_id")
        conns = [
            c
            for c in self._connections
            if c.ready and discord_rules.shard_receives(c.shard, guild_id)
        ]
        for c in conns:
            await c.dispatch(event, data)
        return len(conns)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT to every client (they reconnect and RESUME)."""
        for c in list(self._connections):
            await c.send({"op": 7, "d": None})

    async def invalidate_sessions(self) -> None:
        """Send op 9 INVALID_SESSION (not resumable) to every client: they IDENTIFY again."""
        self._sessions.clear()
        for c in list(self._connections):
            c.ready = False
            await c.send({"op": 9, "d": False})

    @property
    def gateway_clients(self) -> int:
        return sum(1 for c in self._connections if c.ready)

    @property
    def shards_connected(self) -> list[tuple[int, int]]:
        """The ``[shard_id, num_shards]`` of every identified session, sorted."""
        return sorted(c.shard for c in self._connections if c.ready)

    def guilds_of_shard(self, shard: tuple[int, int]) -> list[str]:
        return [g for g in self.guilds if discord_rules.shard_of(g, shard[1]) == shard[0]]

    # ----------------------------------------------------------------------- records

    @property
    def messages(self) -> list[MessageEvent]:
        return [e for e in self.events if isinstance(e, MessageEvent)]

    @property
    def callbacks(self) -> list[CallbackEvent]:
        return [e for e in self.events if isinstance(e, CallbackEvent)]

    @property
    def commands(self) -> list[CommandSync]:
        return [e for e in self.events if isinstance(e, CommandSync)]

    @property
    def rejections(self) -> list[Rejection]:
        return [e for e in self.events if isinstance(e, Rejection)]

    @property
    def gateway(self) -> list[GatewayEvent]:
        return [e for e in self.events if isinstance(e, GatewayEvent)]

    def _record(self, event: Event) -> None:
        self._seq += 1
        event.seq = self._seq
        self.events.append(event)
        for pred, fut in list(self._waiters):
            if fut.done():
                continue
            try:
                if pred(event):
                    fut.set_result(event)
            except Exception as exc:  # a broken predicate should fail the test, not hang it
                fut.set_exception(exc)
        self._waiters = [(p, f) for p, f in self._waiters if not f.done()]

    async def wait_for(self, predicate: Callable[[Any], bool], *, timeout: float = 10.0) -> Any:
        """First recorded event (past or future) matching ``predicate``. The timeout only turns a
        hang into a failure (``TimeoutError``); never use it to assert speed."""
        for e in self.events:
            if predicate(e):
                return e
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, fut))
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._waiters = [(p, f) for p, f in self._waiters if f is not fut]

    async def wait_for_message(
        self, predicate: Callable[[MessageEvent], bool] = lambda m: True, *, timeout: float = 10.0
    ) -> MessageEvent:
        event = await self.wait_for(
            lambda e: isinstance(e, MessageEvent) and predicate(e), timeout=timeout
        )
        assert isinstance(event, MessageEvent)
        return event

    async def wait_for_callback(
        self, predicate: Callable[[CallbackEvent], bool] = lambda c: True, *, timeout: float = 10.0
    ) -> CallbackEvent:
        event = await self.wait_for(
            lambda e: isinstance(e, CallbackEvent) and predicate(e), timeout=timeout
        )
        assert isinstance(event, CallbackEvent)
        return event

    # ----------------------------------------------------------------------- middleware

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        scripted = False
        try:
            if path.startswith("/api/"):
                body = await request.read()  # read first: answering mid-upload resets the socket
                is_upload = request.content_type.startswith("multipart/")
                for f in self._failures:
                    if (
                        f.remaining > 0
                        and (f.method is None or f.method == request.method)
                        and (f.path_contains is None or f.path_contains in path)
                        and (not f.uploads_only or is_upload)
                    ):
                        f.remaining -= 1
                        scripted = True
                        raise DiscordError(
                            f.status,
                            f.code,
                            f.message,
                            is_global=f.is_global,
                            retry_after=f.retry_after or 0.05,
                        ) from None
                if len(body) > self.max_request_size:
                    raise DiscordError(413, 40005, "Request entity too large")
                if self._needs_bot_auth(path):
                    auth = request.headers.get("Authorization", "")
                    if self.token is not None and auth != f"Bot {self.token}":
                        raise DiscordError(401, 0, "401: Unauthorized")
            return await handler(request)
        except DiscordError as err:
            return self._error(request, err, scripted)
        except web.HTTPNotFound:
            return self._error(request, DiscordError(404, 0, "404: Not Found"), False)
        except web.HTTPMethodNotAllowed:
            return self._error(request, DiscordError(405, 0, "405: Method Not Allowed"), False)

    def _error(self, request: web.Request, err: DiscordError, scripted: bool) -> web.Response:
        self._record(
            Rejection(request.method, request.path, err.status, err.code, err.message, scripted)
        )
        if err.status == 429:
            retry, glob = err.retry_after, err.is_global
            return _json(
                {"message": err.message, "retry_after": retry, "global": glob},
                429,
                {
                    "Via": "1.1 google",
                    "Retry-After": str(max(1, int(retry))),
                    "X-RateLimit-Scope": "global" if glob else "user",
                },
            )
        body: dict[str, Any] = {"message": err.message, "code": err.code}
        if err.errors is not None:
            body["errors"] = err.errors
        return _json(body, err.status)

    @staticmethod
    def _needs_bot_auth(path: str) -> bool:
        # Interaction callbacks and webhooks are authorised by the token in the path.
        return "/interactions/" not in path and "/webhooks/" not in path

    # ----------------------------------------------------------------------- bodies

    async def _read_body(
        self, request: web.Request, it: _Interaction | None = None
    ) -> tuple[dict[str, Any], list[tuple[int, str, bytes, str]], bool]:
        """(payload, [(index, filename, bytes, part content type)], multipart?)

        A file above the per-file limit is 413/40005: the interaction's
        ``attachment_size_limit`` where there is one, else ``max_file_size``.
        """
        limit = self.max_file_size
        if it is not None and it.attachment_size_limit:
            limit = int(it.attachment_size_limit)
        if not request.content_type.startswith("multipart/"):
            raw = await request.read()
            return (json.loads(raw) if raw else {}), [], False
        # The middleware already read the body (request.read() caches it), so parse the cached
        # bytes with the stdlib rather than aiohttp's streaming reader.
        raw = await request.read()
        head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
        form = email.message_from_bytes(head + raw, policy=email.policy.HTTP)
        payload: dict[str, Any] = {}
        files: list[tuple[int, str, bytes, str]] = []
        for part in form.iter_parts():
            param = part.get_param("name", header="content-disposition")
            name = param if isinstance(param, str) else ""
            body = part.get_payload(decode=True)
            data = body if isinstance(body, bytes) else b""
            if name == "payload_json":
                payload = json.loads(data)
            elif name.startswith("files["):
                if len(data) > limit:
                    raise DiscordError(413, 40005, "Request entity too large")
                idx = int(name[6:-1])
                filename = part.get_filename() or f"file{idx}"
                files.append((idx, filename, data, part.get_content_type()))
        return payload, files, True

    def _attachments(
        self,
        payload: dict[str, Any],
        files: list[tuple[int, str, bytes, str]],
        channel_id: str,
        existing: list[dict[str, Any]] | None,
    ) -> tuple[list[UploadedFile], set[str]]:
        """Resolve ``attachments`` (kept ids + descriptions of new files) against uploads."""
        meta = {str(a.get("id")): a for a in payload.get("attachments") or []}
        new: dict[int, UploadedFile] = {}
        for idx, filename, data, ctype in files:
            m = meta.get(str(idx), {})
            new[idx] = self._store_file(
                m.get("filename", filename), data, ctype, channel_id, m.get("description")
            )
        kept: list[UploadedFile] = []
        if existing:
            keep_ids = None if "attachments" not in payload else set(meta)
            kept = [
                self.files[a["id"]]
                for a in existing
                if a["id"] in self.files and (keep_ids is None or a["id"] in keep_ids)
            ]
        return kept + [new[i] for i in sorted(new)], {f.id for f in new.values()}

    def _message_event(
        self,
        kind: str,
        msg: dict[str, Any],
        payload: dict[str, Any],
        files: list[UploadedFile],
        new_ids: set[str],
        multipart: bool,
        it: _Interaction | None,
    ) -> MessageEvent:
        ev = MessageEvent(
            kind=kind,
            message_id=msg["id"],
            channel_id=msg["channel_id"],
            content=msg.get("content"),
            embeds=msg.get("embeds", []),
            components=msg.get("components", []),
            flags=msg.get("flags", 0),
            attachments=files,
            interaction_id=it.id if it else None,
            interaction_token=it.token if it else None,
            multipart=multipart,
            payload=payload,
            message=msg,
        )
        ev._new_ids = frozenset(new_ids)
        self._record(ev)
        return ev

    def _new_message(
        self,
        channel_id: str,
        payload: dict[str, Any],
        files: list[UploadedFile],
        it: _Interaction | None,
        *,
        flags: int,
    ) -> dict[str, Any]:
        ephemeral = bool(flags & EPHEMERAL)
        meta = None
        msg_type = 0
        if it is not None:
            meta = {
                "id": it.id,
                "type": it.type,
                "user": it.user or self.bot_user,
                "authorizing_integration_owners": {"0": it.guild_id} if it.guild_id else {},
            }
            if it.type == 2:
                msg_type = 23 if it.command_type in (2, 3) else 20
        guild_id = self.channels.get(channel_id, {}).get("guild_id")
        msg = message_object(
            channel_id=channel_id,
            guild_id=guild_id,
            author=self.bot_user,
            content=payload.get("content") or "",
            embeds=payload.get("embeds") or [],
            components=payload.get("components") or [],
            flags=flags,
            attachments=[f.to_attachment(ephemeral=ephemeral) for f in files],
            type=msg_type,
            application_id=self.application_id if it else None,
            webhook_id=self.application_id if it else None,
            interaction_metadata=meta,
        )
        if payload.get("message_reference"):
            msg["message_reference"] = payload["message_reference"]
        self.stored_messages[msg["id"]] = msg
        return msg

    def _edit_message(
        self, msg: dict[str, Any], payload: dict[str, Any], files: list[UploadedFile]
    ) -> dict[str, Any]:
        for key in ("content", "embeds", "components"):
            if key in payload:
                msg[key] = (
                    payload[key] if payload[key] is not None else ([] if key != "content" else "")
                )
        if "flags" in payload and payload["flags"] is not None:
            msg["flags"] = (msg.get("flags", 0) & EPHEMERAL) | int(payload["flags"])
        msg["flags"] = msg.get("flags", 0) & ~LOADING
        if "attachments" in payload or files:
            msg["attachments"] = [
                f.to_attachment(ephemeral=bool(msg["flags"] & EPHEMERAL)) for f in files
            ]
        msg["edited_timestamp"] = iso_now()
        return msg

    # ----------------------------------------------------------------------- REST: identity

    async def _get_me(self, request: web.Request) -> web.Response:
        return _json(self.bot_user)

    async def _get_application(self, request: web.Request) -> web.Response:
        return _json(
            {
                "id": self.application_id,
                "name": self.bot_user["username"],
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": 0,
                "owner": user_object("100000000000000099", "owner"),
                "team": None,
                "bot": self.bot_user,
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": len(self.guilds),
                "integration_types_config": {"0": {}},
            }
        )

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return _json(
            {
                "url": self.gateway_url.rstrip("/"),
                "shards": self.shard_count,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": self.max_concurrency,
                },
            }
        )

    # ----------------------------------------------------------------------- REST: commands

    def _check_app(self, request: web.Request) -> str | None:
        if request.match_info["app"] != self.application_id:
            raise DiscordError(
                403, 20012, "You are not authorized to perform this action on this application"
            )
        guild = request.match_info.get("guild")
        if guild is not None and guild not in self.guilds:
            raise DiscordError(403, 50001, "Missing Access")
        return guild

    def _command_object(self, guild: str | None, cmd: dict[str, Any]) -> dict[str, Any]:
        prev = {(c["name"], c.get("type", 1)): c for c in self.registered_commands.get(guild, [])}
        old = prev.get((cmd["name"], cmd.get("type", 1)))
        out = {
            "type": 1,
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "nsfw": False,
            "contexts": None,
            "integration_types": [0],
            **cmd,
        }
        out.update(
            id=old["id"] if old else new_snowflake(),
            application_id=self.application_id,
            version=new_snowflake(),
        )
        if guild is not None:
            out["guild_id"] = guild
        return out

    async def _put_commands(self, request: web.Request) -> web.Response:
        guild = self._check_app(request)
        payload = await request.json()
        _invalid(discord_rules.check_commands(payload))
        out = [self._command_object(guild, c) for c in payload]
        self.registered_commands[guild] = out
        self._record(CommandSync(self.application_id, guild, "PUT", payload))
        return _json(out)

    async def _get_commands(self, request: web.Request) -> web.Response:
        return _json(self.registered_commands.get(self._check_app(request), []))

    async def _post_command(self, request: web.Request) -> web.Response:
        guild = self._check_app(request)
        payload = await request.json()
        _invalid(discord_rules.check_command(payload))
        obj = self._command_object(guild, payload)
        cmds = [c for c in self.registered_commands.get(guild, []) if c["id"] != obj["id"]]
        self.registered_commands[guild] = [*cmds, obj]
        self._record(CommandSync(self.application_id, guild, "POST", payload))
        return _json(obj, 201)

    async def _delete_command(self, request: web.Request) -> web.Response:
        guild = self._check_app(request)
        cid = request.match_info["command"]
        self.registered_commands[guild] = [
            c for c in self.registered_commands.get(guild, []) if c["id"] != cid
        ]
        self._record(CommandSync(self.application_id, guild, "DELETE", cid))
        return web.Response(status=204)

    # ----------------------------------------------------------------------- REST: interactions

    def _interaction(self, token: str) -> _Interaction | None:
        return self._interactions.get(token)

    async def _callback(self, request: web.Request) -> web.Response:
        iid, token = request.match_info["iid"], request.match_info["token"]
        it = self._interaction(token)
        # Discord answers 10062 to an id/token pair it never sent (a test makes interactions
        # known with ``dispatch`` or ``register_interaction``), as to an expired one.
        if it is None:
            raise DiscordError(404, 10062, "Unknown interaction")
        late = self.clock.now() - it.created > INITIAL_RESPONSE_S
        if it.expired or it.id != iid or late:
            raise DiscordError(404, 10062, "Unknown interaction")
        if it.response_type is not None:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        body, raw_files, multipart = await self._read_body(request, it)
        rtype, data = int(body["type"]), body.get("data") or {}
        if rtype in (4, 7):
            _invalid(discord_rules.check_message(data, files=len(raw_files)))
        elif rtype == 9:
            _invalid(discord_rules.check_modal(data, labels_required=self.labels_required))
        elif rtype == 8:
            _invalid(discord_rules.check_choices(data.get("choices")))
        allowed = {1: {1}, 2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}.get(it.type)
        if allowed is not None and rtype not in allowed:
            raise DiscordError(
                400,
                50035,
                f"Invalid Form Body: response type {rtype} "
                f"is not valid for interaction type {it.type}",
            )
        flags = int(data.get("flags") or 0)
        channel_id = it.channel_id or self.channel_id
        files, new_ids = self._attachments(data, raw_files, channel_id, None)
        it.response_type = rtype
        self._record(CallbackEvent(it.id, token, rtype, data, files, multipart))
        resource: dict[str, Any] = {"type": rtype}
        if rtype == 4:
            msg = self._new_message(channel_id, data, files, it, flags=flags)
            it.original_id, it.ephemeral = msg["id"], bool(flags & EPHEMERAL)
            self._message_event("response", msg, data, files, new_ids, multipart, it)
            resource["message"] = msg
        elif rtype == 5:
            msg = self._new_message(channel_id, {}, [], it, flags=(flags & EPHEMERAL) | LOADING)
            it.original_id, it.loading, it.ephemeral = msg["id"], True, bool(flags & EPHEMERAL)
            self._message_event("deferred", msg, data, [], set(), multipart, it)
            resource["message"] = msg
        elif rtype in (6, 7) and it.message_id in self.stored_messages:
            msg = self.stored_messages[it.message_id]
            it.original_id = msg["id"]
            if rtype == 7:
                kept, _ = self._attachments(data, [], channel_id, msg.get("attachments"))
                self._edit_message(msg, data, kept + files)
                self._message_event("update", msg, data, kept + files, new_ids, multipart, it)
            resource["message"] = msg
        interaction: dict[str, Any] = {
            "id": it.id,
            "type": it.type,
            "response_message_loading": rtype == 5,
            "response_message_ephemeral": it.ephemeral,
        }
        if it.original_id and rtype in (4, 5, 7):
            interaction["response_message_id"] = it.original_id
        return _json({"interaction": interaction, "resource": resource})

    def _webhook_interaction(self, request: web.Request) -> _Interaction:
        if request.match_info["app"] != self.application_id:
            raise DiscordError(404, 10015, "Unknown Webhook")
        it = self._interaction(request.match_info["token"])
        if it is None or it.response_type is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        if it.expired or self.clock.now() - it.created > TOKEN_TTL_S:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        return it

    def _webhook_message(self, it: _Interaction, mid: str) -> dict[str, Any]:
        if mid == "@original":
            if it.original_id is None:
                raise DiscordError(404, 10008, "Unknown Message")
            mid = it.original_id
        msg = self.stored_messages.get(mid)
        if msg is None:
            raise DiscordError(404, 10008, "Unknown Message")
        return msg

    async def _followup(self, request: web.Request) -> web.Response:
        it = self._webhook_interaction(request)
        payload, raw_files, multipart = await self._read_body(request, it)
        _invalid(discord_rules.check_message(payload, files=len(raw_files)))
        channel_id = it.channel_id or self.channel_id
        files, new_ids = self._attachments(payload, raw_files, channel_id, None)
        flags = int(payload.get("flags") or 0)
        if self.deleted_defer_unknown and it.loading and it.original_id not in self.stored_messages:
            # discord-api-docs#3087: once the deferred "thinking" message is deleted (by the bot
            # or the user), follow-ups and @original edits answer Unknown Message.
            raise DiscordError(404, 10008, "Unknown Message")
        if it.loading and it.original_id in self.stored_messages:
            # Discord: the first followup after a deferred response *is* that response.
            it.loading = False
            msg = self._edit_message(
                self.stored_messages[it.original_id], {**payload, "flags": None}, files
            )
        else:
            msg = self._new_message(channel_id, payload, files, it, flags=flags)
        self._message_event("followup", msg, payload, files, new_ids, multipart, it)
        if request.query.get("wait") in ("0", "false"):
            return web.Response(status=204)
        return _json(msg)

    async def _webhook_get(self, request: web.Request) -> web.Response:
        it = self._webhook_interaction(request)
        return _json(self._webhook_message(it, request.match_info["mid"]))

    async def _webhook_edit(self, request: web.Request) -> web.Response:
        it = self._webhook_interaction(request)
        mid = request.match_info["mid"]
        msg = self._webhook_message(it, mid)
        payload, raw_files, multipart = await self._read_body(request, it)
        _invalid(discord_rules.check_message(payload, files=len(raw_files)))
        files, new_ids = self._attachments(
            payload, raw_files, msg["channel_id"], msg.get("attachments")
        )
        if msg["id"] == it.original_id:
            it.loading = False
        self._edit_message(msg, payload, files)
        kind = "original_edit" if mid == "@original" else "followup_edit"
        self._message_event(kind, msg, payload, files, new_ids, multipart, it)
        return _json(msg)

    async def _webhook_delete(self, request: web.Request) -> web.Response:
        it = self._webhook_interaction(request)
        mid = request.match_info["mid"]
        msg = self._webhook_message(it, mid)
        self.stored_messages.pop(msg["id"], None)
        kind = "original_delete" if mid == "@original" else "followup_delete"
        self._message_event(kind, msg, {}, [], set(), False, it)
        return web.Response(status=204)

    # ----------------------------------------------------------------------- REST: channels

    def _channel(self, cid: str) -> dict[str, Any]:
        ch = self.channels.get(cid)
        if ch is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return ch

    async def _get_channel(self, request: web.Request) -> web.Response:
        return _json(self._channel(request.match_info["cid"]))

    async def _typing(self, request: web.Request) -> web.Response:
        self._channel(request.match_info["cid"])
        return web.Response(status=204)

    async def _channel_post(self, request: web.Request) -> web.Response:
        cid = self._channel(request.match_info["cid"])["id"]
        payload, raw_files, multipart = await self._read_body(request)
        _invalid(discord_rules.check_message(payload, files=len(raw_files)))
        files, new_ids = self._attachments(payload, raw_files, cid, None)
        flags = int(payload.get("flags") or 0) & ~EPHEMERAL  # no ephemeral channel messages
        msg = self._new_message(cid, payload, files, None, flags=flags)
        self._message_event("channel", msg, payload, files, new_ids, multipart, None)
        return _json(msg)

    def _channel_message(self, request: web.Request) -> dict[str, Any]:
        cid = self._channel(request.match_info["cid"])["id"]
        msg = self.stored_messages.get(request.match_info["mid"])
        if msg is None or msg["channel_id"] != cid:
            raise DiscordError(404, 10008, "Unknown Message")
        return msg

    async def _channel_get(self, request: web.Request) -> web.Response:
        return _json(self._channel_message(request))

    async def _channel_edit(self, request: web.Request) -> web.Response:
        msg = self._channel_message(request)
        if msg["author"]["id"] != self.bot_user["id"]:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        payload, raw_files, multipart = await self._read_body(request)
        _invalid(discord_rules.check_message(payload, files=len(raw_files)))
        files, new_ids = self._attachments(
            payload, raw_files, msg["channel_id"], msg.get("attachments")
        )
        self._edit_message(msg, payload, files)
        self._message_event("channel_edit", msg, payload, files, new_ids, multipart, None)
        return _json(msg)

    async def _channel_delete(self, request: web.Request) -> web.Response:
        msg = self._channel_message(request)
        self.stored_messages.pop(msg["id"], None)
        self._message_event("channel_delete", msg, {}, [], set(), False, None)
        return web.Response(status=204)

    # ----------------------------------------------------------------------- CDN

    async def _cdn(self, request: web.Request) -> web.Response:
        f = self.files.get(request.match_info["aid"])
        if f is None or f.filename != request.match_info["filename"]:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=f.data, content_type=f.content_type)

    # ----------------------------------------------------------------------- gateway

    async def _ws_handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        compress = request.query.get("compress")
        conn = _Connection(ws, compress)
        if compress == "zlib-stream":
            conn.zlib_ctx = zlib.compressobj()
        # zstd-stream (discord.py picks it when `zstandard` or Python 3.14's compression.zstd is
        # importable) is answered with plain text frames: discord.py only decompresses binary ones.
        self._connections.add(conn)
        try:
            await conn.send(
                {
                    "op": 10,
                    "d": {
                        "heartbeat_interval": self.heartbeat_interval_ms,
                        "_trace": ["fake-discord"],
                    },
                }
            )
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                await self._on_gateway_message(conn, json.loads(msg.data))
        finally:
            self._connections.discard(conn)
            self._record(GatewayEvent("close", conn.session_id))
        return ws

    async def _on_gateway_message(self, conn: _Connection, msg: dict[str, Any]) -> None:
        op: Any = msg.get("op")
        d: Any = msg.get("d")  # a mapping for every op the fake answers
        if op == 1:
            await conn.send({"op": 11})
        elif op == 2:
            if self.token is not None and d.get("token") != self.token:
                await conn.ws.close(code=4004, message=b"Authentication failed.")
                return
            shard = discord_rules.identify_shard(d.get("shard"))
            refusal: tuple[int, bytes] | None = None
            if shard is None:
                refusal = (discord_rules.INVALID_SHARD, b"Invalid shard.")
            elif len(self.guilds_of_shard(shard)) > self.guilds_per_shard:
                refusal = (discord_rules.SHARDING_REQUIRED, b"Sharding required.")
            if refusal is not None:
                sent = d.get("shard")
                got = (sent[0], sent[1]) if isinstance(sent, list) and len(sent) == 2 else None
                self._record(GatewayEvent("refused", None, shard=got, code=refusal[0]))
                await conn.ws.close(code=refusal[0], message=refusal[1])
                return
            assert shard is not None
            conn.shard = shard
            guilds = self.guilds_of_shard(shard)
            conn.session_id = new_snowflake()
            self._sessions.add(conn.session_id)
            self._session_shards[conn.session_id] = shard
            ready: dict[str, Any] = {
                "v": 10,
                "user": self.bot_user,
                "session_type": "normal",
                "session_id": conn.session_id,
                "resume_gateway_url": self.gateway_url.rstrip("/"),
                "guilds": [{"id": g, "unavailable": True} for g in guilds],
                "application": {"id": self.application_id, "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "user_settings": {},
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": [],
                "auth": {},
                "_trace": ["fake-discord"],
            }
            if d.get("shard") is not None:
                ready["shard"] = list(shard)
            await conn.dispatch("READY", ready)
            for gid in guilds:
                await conn.dispatch("GUILD_CREATE", self._guild_create(gid))
            conn.ready = True
            self._record(
                GatewayEvent(
                    "identify",
                    conn.session_id,
                    d.get("intents"),
                    conn.compress,
                    shard=shard if d.get("shard") is not None else None,
                    guilds=tuple(guilds),
                )
            )
        elif op == 6:
            if d.get("session_id") not in self._sessions:
                await conn.send({"op": 9, "d": False})
                return
            conn.session_id, conn.seq = d["session_id"], int(d.get("seq") or 0)
            conn.shard = self._session_shards.get(conn.session_id, (0, 1))
            await conn.dispatch("RESUMED", {"_trace": ["fake-discord"]})
            conn.ready = True
            self._record(GatewayEvent("resume", conn.session_id, None, conn.compress))
        elif op == 8:  # REQUEST_GUILD_MEMBERS: answer with an empty chunk so waiters finish
            await conn.dispatch(
                "GUILD_MEMBERS_CHUNK",
                {
                    "guild_id": d.get("guild_id"),
                    "members": [],
                    "chunk_index": 0,
                    "chunk_count": 1,
                    "nonce": d.get("nonce"),
                },
            )

    def _guild_create(self, gid: str) -> dict[str, Any]:
        g = self.guilds[gid]
        everyone = {
            "id": gid,
            "name": "@everyone",
            "permissions": "2248473465835073",
            "position": 0,
            "color": 0,
            "colors": {"primary_color": 0},
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        me = {
            "user": self.bot_user,
            "roles": [],
            "joined_at": iso_now(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
        }
        return {
            "id": gid,
            "name": g["name"],
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": "100000000000000099",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "preferred_locale": "en-US",
            "features": [],
            "roles": [everyone],
            "emojis": [],
            "stickers": [],
            "channels": [dict(c) for c in g["channels"]],
            "threads": [],
            "members": [me],
            "member_count": 2,
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "large": False,
            "unavailable": False,
            "joined_at": iso_now(),
            "lazy": True,
            "application_id": None,
            "max_members": 500000,
            "premium_subscription_count": 0,
        }


# ---------------------------------------------------------------------------------- discord.py


@contextlib.contextmanager
def point_discord_py_at(fake: FakeDiscord) -> Iterator[FakeDiscord]:
    """Point discord.py (process-wide) at ``fake``; restores the real URLs on exit.

    The production adapter does the same from ``discord.api_base_url``: ``Route.BASE`` for REST
    and ``DiscordWebSocket.DEFAULT_GATEWAY`` for the websocket (take it from GET /gateway/bot).
    """
    import yarl
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    old_base, old_gw = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = fake.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield fake
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gw


@contextlib.asynccontextmanager
async def running_fake_discord(**kwargs: Any) -> AsyncIterator[FakeDiscord]:
    """``async with running_fake_discord() as fake:`` started *and* pointed-at."""
    async with FakeDiscord(**kwargs) as fake:
        with point_discord_py_at(fake):
            yield fake
