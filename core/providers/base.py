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
import time
from dataclasses import dataclass
from typing import Protocol

from core.catalog import ModelSpec
from core.types import ImageRequest, Progress, ProgressCallback, ProviderResult


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


def safety_identifier(user_scope: str, salt: str) -> str:
    """A stable salted hash of the end user: the gateway never sees the platform user id."""
    digest = hmac.new(salt.encode(), user_scope.encode(), hashlib.sha256).hexdigest()
    return f"px-{digest[:32]}"


class Throttle:
    """Forwards progress at most about once per ``interval`` seconds; final stages always pass."""

    def __init__(self, callback: ProgressCallback | None, interval: float = 1.0) -> None:
        self._callback = callback
        self._interval = interval
        self._last = 0.0
        self._lock = asyncio.Lock()

    async def __call__(self, progress: Progress, *, force: bool = False) -> None:
        if self._callback is None:
            return
        now = time.monotonic()
        if not force and now - self._last < self._interval:
            return
        self._last = now
        async with self._lock:
            await self._callback(progress)
