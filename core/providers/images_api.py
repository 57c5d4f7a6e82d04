"""The images-API provider: ``/v1/images/generations`` and ``/v1/images/edits``.

One billable call per run, SDK retries off. Streams partial images into the progress callback
where the model and gateway allow it; a gateway that refuses the ``stream`` parameter is
remembered, and that refusal (a validation error before any generation) is answered by one plain
call. Images arrive as ``b64_json`` or, in the gateway's compatibility mode, as ``url``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
from collections.abc import Collection
from typing import Any

import aiohttp
import openai
from openai.types import ImagesResponse

from core.errors import Charge, PixelsmithError, UpstreamError
from core.images import read_output
from core.providers.base import ProviderCall, Throttle, download_image, nothing_sent
from core.safety import classify_status
from core.types import GeneratedImage, Progress, ProgressCallback, ProviderResult, Stage, Usage

log = logging.getLogger("pixelsmith.provider")
# What an infinite reported token count is read as: far above any real job, so bounded.
INFINITE_TOKENS = 10**30


def map_sdk_error(exc: Exception, *, model: str, prompt: str) -> PixelsmithError:
    """Turn an ``openai`` exception into a typed failure with the right charge."""
    if isinstance(exc, openai.APIStatusError):
        return classify_status(
            exc.status_code, exc.body, model=model, prompt=prompt, request_id=exc.request_id
        )
    if isinstance(exc, openai.APITimeoutError):
        charge = Charge.NONE if nothing_sent(exc) else Charge.UNKNOWN
        return UpstreamError("upstream.timeout", charge=charge, model=model)
    if isinstance(exc, openai.APIConnectionError):
        charge = Charge.NONE if nothing_sent(exc) else Charge.UNKNOWN
        return UpstreamError("upstream.network", charge=charge, model=model)
    if isinstance(exc, openai.APIError) and exc.code:
        # An error event inside a 200 stream: no status, but the code and body are there.
        return classify_status(400, {"error": exc.body}, model=model, prompt=prompt)
    return UpstreamError("upstream.bad_response", charge=Charge.CHARGED, model=model)


def usage_from(raw: Any) -> Usage | None:
    """The usage a response reports. Counts are read as they came (the SDK does not validate
    them): a string, a float or a negative number never raises and never reaches pydantic's
    serializer (which would print a warning on a terminal); an unreadable count is logged and
    read as 0. An absurd count is bounded later, where the job's cost is settled."""
    if raw is None:
        return None
    details = _field(raw, "input_tokens_details") or {}
    image = _tokens(_field(details, "image_tokens"), "image_tokens")
    text_raw = _field(details, "text_tokens")
    if text_raw is None:
        text = max(_tokens(_field(raw, "input_tokens"), "input_tokens") - image, 0)
    else:
        text = _tokens(text_raw, "text_tokens")
    # Output: ``output_tokens`` counts every output token; the SDK's ``output_tokens_details``
    # (``ImagesResponse.usage``, openai 3.57) splits it into image and text tokens, priced at
    # different rates. Without the details every output token is an image token; tokens the
    # details leave unexplained are counted as image tokens too (never priced below the bill).
    total_out = _tokens(_field(raw, "output_tokens"), "output_tokens")
    out_details = _field(raw, "output_tokens_details")
    text_out = 0
    image_out = total_out
    if out_details:
        text_out = min(_tokens(_field(out_details, "text_tokens"), "output text_tokens"), total_out)
        image_out = max(
            _tokens(_field(out_details, "image_tokens"), "output image_tokens"),
            total_out - text_out,
        )
    return Usage(
        text_tokens=text,
        image_tokens=image,
        output_tokens=image_out,
        output_text_tokens=text_out,
    )


def _field(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _tokens(value: Any, name: str) -> int:
    if value is None:
        return 0
    number: float | int | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number == math.inf:
        log.info("gateway usage: infinite token count for %s", name)
        return INFINITE_TOKENS  # absurd: the settle bounds the cost
    if number is None or not math.isfinite(number) or number < 0:
        log.info(
            "gateway usage: odd token count for %s (%s); read as 0", name, type(value).__name__
        )
        return 0
    return int(number)


def _decode(b64: str) -> GeneratedImage:
    image = read_output(base64.b64decode(b64, validate=False))  # header only: cheap
    if image is None:
        raise ValueError("not a PNG, JPEG or WEBP image")
    return image


def _decode_all(items: list[str]) -> tuple[GeneratedImage, ...]:
    return tuple(_decode(b64) for b64 in items)


class ImagesApiProvider:
    """Generate and edit through the images API of any OpenAI-compatible gateway."""

    demo = False

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        http: aiohttp.ClientSession | None,
        *,
        partial_images: int = 2,
        download_hosts: Collection[str] | None = None,
        max_download_bytes: int = 50 * 1024 * 1024,
        download_timeout_s: float = 60.0,
        progress_interval_s: float = 1.0,
    ) -> None:
        self._client = client
        self._http = http
        self._partials = partial_images
        self._hosts = download_hosts
        self._max_bytes = max_download_bytes
        self._download_timeout = download_timeout_s
        self._interval = progress_interval_s
        self._no_stream: set[str] = set()

    async def list_models(self) -> list[str]:
        page = await self._client.models.list()
        return [m.id for m in page.data]

    async def close(self) -> None:
        return None

    async def run(self, call: ProviderCall, on_progress: ProgressCallback | None) -> ProviderResult:
        progress = Throttle(on_progress, self._interval)
        await progress(Progress(Stage.SUBMITTED), force=True)
        spec, req = call.spec, call.request
        stream = (
            spec.streaming
            and self._partials > 0
            and spec.api == "images"
            and spec.name not in self._no_stream
        )
        params = self._params(call)
        try:
            if stream:
                try:
                    return await self._streamed(call, params, progress)
                except openai.BadRequestError as exc:
                    if not _stream_refused(exc):
                        raise
                    self._no_stream.add(spec.name)
            return await self._plain(call, params, progress)
        except openai.OpenAIError as exc:
            raise map_sdk_error(exc, model=spec.name, prompt=req.prompt) from None
        except ValueError:
            # A 200 whose body claims JSON but is not: the SDK raises JSONDecodeError.
            raise UpstreamError(
                "upstream.bad_response", charge=Charge.CHARGED, model=spec.name
            ) from None

    def _params(self, call: ProviderCall) -> dict[str, Any]:
        req, spec = call.request, call.spec
        params: dict[str, Any] = {"model": spec.name, "prompt": req.prompt, "n": req.n}
        optional = {
            "size": req.size,
            "quality": req.quality if spec.qualities else None,
            "background": req.background,
            "output_format": req.output_format,
        }
        if req.is_edit:
            optional["input_fidelity"] = req.input_fidelity
        else:
            optional["moderation"] = req.moderation
        params.update({k: v for k, v in optional.items() if v is not None})
        if call.safety_identifier and spec.api == "images":
            params["safety_identifier"] = call.safety_identifier
        if req.is_edit:
            files = [(img.name, img.data, img.mime) for img in req.images]
            params["image"] = files[0] if len(files) == 1 else files
            if req.mask is not None:
                params["mask"] = (req.mask.name, req.mask.data, req.mask.mime)
            if req.markup is not None:
                params["markup"] = (req.markup.name, req.markup.data, req.markup.mime)
        return params

    async def _plain(
        self, call: ProviderCall, params: dict[str, Any], progress: Throttle
    ) -> ProviderResult:
        api = self._client.images
        response = await (api.edit(**params) if call.request.is_edit else api.generate(**params))
        return await self._answer(response, call, progress)

    async def _answer(
        self, response: Any, call: ProviderCall, progress: Throttle
    ) -> ProviderResult:
        data = getattr(response, "data", None)
        if not isinstance(data, list):
            raise UpstreamError(
                "upstream.bad_response", charge=Charge.CHARGED, model=call.spec.name
            )
        b64 = [d.b64_json for d in data if getattr(d, "b64_json", None)]
        urls = [d.url for d in data if not getattr(d, "b64_json", None) and getattr(d, "url", None)]
        images = await self._images(b64, urls, call)
        await progress(Progress(Stage.DONE, percent=100), force=True)
        return ProviderResult(images=images, usage=usage_from(getattr(response, "usage", None)))

    async def _streamed(
        self, call: ProviderCall, params: dict[str, Any], progress: Throttle
    ) -> ProviderResult:
        raw_api = self._client.images.with_raw_response
        params = {**params, "stream": True, "partial_images": self._partials}
        raw = await (raw_api.edit(**params) if call.request.is_edit else raw_api.generate(**params))
        if "event-stream" not in raw.headers.get("content-type", ""):
            # The gateway ignored stream=true and answered plain JSON: use that answer (the call
            # is made and billed either way) and stop asking this model for streams.
            self._no_stream.add(call.spec.name)
            body = json.loads(await raw.http_response.aread())
            return await self._answer(ImagesResponse.model_validate(body), call, progress)
        events: Any = raw.parse()
        finals: list[str] = []
        usage: Usage | None = None
        steps = self._partials + 1
        async for event in events:
            kind = getattr(event, "type", "")
            if kind.endswith("partial_image"):
                index = int(getattr(event, "partial_image_index", 0))
                preview = _safe_b64(event.b64_json)  # inline: see _images
                await progress(
                    Progress(Stage.PARTIAL, percent=int(100 * (index + 1) / steps), preview=preview)
                )
            elif kind.endswith("completed"):
                finals.append(event.b64_json)
                usage = _add_usage(usage, usage_from(getattr(event, "usage", None)))
        if not finals:
            # A stream that ends without a completed image: the call reached the gateway.
            raise UpstreamError(
                "upstream.bad_response", charge=Charge.CHARGED, model=call.spec.name
            )
        images = await self._images(finals, [], call)
        await progress(Progress(Stage.DONE, percent=100), force=True)
        return ProviderResult(images=images, usage=usage)

    async def _images(
        self, b64: list[str], urls: list[str], call: ProviderCall
    ) -> tuple[GeneratedImage, ...]:
        try:
            # Inline on purpose: binascii holds the GIL while decoding, so a worker thread would
            # block the loop just as long and only add a thread hop (bench/overhead.py). The
            # sniff reads the PNG header only.
            decoded = _decode_all(b64) if b64 else ()
        except (binascii.Error, ValueError, OSError):
            raise UpstreamError(
                "upstream.bad_response", charge=Charge.CHARGED, model=call.spec.name
            ) from None
        fetched = [await self._download(url, call) for url in urls]
        return (*decoded, *fetched)

    async def _download(self, url: str, call: ProviderCall) -> GeneratedImage:
        return await download_image(
            self._http,
            url,
            allowed_hosts=self._hosts,
            max_bytes=self._max_bytes,
            timeout_s=self._download_timeout,
            model=call.spec.name,
        )


def _safe_b64(b64: str) -> bytes | None:
    try:
        return base64.b64decode(b64)
    except (binascii.Error, ValueError):
        return None


def _add_usage(a: Usage | None, b: Usage | None) -> Usage | None:
    if a is None or b is None:
        return a or b
    return Usage(
        a.text_tokens + b.text_tokens,
        a.image_tokens + b.image_tokens,
        a.output_tokens + b.output_tokens,
        a.output_text_tokens + b.output_text_tokens,
    )


def _stream_refused(exc: openai.BadRequestError) -> bool:
    param = str(exc.param or "").lower()
    text = str(getattr(exc, "message", "")).lower()
    return param in ("stream", "partial_images") or (
        "stream" in text and exc.code not in ("moderation_blocked", "content_policy_violation")
    )
