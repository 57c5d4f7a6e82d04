"""Providers for communities' own gateway keys: one per (key, base URL), built on first use,
kept for reuse, and closed when idle beyond :data:`KEEP` of them (least recently used first)
or when the service closes. A provider in use is never closed under its job."""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable

from core.providers.base import Provider

log = logging.getLogger("pixelsmith.providers")

KEEP = 64  # idle community providers kept open (each holds an HTTP connection pool)


class KeyedProviders:
    def __init__(self, build: Callable[[str, str | None], Provider], keep: int = KEEP) -> None:
        self._build = build
        self._keep = keep
        self._providers: OrderedDict[tuple[str, str | None], Provider] = OrderedDict()
        self._in_use: dict[tuple[str, str | None], int] = {}

    def __len__(self) -> int:
        return len(self._providers)

    @contextlib.asynccontextmanager
    async def lease(self, api_key: str, base_url: str | None) -> AsyncIterator[Provider]:
        """The provider of this key and base URL, held open while the block runs."""
        name = (api_key, base_url)
        provider = self._providers.get(name)
        if provider is None:
            provider = self._providers[name] = self._build(api_key, base_url)
        self._providers.move_to_end(name)
        self._in_use[name] = self._in_use.get(name, 0) + 1
        try:
            yield provider
        finally:
            self._in_use[name] -= 1
            if not self._in_use[name]:
                del self._in_use[name]
            await self._trim()

    async def _trim(self) -> None:
        for name in list(self._providers):
            if len(self._providers) <= self._keep:
                return
            if name not in self._in_use:
                await self._close(self._providers.pop(name))

    @staticmethod
    async def _close(provider: Provider) -> None:
        # Another key's provider: closing it must never fail the job that happened to trim it.
        try:
            await provider.close()
        except Exception:
            log.warning("closing an idle community provider failed", exc_info=True)

    async def drop(self, api_key: str, base_url: str | None) -> None:
        """Close the provider of a key that was replaced or removed (once it is idle)."""
        name = (api_key, base_url)
        if name in self._providers and name not in self._in_use:
            await self._close(self._providers.pop(name))

    async def close(self) -> None:
        providers, self._providers = list(self._providers.values()), OrderedDict()
        for provider in providers:
            await self._close(provider)
