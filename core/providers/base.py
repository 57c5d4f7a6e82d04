"""The provider contract: one upstream call per job.

A provider MUST make at most one billable upstream call per :meth:`Provider.run` (the SDK's own
retries are off), MUST report progress only through the callback, and MUST raise a typed
:class:`core.errors.PixelsmithError` on failure whose ``charge`` says whether the gateway may have
billed it: ``Charge.NONE`` only when it is certain nothing reached the gateway (connection
refused) or the gateway could not bill (bad key, empty balance); ``Charge.UNKNOWN`` when the request
was sent and the answer was lost (timeout, reset); ``Charge.CHARGED`` otherwise.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import httpx2

from core.catalog import ModelSpec
from core.errors import Charge, InvalidImage, UpstreamError
from core.fetch import fetch_bytes
from core.images import read_output, run_cpu
from core.pacing import TokenBucket
from core.types import GeneratedImage, ImageRequest, Progress, ProgressCallback, ProviderResult


@dataclass(frozen=True)
class ProviderCall:
    """What the service hands a provider: the validated request and its catalog entry."""

    request: ImageRequest
    spec: ModelSpec
    safety_identifier: str | None = None


class Provider(Protocol):
    """An upstream image service (see the module docstring for the money contract)."""

    demo: bool

    async def run(self, call: ProviderCall, on_progress: ProgressCallback | None) -> ProviderResult:
        """Make the single upstream call and return the decoded images and usage."""
        ...

    async def list_models(self) -> list[str]:
        """Model ids the upstream serves (for ``pixelsmith doctor``); no image is generated."""
        ...

    async def close(self) -> None: ...


# The request never left: no connection was made (refused, timed out connecting, or no pooled
# connection became free before the pool timeout, so nothing was written).
NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)


def nothing_sent(exc: BaseException) -> bool:
    """True when ``exc`` (an SDK error) says the request was never sent: then nothing was billed.

    The SDK wraps the transport error; the whole ``__cause__`` / ``__context__`` chain is walked.
    Every provider decides "did it reach the gateway?" with this one function.
    """
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, NOT_SENT):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


async def download_image(
    http: aiohttp.ClientSession | None,
    url: str,
    *,
    allowed_hosts: Collection[str] | None,
    max_bytes: int,
    timeout_s: float,
    model: str,
) -> GeneratedImage:
    """Fetch an image the upstream made (:func:`core.fetch.fetch_bytes` rules) and read it fully.

    Every failure is ``upstream.download_failed``, charged (the image was made and billed), with
    the reason key: the fetch's refusal, ``no_session`` or ``image.undecodable``.
    """
    if http is None:
        raise UpstreamError(
            "upstream.download_failed", charge=Charge.CHARGED, model=model, reason="no_session"
        )
    try:
        data = await fetch_bytes(
            http,
            url,
            allowed_hosts=allowed_hosts,
            max_bytes=max_bytes,
            timeout_s=timeout_s,
            expect_image=True,
        )
    except InvalidImage as exc:
        raise UpstreamError(
            "upstream.download_failed", charge=Charge.CHARGED, model=model, reason=exc.key
        ) from None
    image = await run_cpu(read_output, data, decode=True)
    if image is None:
        raise UpstreamError(
            "upstream.download_failed",
            charge=Charge.CHARGED,
            model=model,
            reason="image.undecodable",
        )
    return image


def safety_identifier(user_scope: str, salt: str) -> str:
    """A stable salted hash of the end user: the gateway never sees the platform user id."""
    digest = hmac.new(salt.encode(), user_scope.encode(), hashlib.sha256).hexdigest()
    return f"px-{digest[:32]}"


class Throttle:
    """Forwards progress at most about once per ``interval`` seconds; final stages always pass."""

    def __init__(self, callback: ProgressCallback | None, interval: float = 1.0) -> None:
        self._callback = callback
        self._pace = TokenBucket.every(interval)
        self._lock = asyncio.Lock()

    async def __call__(self, progress: Progress, *, force: bool = False) -> None:
        if self._callback is None:
            return
        if not self._pace.take() and not force:  # a forced stage still spends its token
            return
        async with self._lock:
            await self._callback(progress)
