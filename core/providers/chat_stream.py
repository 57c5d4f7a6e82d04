"""The gateway's "reverse" image models (``gpt-4o-image``, ``gpt-4o-image-vip``).

They speak chat completions with ``stream=True``: the answer is markdown text, not a contract,
roughly::

    ```json {"prompt": "...", "ratio": "2:3"} ```      (the gateway echoes the prompt)
    >🕐 Queuing.
    >⚡ Generating.....
    >🏃 Progress 11....19....27...[100](preview-url)
    > ✅ Generation complete
    ![gen_id](image-url)
    [Click to download](download-url)

:class:`ReverseStreamParser` turns that text, fed in arbitrary pieces, into
:class:`core.types.Progress` events and the final image URLs (the ``![..](..)`` links after
completion; never the preview link of the progress line). :class:`ChatStreamProvider` makes the
one billable call, forwards progress through :class:`core.providers.base.Throttle`, downloads the
images with :func:`core.fetch.fetch_bytes` and maps every failure, including the ones that arrive
inside a 200 stream, to the typed outcomes of :mod:`core.errors`. The gateway bills these models
once the call is initiated, so any failure after the stream opened is ``Charge.CHARGED``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import re
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from typing import Any

import aiohttp
import openai
from openai.types.chat import ChatCompletionChunk, ChatCompletionContentPartParam

from core.errors import (
    Charge,
    InvalidRequest,
    PixelsmithError,
    Refused,
    UpstreamError,
)
from core.providers.base import ProviderCall, Throttle, download_image, nothing_sent
from core.safety import classify_status, refusal_from
from core.types import (
    GeneratedImage,
    ImageRequest,
    Progress,
    ProgressCallback,
    ProviderResult,
    Stage,
)

# --------------------------------------------------------------------------------------------
# The parser
# --------------------------------------------------------------------------------------------

# Markdown image: ![alt](url) or ![alt]( <url> "title" ); URLs never contain spaces or ')'.
_IMAGE_LINK = re.compile(r"!\[[^\]\n]*\]\(\s*<?([^\s)<>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# Any link target "](...)" complete, or still open at the end of a partial line.
_LINK_TARGET = re.compile(r"\]\([^)]*(?:\)|$)")
_BARE_URL = re.compile(r"(?:https?|data):\S+", re.IGNORECASE)
# A percent: 1-3 digits, not part of a longer number nor the fraction of a decimal ("45.5").
_NUMBER = re.compile(r"(?<!\d)(?<!\d\.)(\d{1,3})(?![\d])(?!\.\d)")
# The same in a line still arriving: the number must be followed by something (not "1" of "11").
_NUMBER_TERMINATED = re.compile(r"(?<!\d)(?<!\d\.)(\d{1,3})(?=[^\d.]|\.[^\d])")
_PERCENT_SIGN = re.compile(r"(?<![\d.])(\d{1,3})\s*%")
_CONTINUATION = re.compile(r"^[\d.\s\[\]()%…·,|]+$")
_SPACES = re.compile(r"\s+")

_MODERATION = re.compile(
    r"input[_ ]moderation|output[_ ]moderation|moderation|content[_ ]policy|safety system"
    r"|内容审核|审核未通过|违规|违反",
    re.IGNORECASE,
)
_FAILED = re.compile(
    r"generation failed|\bfail(?:ed|ure)?\b|\berror\b|❌|生成失败|失败|错误|出错",
    re.IGNORECASE,
)
_COMPLETE = re.compile(
    r"generation complete|generated successfully|✅|生成完成|生成成功", re.IGNORECASE
)
_PROGRESS = re.compile(r"progress|🏃|进度", re.IGNORECASE)
_GENERATING = re.compile(r"generating|🎨|⚡|生成中|正在生成|绘制中", re.IGNORECASE)
_QUEUED = re.compile(r"queu(?:e|ing|ed)|🕐|排队", re.IGNORECASE)
_QUEUE_POSITION = re.compile(r"(\d+)")


class ReverseStreamParser:
    """Incremental, tolerant parser of the reverse models' stream text.

    ``feed(delta)`` returns the :class:`Progress` events the new text completes (queued,
    generating, percent). Afterwards ``completed``, ``failure``, ``moderation``,
    ``error_fields`` describe the outcome and :meth:`result` lists the final image URLs.
    Call :meth:`close` at the end of the stream to process a last unterminated line.
    """

    def __init__(self) -> None:
        self._buf = ""
        self._fence = False  # inside a ``` block
        self._json_depth = 0  # inside a bare {...} block (brace depth, strings skipped)
        self._json_in_string = False
        self._json_escape = False
        self._block: list[str] = []
        self._stage: Stage | None = None
        self._queue_position: int | None = None
        self._percent = -1
        self._in_progress = False
        self._closed = False
        self._urls: list[str] = []
        #: "Generation complete" (or an equivalent) was seen.
        self.completed = False
        #: The first failure line, whitespace-normalised with URLs removed (None: no failure).
        self.failure: str | None = None
        #: "input" | "output" | "" when a moderation marker was seen, else None.
        self.moderation: str | None = None
        #: The ``error`` object of an error JSON found in the text, if any.
        self.error_fields: dict[str, Any] | None = None

    # -- public ---------------------------------------------------------------------------

    def feed(self, delta: str) -> list[Progress]:
        if self._closed or not delta:
            return []
        self._buf += delta.replace("\r\n", "\n").replace("\r", "\n")
        events: list[Progress] = []
        while True:
            nl = self._buf.find("\n")
            if nl < 0:
                break
            line, self._buf = self._buf[:nl], self._buf[nl + 1 :]
            self._line(line, events)
        self._partial(self._buf, events)
        return events

    def close(self) -> list[Progress]:
        """The stream ended: the unterminated last line is complete."""
        if self._closed:
            return []
        events: list[Progress] = []
        if self._buf:
            line, self._buf = self._buf, ""
            self._line(line, events)
        if self._block:  # an unterminated block: still try to read it
            self._end_block()
        self._closed = True
        return events

    def result(self) -> list[str]:
        """Final image URLs (http/https, in order, without duplicates)."""
        return list(self._urls)

    @property
    def percent(self) -> int | None:
        return self._percent if self._percent >= 0 else None

    # -- lines ----------------------------------------------------------------------------

    def _line(self, raw: str, events: list[Progress]) -> None:
        line = raw.strip()
        if self._fence:
            if line.startswith("```"):
                self._fence = False
                self._end_block()
            else:
                self._block.append(raw)
            return
        if self._json_depth > 0:
            self._block.append(raw)
            self._scan_json(raw)
            if self._json_depth == 0:
                self._end_block()
            return
        if not line:
            return
        if line.startswith("```"):
            rest = line[3:].strip()
            # ```json {...} ``` on one line
            if rest.endswith("```") and len(rest) >= 3:
                self._block = [rest[:-3].removeprefix("json")]
                self._end_block()
            else:
                self._fence = True
                self._block = []
            return
        if line.startswith("{"):
            self._block = [raw]
            self._json_depth = 0
            self._json_in_string = self._json_escape = False
            self._scan_json(raw)
            if self._json_depth == 0:
                self._end_block()
            return
        self._status(line, events)

    def _status(self, line: str, events: list[Progress]) -> None:
        text = _SPACES.sub(" ", _BARE_URL.sub("", _LINK_TARGET.sub("]", line))).strip()
        text = text.lstrip(">").strip()
        marker = _MODERATION.search(text)
        if marker:
            found = marker.group(0).lower()
            stage = (
                "input"
                if found.startswith("input")
                else ("output" if found.startswith("output") else "")
            )
            if self.moderation is None or (not self.moderation and stage):
                self.moderation = stage
            self.failure = self.failure or text
        elif not self.completed and _FAILED.search(text):
            self.failure = self.failure or text
        elif _COMPLETE.search(text):
            self.completed = True
            self._in_progress = False
            if self._percent < 100:
                self._percent = 100
                events.append(Progress(Stage.GENERATING, 100))
        elif not self.completed and _PROGRESS.search(text):
            self._in_progress = True
            self._stage = Stage.GENERATING
            self._numbers(text, _NUMBER, events)
        elif (
            not self.completed
            and self._in_progress
            and _CONTINUATION.match(text)
            and _NUMBER.search(text)
        ):
            self._numbers(text, _NUMBER, events)
        elif not self.completed and _GENERATING.search(text):
            if self._stage != Stage.GENERATING:
                self._stage = Stage.GENERATING
                events.append(Progress(Stage.GENERATING, self.percent))
            self._numbers(text, _PERCENT_SIGN, events)  # "Generating 45%"
        elif not self.completed and _QUEUED.search(text):
            pos_match = _QUEUE_POSITION.search(text)
            pos = int(pos_match.group(1)) if pos_match else None
            if self._stage is None or (self._stage == Stage.QUEUED and pos != self._queue_position):
                self._stage = Stage.QUEUED
                self._queue_position = pos
                events.append(Progress(Stage.QUEUED, None, queue_position=pos))
        if self.completed:
            for url in _IMAGE_LINK.findall(line):
                if url.lower().startswith(("http://", "https://")) and url not in self._urls:
                    self._urls.append(url)

    def _partial(self, tail: str, events: list[Progress]) -> None:
        """Percent numbers of a progress line that is still arriving."""
        if self._fence or self._json_depth > 0 or self.completed:
            return
        line = tail.strip()
        if not line or line.startswith(("{", "```")):
            return
        text = _BARE_URL.sub("", _LINK_TARGET.sub("]", line))
        if _MODERATION.search(text) or _FAILED.search(text):
            return
        if _PROGRESS.search(text) or (self._in_progress and _CONTINUATION.match(text)):
            if self._stage != Stage.GENERATING:
                self._stage = Stage.GENERATING
            self._numbers(text, _NUMBER_TERMINATED, events)

    def _numbers(self, text: str, pattern: re.Pattern[str], events: list[Progress]) -> None:
        for m in pattern.finditer(text):
            value = int(m.group(1))
            if self._percent < value <= 100:
                self._percent = value
                events.append(Progress(Stage.GENERATING, value))

    # -- JSON blocks (the echo, or an error object) -----------------------------------------

    def _scan_json(self, raw: str) -> None:
        for ch in raw:
            if self._json_in_string:
                if self._json_escape:
                    self._json_escape = False
                elif ch == "\\":
                    self._json_escape = True
                elif ch == '"':
                    self._json_in_string = False
            elif ch == '"':
                self._json_in_string = True
            elif ch == "{":
                self._json_depth += 1
            elif ch == "}":
                self._json_depth -= 1
                if self._json_depth <= 0:
                    self._json_depth = 0
                    return

    def _end_block(self) -> None:
        text, self._block = "\n".join(self._block), []
        self._json_depth = 0
        try:
            data = json.loads(text)
        except ValueError:
            return
        if not isinstance(data, dict):
            return
        err = data.get("error")
        if isinstance(err, dict):
            self.error_fields = err
        elif isinstance(err, str) and err:
            self.error_fields = {"message": err, "code": data.get("code")}
        elif "code" in data and "message" in data and "prompt" not in data:
            self.error_fields = data


# --------------------------------------------------------------------------------------------
# The provider
# --------------------------------------------------------------------------------------------


def aspect_hint(size: str | None) -> str | None:
    """``1024x1536`` -> ``2:3 portrait``; the reverse models read the ratio from the prompt."""
    if not size or "x" not in size.lower():
        return None
    try:
        w, h = (int(v) for v in size.lower().split("x", 1))
    except ValueError:
        return None
    if w <= 0 or h <= 0:
        return None
    g = math.gcd(w, h)
    ratio = f"{w // g}:{h // g}"
    shape = "square" if w == h else ("portrait" if h > w else "landscape")
    return f"{ratio} {shape}"


def build_prompt(request: ImageRequest) -> str:
    hint = aspect_hint(request.size)
    prompt = request.prompt.rstrip()
    if hint is None or hint.split()[0] in prompt:
        return prompt
    return f"{prompt}\n{hint}"


def build_content(request: ImageRequest) -> list[ChatCompletionContentPartParam]:
    parts: list[ChatCompletionContentPartParam] = [{"type": "text", "text": build_prompt(request)}]
    for img in request.images:
        b64 = base64.b64encode(img.data).decode("ascii")
        parts.append({"type": "image_url", "image_url": {"url": f"data:{img.mime};base64,{b64}"}})
    return parts


@dataclass
class _StreamOutcome:
    """Why reading stopped early, if it did (None: the stream ended normally)."""

    error: PixelsmithError | None = None


class ChatStreamProvider:
    """The reverse models through ``client.chat.completions.create(..., stream=True)``.

    ``client`` must be created with ``max_retries=0``; ``client`` and ``http`` belong to the
    caller, who closes them.
    """

    demo = False

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        http: aiohttp.ClientSession,
        *,
        download_hosts: Collection[str] | None,
        max_download_bytes: int,
        download_timeout_s: float,
        stall_s: float = 90.0,
        progress_interval_s: float = 1.0,
    ) -> None:
        self._client = client
        self._http = http
        self._download_hosts = download_hosts
        self._max_download_bytes = max_download_bytes
        self._download_timeout_s = download_timeout_s
        self._stall_s = stall_s
        self._progress_interval_s = progress_interval_s

    async def list_models(self) -> list[str]:
        try:
            return [m.id async for m in self._client.models.list()]
        except openai.APIStatusError as e:
            raise classify_status(
                e.status_code, e.body, model="", prompt="", request_id=e.request_id
            ) from e
        except (openai.APITimeoutError, openai.APIConnectionError) as e:
            raise self._transport_error(e, model="") from e

    async def close(self) -> None:
        return None

    # -- run ------------------------------------------------------------------------------

    async def run(self, call: ProviderCall, on_progress: ProgressCallback | None) -> ProviderResult:
        request = call.request
        model = request.model
        if request.mask is not None:
            raise InvalidRequest("invalid.mask_unsupported", model=model)
        throttle = Throttle(on_progress, self._progress_interval_s)
        first = True

        async def report(progress: Progress, *, force: bool = False) -> None:
            nonlocal first
            await throttle(progress, force=force or first)
            first = False

        try:
            stream = await self._client.chat.completions.create(
                model=model,
                messages=[{"role": "user", "content": build_content(request)}],
                stream=True,
            )
        except openai.APIStatusError as e:
            raise classify_status(
                e.status_code,
                e.body,
                model=model,
                prompt=request.prompt,
                request_id=e.request_id,
            ) from e
        except (openai.APITimeoutError, openai.APIConnectionError) as e:
            raise self._transport_error(e, model=model) from e

        parser = ReverseStreamParser()
        try:
            outcome = await self._read(stream, parser, report, request)
        finally:
            await stream.close()
        for event in parser.close():
            await report(event)

        urls = parser.result()
        if not urls:  # images that arrived before a stall or a cut still count
            raise self._failure(parser, outcome, request)

        await report(Progress(Stage.DOWNLOADING, 100))
        images = await self._download_all(urls, model)
        await report(Progress(Stage.DONE, 100), force=True)
        return ProviderResult(images=tuple(images), usage=None)

    async def _read(
        self,
        stream: openai.AsyncStream[ChatCompletionChunk],
        parser: ReverseStreamParser,
        report: ProgressCallback,
        request: ImageRequest,
    ) -> _StreamOutcome:
        """Feed the stream to the parser until it ends; a stall or a cut is an outcome."""
        model = request.model
        chunks: AsyncIterator[ChatCompletionChunk] = stream.__aiter__()
        while True:
            try:
                async with asyncio.timeout(self._stall_s):
                    chunk = await chunks.__anext__()
            except StopAsyncIteration:
                return _StreamOutcome()
            except TimeoutError:
                return _StreamOutcome(
                    UpstreamError(
                        "upstream.stalled",
                        charge=Charge.CHARGED,
                        model=model,
                        stall_s=self._stall_s,
                        percent=parser.percent,
                    )
                )
            except (openai.APITimeoutError, openai.APIConnectionError) as e:
                timed_out = isinstance(e, openai.APITimeoutError)
                key = "upstream.timeout" if timed_out else "upstream.network"
                # The call was accepted (200): the reverse models bill it.
                return _StreamOutcome(
                    UpstreamError(key, charge=Charge.CHARGED, model=model, stage="stream")
                )
            except openai.APIStatusError as e:  # not expected once streaming, but typed anyway
                return _StreamOutcome(
                    classify_status(
                        e.status_code,
                        e.body,
                        model=model,
                        prompt=request.prompt,
                        request_id=e.request_id,
                    )
                )
            except openai.APIError as e:  # an {"error": {...}} event inside the 200 stream
                return _StreamOutcome(self._stream_error(e.body, request))
            finished = False
            for choice in chunk.choices or []:
                content = choice.delta.content if choice.delta is not None else None
                if content:
                    for event in parser.feed(content):
                        await report(event)
                if choice.finish_reason is not None:
                    finished = True
            if finished:
                return _StreamOutcome()

    def _stream_error(self, body: object, request: ImageRequest) -> PixelsmithError:
        fields = body if isinstance(body, dict) else {"message": str(body or "")}
        found = classify_status(400, {"error": fields}, model=request.model, prompt=request.prompt)
        if isinstance(found, Refused):
            return found
        code = fields.get("code")
        return UpstreamError(
            "upstream.generation_failed",
            charge=Charge.CHARGED,
            model=request.model,
            code=str(code) if code else None,
        )

    def _failure(
        self, parser: ReverseStreamParser, outcome: _StreamOutcome, request: ImageRequest
    ) -> PixelsmithError:
        """The typed failure of a stream that produced no usable image link."""
        model = request.model
        if outcome.error is not None and not isinstance(outcome.error, UpstreamError):
            return outcome.error  # a refusal from an error event
        if parser.error_fields is not None:
            return self._stream_error(parser.error_fields, request)
        if parser.moderation is not None:
            stage = parser.moderation or None
            fields: dict[str, Any] = {"code": f"{stage or 'input'}_moderation"}
            if stage:
                fields["moderation_details"] = {"moderation_stage": stage}
            return refusal_from(fields, request.prompt)
        if parser.failure is not None:
            return UpstreamError(
                "upstream.generation_failed",
                charge=Charge.CHARGED,
                model=model,
                percent=parser.percent,
            )
        if outcome.error is not None:
            return outcome.error
        return UpstreamError(
            "upstream.no_image", charge=Charge.CHARGED, model=model, completed=parser.completed
        )

    @staticmethod
    def _transport_error(
        e: openai.APITimeoutError | openai.APIConnectionError, *, model: str
    ) -> UpstreamError:
        key = "upstream.timeout" if isinstance(e, openai.APITimeoutError) else "upstream.network"
        charge = Charge.NONE if nothing_sent(e) else Charge.UNKNOWN
        return UpstreamError(key, charge=charge, model=model)

    # -- downloads --------------------------------------------------------------------------

    async def _download_all(self, urls: list[str], model: str) -> list[GeneratedImage]:
        results = await asyncio.gather(
            *(self._download(url, model) for url in urls), return_exceptions=True
        )
        images: list[GeneratedImage] = []
        first_error: BaseException | None = None
        for r in results:
            if isinstance(r, GeneratedImage):
                images.append(r)
            elif isinstance(r, UpstreamError):
                first_error = first_error or r
            elif isinstance(r, BaseException):
                raise r
        if not images:
            assert first_error is not None
            raise first_error
        return images  # some downloads may have failed: the service sees fewer images

    async def _download(self, url: str, model: str) -> GeneratedImage:
        return await download_image(
            self._http,
            url,
            allowed_hosts=self._download_hosts,
            max_bytes=self._max_download_bytes,
            timeout_s=self._download_timeout_s,
            model=model,
        )
