"""A loopback fake of an OpenAI-compatible image gateway (AIHubMix-like), on aiohttp.web.

It speaks the wire formats the real ``openai`` SDK (3.x, httpx2) parses:

* ``POST /v1/images/generations`` JSON in; JSON out, or SSE when ``"stream": true``
  (``image_generation.partial_image`` x partial_images, then ``image_generation.completed``).
* ``POST /v1/images/edits`` multipart in (``image`` or several ``image[]``, optional ``mask``);
  JSON out, or SSE (``image_edit.partial_image`` / ``image_edit.completed``).
* ``POST /v1/chat/completions`` the "reverse" models (gpt-4o-image, gpt-4o-image-vip): an SSE
  stream of ``chat.completion.chunk`` whose text deltas carry the gateway's progress format and
  ``![id](url)`` image links that point back at this fake.
* ``GET /files/<name>`` and ``GET /files/download/<name>``: images made by this fake (or HTML,
  a huge body, a redirect... see ``FileMode``).
* ``GET /v1/models``: the served model ids.

Every answer is scriptable with :class:`Behavior` (a per-call queue, then ``gw.default``), and
every call is recorded in ``gw.calls`` with the API key redacted.

Usage::

    async with FakeGateway() as gw:
        client = AsyncOpenAI(base_url=gw.base_url, api_key="sk-test", max_retries=0)
        gw.script(Behavior(error=ERRORS["moderation_blocked"]))
        ...
        assert gw.calls_to("/v1/images/generations")[0].json["prompt"] == "..."

Run for humans: ``python -m tests.fakes.gateway --port 8765 [--latency 0.2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import copy
import dataclasses
import json
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import BodyPartReader, web

from tests.fakes import gateway_rules as rules
from tests.fakes.images import noise_png, parse_size, png_for_index, sniff, solid_png

# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GatewayError:
    """One error answer. ``body()`` is exactly ``{"error": {message, type, param, code, **extra}}``.

    ``message`` may contain ``{model}``, replaced by the requested model name.
    ``raw_body`` (bytes) replaces the JSON body entirely (e.g. an HTML 502 page from a proxy).
    """

    status: int
    code: str | None
    message: str
    type: str = "invalid_request_error"
    param: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    raw_body: bytes | None = None
    raw_content_type: str = "text/html"

    def error_object(self, model: str | None = None) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "message": self.message.replace("{model}", model or ""),
            "type": self.type,
            "param": self.param,
            "code": self.code,
        }
        obj.update(copy.deepcopy(self.extra))
        return obj

    def body(self, model: str | None = None) -> dict[str, Any]:
        return {"error": self.error_object(model)}


_SAFETY_MSG = (
    "Your request was rejected as a result of our safety system. Your request may contain "
    "content that is not allowed by our safety system."
)

#: Ready-made errors, one per row of the error table in reference/openai-images.md (and a few
#: variants). Shapes marked "gateway-style" imitate a one-api/new-api gateway and are guesses.
ERRORS: dict[str, GatewayError] = {
    # 400: refused by the safety system
    "moderation_blocked": GatewayError(
        400, "moderation_blocked", _SAFETY_MSG, type="user_error"
    ),  # exactly the gateway documentation's example
    "moderation_blocked_details": GatewayError(
        400,
        "moderation_blocked",
        _SAFETY_MSG,
        type="image_generation_user_error",
        extra={"moderation_details": {"moderation_stage": "input", "categories": ["sexual"]}},
    ),
    "moderation_blocked_output": GatewayError(
        400,
        "moderation_blocked",
        _SAFETY_MSG,
        type="image_generation_user_error",
        extra={"moderation_details": {"moderation_stage": "output", "categories": ["violence"]}},
    ),
    "content_policy_violation": GatewayError(
        400,
        "content_policy_violation",
        "Your request was rejected as a result of our safety system. Image descriptions "
        "generated from your prompt may contain text that is not allowed by our safety system.",
    ),
    "safety_system_no_code": GatewayError(400, None, _SAFETY_MSG),
    # 400: our validation missed something
    "prompt_too_long": GatewayError(
        400,
        "prompt_too_long",
        "Invalid 'prompt': string too long. Expected a string with maximum length 32000.",
        param="prompt",
    ),
    "size_not_supported": GatewayError(
        400,
        "size_not_supported",
        "Invalid size. Supported sizes are 1024x1024, 1024x1536 and 1536x1024.",
        param="size",
    ),
    "n_not_within_range": GatewayError(
        400, "n_not_within_range", "Invalid 'n': must be between 1 and 10.", param="n"
    ),
    "prompt_missing": GatewayError(
        400, "prompt_missing", "You must provide a prompt.", param="prompt"
    ),
    "invalid_value": GatewayError(
        400,
        "invalid_value",
        "Invalid value: 'ultra'. Supported values are: 'low', 'medium', 'high', and 'auto'.",
        param="quality",
    ),
    # 400: the account is out of money
    "billing_hard_limit_reached": GatewayError(
        400, "billing_hard_limit_reached", "Billing hard limit has been reached"
    ),
    # 401
    "invalid_api_key": GatewayError(
        401,
        "invalid_api_key",
        "Incorrect API key provided: sk-****. You can find your API key in your dashboard.",
    ),
    "invalid_api_key_gateway": GatewayError(  # gateway-style: rewritten type, empty param
        401,
        None,
        "Invalid token (request id: 20260101000000000000000)",
        type="new_api_error",
        param="",
    ),
    # 403
    "insufficient_user_quota": GatewayError(  # gateway-style: the gateway balance is empty
        403,
        "insufficient_user_quota",
        "user quota is not enough (request id: 20260101000000000000001)",
        type="new_api_error",
    ),
    "forbidden_region": GatewayError(
        403,
        "unsupported_country_region_territory",
        "Country, region, or territory not supported",
        type="request_forbidden",
    ),
    "forbidden_model": GatewayError(  # other 403: the key may not use this model
        403, None, "This token has no access to model {model}", type="new_api_error"
    ),
    # 404 / 503: model unknown or retired
    "model_not_found": GatewayError(
        404,
        "model_not_found",
        "Incorrect model ID. The model `{model}` does not exist or you do not have access to it.",
    ),
    "model_not_found_503": GatewayError(  # gateway-style: no upstream channel for the model
        503,
        "model_not_found",
        "Incorrect model ID: no available channel for model {model} under group default",
        type="new_api_error",
    ),
    # 429
    "insufficient_quota": GatewayError(
        429,
        "insufficient_quota",
        "You exceeded your current quota, please check your plan and billing details.",
        type="insufficient_quota",
    ),
    "rate_limit_exceeded": GatewayError(
        429,
        "rate_limit_exceeded",
        "Rate limit reached for images per minute. Please try again in 12s.",
        type="requests",
        headers={"retry-after": "12"},
    ),
    "rate_limited_no_code": GatewayError(
        429, None, "Too many requests, please slow down.", type="rate_limit_error"
    ),
    # 5xx
    "server_error": GatewayError(
        500,
        None,
        "The server had an error while processing your request. Sorry about that!",
        type="server_error",
    ),
    "bad_gateway": GatewayError(
        502, "bad_response_status_code", "bad response status code 502", type="upstream_error"
    ),
    "bad_gateway_html": GatewayError(  # a proxy's HTML page: e.body is the text, e.code None
        502,
        None,
        "",
        raw_body=b"<html><head><title>502 Bad Gateway</title></head>"
        b"<body><center><h1>502 Bad Gateway</h1></center></body></html>",
    ),
    "service_unavailable": GatewayError(
        503,
        None,
        "The engine is currently overloaded, please try again later.",
        type="server_error",
    ),
    # reverse models, as an HTTP error (it may also arrive inside a 200 stream: see ChatVariant)
    "input_moderation": GatewayError(
        400,
        "input_moderation",
        "Input content may violate the content policy (input_moderation)",
        type="upstream_error",
    ),
}

STREAM_UNSUPPORTED = GatewayError(
    400, "unknown_parameter", "Unknown parameter: 'stream'.", param="stream"
)

# --------------------------------------------------------------------------------------------
# Behaviour
# --------------------------------------------------------------------------------------------


class Fault:
    """Values for ``Behavior.fault``: transport-level and malformed answers."""

    DROP = "drop"  # close the connection before any byte of a response
    RESET_MID_BODY = "reset_mid_body"  # status + headers + half the body, then abort
    HANG = "hang"  # never answer (until hang_s or the fake stops): client timeouts
    GARBAGE = "garbage"  # 200, Content-Type application/json, body not JSON
    GARBAGE_HTML = "garbage_html"  # 200, Content-Type text/html, an HTML page
    EMPTY_DATA = "empty_data"  # 200, {"created":..., "data": []}
    NO_DATA = "no_data"  # 200, {"created":...} without "data"
    STREAM_UNSUPPORTED = "stream_unsupported"  # stream=true -> 400 Unknown parameter 'stream'
    STREAM_IGNORED = "stream_ignored"  # stream=true -> plain JSON answer (gateway ignores it)
    STREAM_ERROR = "stream_error"  # 200 SSE: partials, then an "error" event (Behavior.error)
    STREAM_CUT = "stream_cut"  # 200 SSE: partials, then the connection is aborted


class ChatVariant:
    """Values for ``Behavior.chat``: shapes of the reverse models' chat stream."""

    NORMAL = "normal"  # the reference's format, one image
    VIP = "vip"  # longer progress, two images (like the reference's example)
    SPLIT = "split"  # NORMAL text cut into 7-character deltas (links split across chunks)
    WHITESPACE = "whitespace"  # CRLF, tabs, stray spaces, no space after '>', extra blanks
    STALL = "stall"  # queuing + some progress, then silence (until hang_s / stop)
    NO_IMAGE = "no_image"  # "Generation complete" but no ![..](..) link, then [DONE]
    INPUT_MODERATION = "input_moderation"  # 200 stream, the refusal as text content
    INPUT_MODERATION_ERROR = "input_moderation_error"  # 200 stream, a {"error": {...}} chunk
    FAILED_CN = "failed_cn"  # 200 stream: Chinese status lines and "生成失败"
    HTML_IMAGE = "html_image"  # normal text, but the image URL serves an HTML page
    NO_DONE = "no_done"  # normal text, connection closed without finish_reason/[DONE]


class FileMode:
    """Values for ``Behavior.file_mode``: what ``GET /files/<name>`` serves for this call's images."""

    PNG = "png"
    HTML = "html"  # 200 text/html under the .png name
    HUGE = "huge"  # PNG header + huge_bytes of zeros, with Content-Length
    HUGE_CHUNKED = "huge_chunked"  # same, chunked, no Content-Length
    REDIRECT = "redirect"  # 302 to redirect_to (default: this fake's real PNG for the file)
    NOT_FOUND = "not_found"


@dataclass
class Behavior:
    """How the fake answers one call (or every call, as ``gw.default``)."""

    latency_s: float = 0.0  # delay before the first byte of the answer
    event_interval_s: float = 0.0  # delay between SSE events
    error: GatewayError | None = None  # answer this error (status + body) instead
    fault: str | None = None  # a Fault value
    return_n: int | None = None  # images actually returned (e.g. fewer than n)
    response_format: str = "b64_json"  # "b64_json" | "url" (data[].url, no usage)
    usage: bool | None = None  # None: usage unless reverse model or url mode
    usage_override: dict[str, Any] | None = None
    # Text output tokens (a reasoning model's text), reported the way the SDK types them
    # (openai 3.57 ``types/images_response.py``: ``usage.output_tokens_details`` with
    # ``image_tokens`` and ``text_tokens``; ``output_tokens`` counts both). None: no details.
    output_text_tokens: int | None = None
    big: bool = False  # ~3 MB random-noise PNGs (benchmarks)
    chat: str = ChatVariant.NORMAL
    file_mode: str = FileMode.PNG
    huge_bytes: int = 64 * 1024 * 1024
    redirect_to: str | None = None
    hang_s: float = 3600.0
    #: Set when the call reaches the fake (after auth and ``latency_s``): a test waits on it.
    arrived: asyncio.Event | None = None
    #: The answer waits until the test sets it (or the fake stops): a call as long as a test
    #: needs, with no wall-clock latency to guess.
    hold: asyncio.Event | None = None


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass
class FileRecord:
    field: str
    filename: str | None
    content_type: str | None
    size: int
    format: str | None
    width: int | None
    height: int | None
    data: bytes = dataclasses.field(default=b"", compare=False, repr=False)  # the part's bytes


@dataclass
class CallRecord:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # Authorization / api-key headers removed
    has_key: bool
    key_last4: str | None
    json: Any = None  # parsed JSON body (JSON endpoints)
    form: dict[str, Any] = field(default_factory=dict)  # multipart text fields ("a[]" -> list)
    files: list[FileRecord] = field(default_factory=list)  # multipart file parts
    stream: bool = False
    model: str | None = None
    behavior: Behavior | None = None
    status: int | None = None  # status answered (None: dropped/hung before a status)
    at: float = field(default_factory=time.time)

    @property
    def params(self) -> dict[str, Any]:
        """JSON body or multipart text fields, whichever this call had."""
        return self.json if isinstance(self.json, dict) else self.form


# --------------------------------------------------------------------------------------------
# Tokens and prices
# --------------------------------------------------------------------------------------------

REVERSE_MODELS = ("gpt-4o-image", "gpt-4o-image-vip")
DEFAULT_MODELS = tuple(rules.MODELS)  # every model the rules know, reverse ones included
STANDARD_SIZES = ("1024x1024", "1024x1536", "1536x1024")
QUALITIES = ("low", "medium", "high", "auto", "xhigh", "max")

#: Output tokens per image, gpt-image-1 (openai-images.md), for 1024x1024 / 1024x1536 / 1536x1024.
OUTPUT_TOKENS: dict[str, dict[str, int]] = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}
IMAGE_INPUT_TOKENS_PER_IMAGE = 323  # input image tokens charged per edit image (a fixed guess)


def resolve_quality(quality: str | None) -> str:
    if quality in (None, "", "auto"):
        return "medium"
    return "high" if quality in ("xhigh", "max") else quality


def output_tokens(quality: str | None, size: str) -> int:
    table = OUTPUT_TOKENS.get(resolve_quality(quality), OUTPUT_TOKENS["medium"])
    if size in table:
        return table[size]
    w, h = parse_size(size)
    return max(1, round(table["1024x1024"] * (w * h) / (1024 * 1024)))


def text_tokens(prompt: str) -> int:
    return max(1, math.ceil(len(prompt) / 4))


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_SECRET_HEADERS = {"authorization", "api-key", "x-api-key"}


@dataclass
class _File:
    data: bytes
    mode: str
    behavior: Behavior


class FakeGateway:
    """A scriptable loopback OpenAI-compatible image gateway. See the module docstring."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        default: Behavior | None = None,
        served_models: Iterable[str] | None = None,
        api_key: str | None = None,
        validate: bool = True,
        strict: bool = True,
        blocked_terms: Iterable[str] = ("hayao miyazaki", "makoto shinkai"),
    ) -> None:
        self.host = host
        self.port = port
        self.default: Behavior = default or Behavior()
        #: None: accept any model. A set: other models answer ``unknown_model_error``.
        self.served_models: set[str] | None = set(served_models) if served_models else None
        self.unknown_model_error: GatewayError = ERRORS["model_not_found"]
        #: Extra fields of a model's ``GET /v1/models`` entry (``shutdown_date``,
        #: ``supported_endpoint_types``...), by model id.
        self.model_extras: dict[str, dict[str, Any]] = {}
        #: None: accept any key. A string: other keys answer ERRORS["invalid_api_key"].
        self.api_key = api_key
        #: More accounts' keys this gateway knows (communities' own keys), accepted like
        #: ``api_key``; once any key is known, an unknown key answers 401 like the real one.
        self.other_keys: set[str] = set()
        #: Check parameters like the gateway does (explicit size "auto", n range, ...).
        self.validate = validate
        #: Reject body parameters the endpoint does not define, like a strict OpenAI-compatible
        #: gateway (400 unknown_parameter). Per-model rules (tests/fakes/gateway_rules.py) hold
        #: whenever ``validate`` does.
        self.strict = strict
        #: Prompts containing one of these (case-insensitive) are refused like the gateway does:
        #: n == 1 -> 400 moderation_blocked; n > 1 -> one image fewer; chat -> input_moderation.
        self.blocked_terms = [t.lower() for t in blocked_terms]
        self.calls: list[CallRecord] = []
        self.file_hits: list[str] = []
        #: API calls (generations, edits, chat) being answered now, and the most there ever were
        #: at once: what a global concurrency limit is checked against.
        self.in_flight = 0
        self.peak_in_flight = 0
        #: Where ``CallRecord.at`` comes from (a test may pin it to its own clock).
        self.clock: Callable[[], float] = time.time
        self._queue: collections.deque[Behavior] = collections.deque()
        self._files: dict[str, _File] = {}
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._origin = ""

    # ---- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1`` (valid after start())."""
        return f"{self._origin}/v1"

    @property
    def origin(self) -> str:
        return self._origin

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_post("/v1/images/generations", self._counted(self._generations))
        app.router.add_post("/v1/images/edits", self._counted(self._edits))
        app.router.add_post("/v1/chat/completions", self._counted(self._chat))
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/files/download/{name}", self._file)
        app.router.add_get("/files/{name}", self._file)
        return app

    async def start(self) -> str:
        self._closing = asyncio.Event()
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        sock = server.sockets[0]  # type: ignore[attr-defined]
        self.port = sock.getsockname()[1]
        self._origin = f"http://{self.host}:{self.port}"
        return self.base_url

    async def stop(self) -> None:
        self._closing.set()  # wakes hung / stalled handlers, which then drop their connection
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeGateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _counted(self, handler: Handler) -> Handler:
        async def counted(request: web.Request) -> web.StreamResponse:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                return await handler(request)
            finally:
                self.in_flight -= 1

        return counted

    # ---- scripting and inspection ---------------------------------------------------------

    def script(self, *behaviors: Behavior) -> None:
        """Queue behaviours for the next API calls (generations, edits, chat), in order."""
        self._queue.extend(behaviors)

    def fail_next(self, name: str, times: int = 1) -> None:
        """Shorthand: the next ``times`` API calls answer ``ERRORS[name]``."""
        self.script(*[Behavior(error=ERRORS[name]) for _ in range(times)])

    @property
    def pending(self) -> int:
        return len(self._queue)

    def calls_to(self, path: str) -> list[CallRecord]:
        return [c for c in self.calls if c.path == path]

    @property
    def last_call(self) -> CallRecord:
        return self.calls[-1]

    def reset(self) -> None:
        self.calls.clear()
        self.file_hits.clear()
        self._queue.clear()

    def file_url(self, name: str) -> str:
        return f"{self._origin}/files/{name}"

    def _next_behavior(self) -> Behavior:
        return self._queue.popleft() if self._queue else self.default

    # ---- helpers --------------------------------------------------------------------------

    def _record(self, request: web.Request) -> tuple[CallRecord, str | None]:
        headers: dict[str, str] = {}
        key: str | None = None
        for k, v in request.headers.items():
            if k.lower() in _SECRET_HEADERS:
                key = v.split(" ", 1)[1] if v.lower().startswith("bearer ") else v
                continue
            headers[k] = v
        rec = CallRecord(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=headers,
            has_key=bool(key),
            key_last4=key[-4:] if key and len(key) >= 12 else None,
            at=self.clock(),
        )
        self.calls.append(rec)
        return rec, key

    def _check_key(self, key: str | None) -> GatewayError | None:
        # Every request must carry a key the gateway issued (the SDK sends it as
        # "Authorization: Bearer <key>"), else 401 invalid_api_key: OpenAI API reference,
        # "Authentication" (https://platform.openai.com/docs/api-reference/authentication) and
        # "Error codes" (401 Invalid Authentication / Incorrect API key provided).
        known = ({self.api_key} if self.api_key is not None else set()) | self.other_keys
        if known and key not in known:
            return ERRORS["invalid_api_key"]
        return None

    async def _sleep(self, seconds: float) -> bool:
        """Sleep, returning True early if the fake is stopping."""
        if seconds <= 0:
            return self._closing.is_set()
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
            return True
        except TimeoutError:
            return False

    @staticmethod
    def _abort(request: web.Request) -> None:
        if request.transport is not None:
            request.transport.abort()

    def _error_response(
        self, rec: CallRecord, err: GatewayError, model: str | None = None
    ) -> web.Response:
        rec.status = err.status
        if err.raw_body is not None:
            return web.Response(
                status=err.status,
                body=err.raw_body,
                content_type=err.raw_content_type,
                headers=err.headers,
            )
        return web.json_response(err.body(model), status=err.status, headers=err.headers)

    def _json(self, rec: CallRecord, obj: Any, status: int = 200) -> web.Response:
        rec.status = status
        return web.json_response(obj, status=status, dumps=json.dumps)

    def _store(self, data: bytes, b: Behavior, suffix: str = ".png") -> str:
        name = uuid.uuid4().hex + suffix
        self._files[name] = _File(data=data, mode=b.file_mode, behavior=b)
        return name

    def _image_bytes(self, size: str, index: int, b: Behavior) -> bytes:
        w, h = parse_size(size)
        return noise_png(w, h) if b.big else png_for_index(w, h, index)

    def _is_blocked(self, prompt: str) -> bool:
        low = prompt.lower()
        return any(t in low for t in self.blocked_terms)

    async def _preamble(
        self,
        request: web.Request,
        rec: CallRecord,
        key: str | None,
        b: Behavior,
        model: str | None,
    ) -> web.StreamResponse | None:
        """Auth, model, latency and transport faults. A response (or an aborted one) or None."""
        err = self._check_key(key)
        if err is not None:
            return self._error_response(rec, err, model)
        if self.served_models is not None and model not in self.served_models:
            return self._error_response(rec, self.unknown_model_error, model)
        stopping = await self._sleep(b.latency_s)
        if b.arrived is not None:
            b.arrived.set()
        if b.hold is not None and not stopping:
            closing = asyncio.ensure_future(self._closing.wait())
            held = asyncio.ensure_future(b.hold.wait())
            await asyncio.wait((closing, held), return_when=asyncio.FIRST_COMPLETED)
            stopping = not held.done()
            for waiter in (closing, held):
                waiter.cancel()
        if stopping or b.fault == Fault.DROP:
            self._abort(request)
            return web.Response(status=499)  # never reaches the client: transport is closed
        if b.fault == Fault.HANG:
            await self._sleep(b.hang_s)
            self._abort(request)
            return web.Response(status=499)
        if b.error is not None and b.fault != Fault.STREAM_ERROR:
            return self._error_response(rec, b.error, model)
        if rec.stream and b.fault == Fault.STREAM_UNSUPPORTED:
            return self._error_response(rec, STREAM_UNSUPPORTED, model)
        return None

    def _validate(
        self,
        params: dict[str, Any],
        *,
        edit: bool,
        files: tuple[str, ...] = (),
        images: int = 0,
    ) -> GatewayError | None:
        if not self.validate:
            return None
        if self.strict:
            known = rules.EDIT_PARAMS if edit else rules.GENERATE_PARAMS
            bad = rules.unknown_params({**params, **dict.fromkeys(files)}, known)
            if bad is not None:
                return _rejection(bad)
        prompt = params.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            return ERRORS["prompt_missing"]
        if len(prompt) > 32000:
            return ERRORS["prompt_too_long"]
        try:
            n = int(params.get("n", 1) if params.get("n") is not None else 1)
        except (TypeError, ValueError):
            return ERRORS["n_not_within_range"]
        if not 1 <= n <= 10:
            return ERRORS["n_not_within_range"]
        partial = params.get("partial_images")
        if partial is not None and str(partial) not in ("0", "1", "2", "3"):
            return replace(
                ERRORS["invalid_value"],
                message=f"Invalid value: {partial!r}. partial_images must be between 0 and 3.",
                param="partial_images",
            )
        if edit and "moderation" in params:
            return GatewayError(
                400, "unknown_parameter", "Unknown parameter: 'moderation'.", param="moderation"
            )
        broken = rules.check_model(
            str(params.get("model") or ""),
            params,
            edit=edit,
            has_mask="mask" in files,
            has_markup="markup" in files,
            images=images,
        )
        return _rejection(broken) if broken is not None else None

    # ---- images ---------------------------------------------------------------------------

    async def _generations(self, request: web.Request) -> web.StreamResponse:
        rec, key = self._record(request)
        b = self._next_behavior()
        rec.behavior = b
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        rec.json = body
        params: dict[str, Any] = body if isinstance(body, dict) else {}
        rec.stream = params.get("stream") is True
        rec.model = params.get("model")
        early = await self._preamble(request, rec, key, b, rec.model)
        if early is not None:
            return early
        return await self._images_answer(request, rec, b, params, edit=False, input_images=0)

    async def _edits(self, request: web.Request) -> web.StreamResponse:
        rec, key = self._record(request)
        b = self._next_behavior()
        rec.behavior = b
        form: dict[str, Any] = {}
        images: list[bytes] = []
        mask: bytes | None = None
        file_fields: list[str] = []
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue  # nested multipart: not something the SDK sends
                name = part.name or ""
                filename = part.filename
                data = await part.read()
                if filename is not None or name in ("image", "image[]", "mask", "markup"):
                    file_fields.append(name)
                    info = sniff(bytes(data))
                    rec.files.append(
                        FileRecord(
                            field=name,
                            filename=filename,
                            content_type=part.headers.get("Content-Type"),
                            size=len(data),
                            format=info[0] if info else None,
                            width=info[1] if info else None,
                            height=info[2] if info else None,
                            data=bytes(data),
                        )
                    )
                    if name in ("image", "image[]"):
                        images.append(bytes(data))
                    elif name == "mask":
                        mask = bytes(data)
                else:
                    value = bytes(data).decode("utf-8", "replace")
                    if name.endswith("[]"):
                        form.setdefault(name, []).append(value)
                    else:
                        form[name] = value
        rec.form = form
        rec.stream = form.get("stream") == "true"
        rec.model = form.get("model")
        early = await self._preamble(request, rec, key, b, rec.model)
        if early is not None:
            return early
        if self.validate:
            if not images:
                return self._error_response(
                    rec,
                    GatewayError(
                        400,
                        "missing_required_parameter",
                        "Missing required parameter: 'image'.",
                        param="image",
                    ),
                )
            if mask is not None:
                m, first = sniff(mask), sniff(images[0])
                if m is None or m[0] != "PNG" or (first and m[1:] != first[1:]):
                    return self._error_response(
                        rec,
                        GatewayError(
                            400,
                            "invalid_value",
                            "Invalid mask image: the mask must be a PNG with the same dimensions as the image.",
                            param="mask",
                        ),
                    )
        return await self._images_answer(
            request, rec, b, form, edit=True, input_images=len(images), files=tuple(file_fields)
        )

    async def _images_answer(
        self,
        request: web.Request,
        rec: CallRecord,
        b: Behavior,
        params: dict[str, Any],
        *,
        edit: bool,
        input_images: int,
        files: tuple[str, ...] = (),
    ) -> web.StreamResponse:
        model = str(params.get("model") or "")
        err = self._validate(params, edit=edit, files=files, images=input_images)
        if err is not None:
            return self._error_response(rec, err, model)
        prompt = str(params.get("prompt"))
        n = int(params.get("n") or 1)
        size = str(params.get("size") or "1024x1024")
        quality = params.get("quality")
        count = n if b.return_n is None else b.return_n
        if self._is_blocked(prompt):
            if n == 1:
                return self._error_response(rec, ERRORS["moderation_blocked"], model)
            count = min(count, n - 1)

        now = int(time.time())
        per_image = output_tokens(quality, size)
        usage = b.usage_override or {
            "input_tokens": text_tokens(prompt) + input_images * IMAGE_INPUT_TOKENS_PER_IMAGE,
            "input_tokens_details": {
                "text_tokens": text_tokens(prompt),
                "image_tokens": input_images * IMAGE_INPUT_TOKENS_PER_IMAGE,
            },
            "output_tokens": per_image * count,
            "total_tokens": 0,
        }
        if b.usage_override is None and b.output_text_tokens is not None:
            usage["output_tokens_details"] = {
                "image_tokens": per_image * count,
                "text_tokens": b.output_text_tokens,
            }
            usage["output_tokens"] = per_image * count + b.output_text_tokens
        if b.usage_override is None:
            usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
        want_usage = b.usage
        if want_usage is None:
            want_usage = model not in REVERSE_MODELS and b.response_format != "url"
        meta = {
            "background": params.get("background") or "auto",
            "output_format": params.get("output_format") or "png",
            "quality": resolve_quality(quality),
            "size": size,
        }

        if rec.stream and b.fault != Fault.STREAM_IGNORED:
            return await self._images_sse(
                request, rec, b, params, count=count, meta=meta, usage=usage, edit=edit, now=now
            )

        if b.fault == Fault.GARBAGE:
            rec.status = 200
            return web.Response(
                body=b"<html>upstream error</html>", content_type="application/json"
            )
        if b.fault == Fault.GARBAGE_HTML:
            rec.status = 200
            return web.Response(
                text="<!DOCTYPE html><html><body>Welcome to nginx!</body></html>",
                content_type="text/html",
            )
        out: dict[str, Any] = {"created": now}
        if b.fault != Fault.NO_DATA:
            data: list[dict[str, Any]] = []
            if b.fault != Fault.EMPTY_DATA:
                for i in range(count):
                    png = self._image_bytes(size, i, b)
                    if b.response_format == "url":
                        data.append({"url": self.file_url(self._store(png, b))})
                    else:
                        data.append({"b64_json": base64.b64encode(png).decode("ascii")})
            out["data"] = data
        if model not in REVERSE_MODELS:
            out.update({k: v for k, v in meta.items() if k != "background" or v != "auto"})
        if want_usage:
            out["usage"] = usage

        if b.fault == Fault.RESET_MID_BODY:
            payload = json.dumps(out).encode()
            resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
            resp.content_length = len(payload)
            rec.status = 200
            await resp.prepare(request)
            await resp.write(payload[: max(1, len(payload) // 2)])
            await asyncio.sleep(0)
            self._abort(request)
            return resp
        return self._json(rec, out)

    async def _images_sse(
        self,
        request: web.Request,
        rec: CallRecord,
        b: Behavior,
        params: dict[str, Any],
        *,
        count: int,
        meta: dict[str, Any],
        usage: dict[str, Any],
        edit: bool,
        now: int,
    ) -> web.StreamResponse:
        prefix = "image_edit" if edit else "image_generation"
        partials = int(params.get("partial_images") or 0)
        size = meta["size"]
        w, h = parse_size(size)
        resp = await self._sse_open(request, rec)
        safety_id = params.get("safety_identifier") or params.get("user") or None
        for i in range(count):
            for p in range(partials):
                png = solid_png(max(1, w // 4), max(1, h // 4), (40 * (p + 1), 40, 40))
                event = {
                    "type": f"{prefix}.partial_image",
                    "b64_json": base64.b64encode(png).decode("ascii"),
                    "partial_image_index": p,
                    "created_at": int(time.time()),
                    **meta,
                }
                if not await self._sse_send(request, resp, event, b):
                    return resp
            if b.fault == Fault.STREAM_ERROR:
                err = b.error or ERRORS["moderation_blocked_output"]
                await self._sse_send(
                    request, resp, {"type": "error", "error": err.error_object()}, b, event="error"
                )
                await resp.write_eof()
                return resp
            if b.fault == Fault.STREAM_CUT:
                self._abort(request)
                return resp
            png = self._image_bytes(size, i, b)
            completed: dict[str, Any] = {
                "type": f"{prefix}.completed",
                "b64_json": base64.b64encode(png).decode("ascii"),
                "created_at": int(time.time()),
                **meta,
                "usage": _share_usage(usage, i, count),
            }
            if safety_id:
                completed["safety_identifier"] = safety_id
            if not await self._sse_send(request, resp, completed, b):
                return resp
        await resp.write_eof()
        return resp

    # ---- SSE plumbing ---------------------------------------------------------------------

    async def _sse_open(self, request: web.Request, rec: CallRecord) -> web.StreamResponse:
        resp = web.StreamResponse(
            status=200,
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            },
        )
        rec.status = 200
        await resp.prepare(request)
        return resp

    async def _sse_send(
        self,
        request: web.Request,
        resp: web.StreamResponse,
        obj: Any,
        b: Behavior,
        *,
        event: str | None = None,
    ) -> bool:
        """Write one SSE event; False if the fake is stopping (connection then aborted)."""
        if b.event_interval_s and await self._sleep(b.event_interval_s):
            self._abort(request)
            return False
        if event is None and isinstance(obj, dict) and isinstance(obj.get("type"), str):
            event = obj["type"]
        data = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)
        head = f"event: {event}\n" if event else ""
        try:
            await resp.write(f"{head}data: {data}\n\n".encode())
        except (ConnectionError, RuntimeError):
            return False
        return True

    # ---- chat (reverse models) -------------------------------------------------------------

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        rec, key = self._record(request)
        b = self._next_behavior()
        rec.behavior = b
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        rec.json = body
        params: dict[str, Any] = body if isinstance(body, dict) else {}
        rec.stream = params.get("stream") is True
        rec.model = params.get("model")
        early = await self._preamble(request, rec, key, b, rec.model)
        if early is not None:
            return early
        if self.validate and self.strict:
            bad = rules.unknown_params(params, rules.CHAT_PARAMS)
            if bad is not None:
                return self._error_response(rec, _rejection(bad), rec.model)
        prompt, _n_images = _chat_prompt(params.get("messages"))
        if self.validate and not prompt:
            return self._error_response(rec, ERRORS["prompt_missing"], rec.model)
        variant = b.chat
        if variant == ChatVariant.NORMAL and str(rec.model or "").endswith("-vip"):
            variant = ChatVariant.VIP
        if self._is_blocked(prompt) and variant in (ChatVariant.NORMAL, ChatVariant.VIP):
            variant = ChatVariant.INPUT_MODERATION
        deltas = self._chat_script(prompt, variant, b, rec.model or "")
        chunk_id = "chatcmpl-" + uuid.uuid4().hex[:24]
        created = int(time.time())
        model = rec.model or "gpt-4o-image"

        if not rec.stream:  # non-streaming: one chat.completion with the whole text
            text = "".join(d for d in deltas if isinstance(d, str))
            return self._json(
                rec,
                {
                    "id": chunk_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": text_tokens(prompt),
                        "completion_tokens": 0,
                        "total_tokens": text_tokens(prompt),
                    },
                },
            )

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": chunk_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": None,
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }

        resp = await self._sse_open(request, rec)
        if not await self._sse_send(request, resp, chunk({"role": "assistant", "content": ""}), b):
            return resp
        for d in deltas:
            if isinstance(d, _Stall):
                await self._sleep(b.hang_s)
                self._abort(request)
                return resp
            if isinstance(d, _ErrorChunk):
                await self._sse_send(request, resp, d.err.body(model), b)
                await resp.write_eof()
                return resp
            if not await self._sse_send(request, resp, chunk({"content": d}), b):
                return resp
        if variant == ChatVariant.NO_DONE:
            self._abort(request)
            return resp
        await self._sse_send(request, resp, chunk({}, "stop"), b)
        await self._sse_send(request, resp, "[DONE]", b)
        await resp.write_eof()
        return resp

    def _chat_script(self, prompt: str, variant: str, b: Behavior, model: str) -> list[Any]:
        """The text deltas (and stall/error markers) of one reverse-model stream."""
        ratio = next((r for r in ("2:3", "3:2", "1:1") if r in prompt), None)
        size = {"2:3": "1024x1536", "3:2": "1536x1024"}.get(ratio or "", "1024x1024")
        w, h = parse_size(size)
        echo = json.dumps({"prompt": prompt, "ratio": ratio or "1:1"}, ensure_ascii=False, indent=2)
        n_images = (
            b.return_n
            if b.return_n is not None
            else (2 if variant == ChatVariant.VIP or model.endswith("-vip") else 1)
        )
        html = variant == ChatVariant.HTML_IMAGE
        file_b = replace(b, file_mode=FileMode.HTML) if html else b

        preview = self.file_url(
            self._store(solid_png(max(1, w // 8), max(1, h // 8), (128, 128, 128)), b)
        )
        steps = [11, 19, 27, 34, 42, 50, 57, 64] if variant == ChatVariant.VIP else [11, 19, 27]
        progress = (
            [">🏃 Progress "] + [f"{s}{'.' * (3 + s % 2)}" for s in steps] + [f"[100]({preview})"]
        )

        links: list[str] = []
        for i in range(n_images):
            png = noise_png(w, h) if b.big else png_for_index(w, h, i)
            name = self._store(png, file_b)
            gen = "gen_" + uuid.uuid4().hex[:26]
            url = self.file_url(name)
            dl = f"{self._origin}/files/download/{name}"
            links.append(f"![{gen}]({url})\n\n[Click to download]({dl})\n\n")

        head = [f"```json\n{echo}\n```\n\n", ">🕐 Queuing.\n\n", ">⚡ Generating.....\n\n"]
        if variant in (
            ChatVariant.NORMAL,
            ChatVariant.VIP,
            ChatVariant.HTML_IMAGE,
            ChatVariant.NO_DONE,
        ):
            return [*head, *progress, "\n\n> ✅ Generation complete\n\n\n", *links]
        if variant == ChatVariant.SPLIT:
            text = "".join([*head, *progress, "\n\n> ✅ Generation complete\n\n\n", *links])
            return [text[i : i + 7] for i in range(0, len(text), 7)]
        if variant == ChatVariant.WHITESPACE:
            text = "".join(
                [
                    f"```json\r\n{echo}\r\n```\r\n",
                    ">🕐 Queuing.  \r\n\r\n\r\n",
                    ">⚡Generating.....\t\r\n",
                    ">🏃Progress 11 ....19....  27...",
                    f"[100]( {preview} )\r\n",
                    "\r\n\r\n>   ✅  Generation complete  \r\n\r\n\r\n\r\n",
                    *[s.replace("\n\n", " \r\n \r\n") for s in links],
                    "   \t",
                ]
            )
            return [text[i : i + 11] for i in range(0, len(text), 11)]
        if variant == ChatVariant.STALL:
            return [*head, ">🏃 Progress ", "11...", "19....", _Stall()]
        if variant == ChatVariant.NO_IMAGE:
            return [*head, *progress, "\n\n> ✅ Generation complete\n\n"]
        if variant == ChatVariant.INPUT_MODERATION:
            return [
                head[0],
                ">🕐 Queuing.\n\n",
                "> ❌ Generation failed: input_moderation\n\n",
                "Your prompt may violate our content policy (input_moderation). "
                "Please modify the prompt and try again.\n",
            ]
        if variant == ChatVariant.INPUT_MODERATION_ERROR:
            return [head[0], ">🕐 Queuing.\n\n", _ErrorChunk(ERRORS["input_moderation"])]
        if variant == ChatVariant.FAILED_CN:
            return [
                f"```json\n{echo}\n```\n\n",
                ">🕐 排队中.\n\n",
                ">⚡ 生成中.....\n\n",
                ">🏃 进度 11....19...",
                "\n\n> ❌ 生成失败\n\n",
                "失败原因：上游服务繁忙，请稍后重试\n",
            ]
        raise ValueError(f"unknown chat variant {variant!r}")

    # ---- files and models -----------------------------------------------------------------

    async def _file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.file_hits.append(request.path_qs)
        f = self._files.get(name)
        if f is None or (f.mode == FileMode.NOT_FOUND and "redirected" not in request.query):
            return web.Response(status=404, text="Not Found")
        mode = f.mode if "redirected" not in request.query else FileMode.PNG
        if mode == FileMode.HTML:
            return web.Response(
                text="<!DOCTYPE html><html><head><title>Login</title></head><body>Please log in</body></html>",
                content_type="text/html",
            )
        if mode == FileMode.REDIRECT:
            target = f.behavior.redirect_to or f"{self._origin}/files/{name}?redirected=1"
            raise web.HTTPFound(target)
        if mode in (FileMode.HUGE, FileMode.HUGE_CHUNKED):
            resp = web.StreamResponse(status=200, headers={"Content-Type": "image/png"})
            total = max(f.behavior.huge_bytes, len(f.data))
            if mode == FileMode.HUGE:
                resp.content_length = total
            else:
                resp.enable_chunked_encoding()
            await resp.prepare(request)
            try:
                await resp.write(f.data[:64])
                sent, block = 64, b"\0" * 65536
                while sent < total:
                    piece = block[: min(len(block), total - sent)]
                    await resp.write(piece)
                    sent += len(piece)
                await resp.write_eof()
            except (ConnectionError, RuntimeError):
                pass
            return resp
        return web.Response(body=f.data, content_type="image/png")

    async def _models(self, request: web.Request) -> web.StreamResponse:
        rec, key = self._record(request)
        err = self._check_key(key)
        if err is not None:
            return self._error_response(rec, err)
        ids = sorted(self.served_models) if self.served_models is not None else list(DEFAULT_MODELS)
        return self._json(
            rec,
            {
                "object": "list",
                "data": [
                    {
                        "id": i,
                        "object": "model",
                        "created": 1700000000,
                        "owned_by": "fake-gateway",
                        **self.model_extras.get(i, {}),
                    }
                    for i in ids
                ],
            },
        )


# --------------------------------------------------------------------------------------------
# small internals
# --------------------------------------------------------------------------------------------


class _Stall:
    pass


@dataclass
class _ErrorChunk:
    err: GatewayError


def _rejection(v: rules.Violation) -> GatewayError:
    """A broken rule as OpenAI answers it: 400 invalid_request_error with code and param."""
    return GatewayError(400, v.code, v.message, param=v.param)


def _share_usage(usage: dict[str, Any], index: int, count: int) -> dict[str, Any]:
    """Usage on the completed event of image ``index``: input on the first, output split."""
    if count <= 1:
        return usage
    out_each = usage["output_tokens"] // count
    inp = usage["input_tokens"] if index == 0 else 0
    details = usage["input_tokens_details"] if index == 0 else {"text_tokens": 0, "image_tokens": 0}
    shared: dict[str, Any] = {
        "input_tokens": inp,
        "input_tokens_details": details,
        "output_tokens": out_each,
        "total_tokens": inp + out_each,
    }
    out_details = usage.get("output_tokens_details")
    if isinstance(out_details, dict):  # the text on the first event, the image tokens split
        text_out = int(out_details.get("text_tokens") or 0) if index == 0 else 0
        image_each = int(out_details.get("image_tokens") or 0) // count
        shared["output_tokens_details"] = {"image_tokens": image_each, "text_tokens": text_out}
        shared["output_tokens"] = image_each + text_out
        shared["total_tokens"] = inp + image_each + text_out
    return shared


def _chat_prompt(messages: Any) -> tuple[str, int]:
    """Text of the last user message and the number of image parts in it."""
    if not isinstance(messages, list):
        return "", 0
    for msg in reversed(messages):
        if not isinstance(msg, dict) or msg.get("role") != "user":
            continue
        content = msg.get("content")
        if isinstance(content, str):
            return content, 0
        if isinstance(content, list):
            texts = [
                p.get("text", "")
                for p in content
                if isinstance(p, dict) and p.get("type") == "text"
            ]
            imgs = sum(1 for p in content if isinstance(p, dict) and p.get("type") == "image_url")
            return "\n".join(texts), imgs
    return "", 0


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


async def run_forever(host: str, port: int, default: Behavior) -> None:
    gw = FakeGateway(host=host, port=port, default=default)
    url = await gw.start()
    print(f"fake gateway: {url}  (any API key; Ctrl-C to stop)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await gw.stop()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Loopback fake of an OpenAI-compatible image gateway.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    ap.add_argument("--interval", type=float, default=0.0, help="seconds between stream events")
    ap.add_argument("--big", action="store_true", help="~3 MB noise PNGs")
    ap.add_argument("--url", action="store_true", help="answer data[].url instead of b64_json")
    args = ap.parse_args(argv)
    default = Behavior(
        latency_s=args.latency,
        event_interval_s=args.interval,
        big=args.big,
        response_format="url" if args.url else "b64_json",
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_forever(args.host, args.port, default))


if __name__ == "__main__":
    main()
