"""Which provider serves a request, and how the providers are built and warmed up.

:func:`build_provider` makes one ``AsyncOpenAI`` client for the configured gateway and a provider
per API kind behind a :class:`RoutingProvider`; the chat-stream provider is built on first use
(:class:`OnFirstUse`), so a one-shot command whose model speaks the images API never imports it,
and :func:`warm_up` (``pixelsmith run``, before serving) builds it and loads what the first burst
needs. :class:`OfflineProvider` serves a service that must never call upstream (admin commands);
:func:`demo_provider` is the offline demo.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import aiohttp
import openai

from core.catalog import ModelSpec
from core.config import Settings
from core.errors import Charge, UpstreamError
from core.providers.base import Provider, ProviderCall
from core.types import ProgressCallback, ProviderResult


class OfflineProvider:
    """The provider of a service that must never call upstream (the CLI's admin commands)."""

    demo = False

    async def run(self, call: ProviderCall, on_progress: ProgressCallback | None) -> ProviderResult:
        raise UpstreamError("upstream.shutting_down", charge=Charge.NONE)

    async def list_models(self) -> list[str]:
        return []

    async def close(self) -> None:
        return None


class RoutingProvider:
    """Sends each request to the provider for its model's API kind."""

    def __init__(self, by_api: dict[str, Provider], *, demo: bool = False) -> None:
        self._by_api = by_api
        self.demo = demo

    def for_spec(self, spec: ModelSpec) -> Provider:
        return self._by_api.get(spec.api) or self._by_api["images"]

    async def run(self, call: ProviderCall, on_progress: ProgressCallback | None) -> ProviderResult:
        return await self.for_spec(call.spec).run(call, on_progress)

    async def list_models(self) -> list[str]:
        return await self._by_api["images"].list_models()

    def preload(self) -> None:
        """Build the providers made on first use (before serving, not during the first burst)."""
        for provider in self._by_api.values():
            if isinstance(provider, OnFirstUse):
                provider.get()

    async def close(self) -> None:
        for provider in {id(p): p for p in self._by_api.values()}.values():
            await provider.close()


def demo_provider() -> Provider:
    from core.providers.demo import DemoProvider  # it draws with Pillow's fonts: loaded when used

    return DemoProvider()


def build_provider(
    settings: Settings,
    http: aiohttp.ClientSession,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
) -> Provider:
    """The upstream clients for the configured gateway, one per API kind. ``api_key`` and
    ``base_url``: another key's (a community's own, see :mod:`core.keys`), with the same
    settings otherwise."""
    from core.providers.images_api import ImagesApiProvider

    p = settings.provider
    # The SSL context is built here, at start-up, rather than lazily on the first request, where
    # it would stall the event loop for tens of milliseconds.
    client = openai.AsyncOpenAI(
        api_key=api_key or p.key or "missing",
        base_url=base_url or p.base_url,
        max_retries=0,
        timeout=p.timeout_s,
        http_client=openai.DefaultAsyncHttpxClient(verify=ssl.create_default_context()),
    )
    common: dict[str, Any] = {
        "download_hosts": p.download_hosts,
        "max_download_bytes": p.download_max_bytes,
        "download_timeout_s": min(p.timeout_s, 120.0),
        "progress_interval_s": p.progress_interval_s,
    }
    images = ImagesApiProvider(client, http, partial_images=p.stream_partials, **common)

    def chat() -> Provider:
        from core.providers.chat_stream import ChatStreamProvider

        return ChatStreamProvider(client, http, stall_s=p.stall_s, **common)

    return ClientOwner(
        RoutingProvider(
            {"images": images, "images_compat": images, "chat_stream": OnFirstUse(chat)}
        ),
        client,
    )


class OnFirstUse:
    """A provider built on its first call: a one-shot command whose model speaks another API
    never imports it. ``ImageService.start`` (``pixelsmith run``) builds it before serving."""

    demo = False

    def __init__(self, build: Callable[[], Provider]) -> None:
        self._build = build
        self._provider: Provider | None = None

    def get(self) -> Provider:
        if self._provider is None:
            self._provider = self._build()
        return self._provider

    async def run(self, call: ProviderCall, on_progress: ProgressCallback | None) -> ProviderResult:
        return await self.get().run(call, on_progress)

    async def list_models(self) -> list[str]:
        return await self.get().list_models()

    async def close(self) -> None:
        if self._provider is not None:
            await self._provider.close()


def warm_up(provider: Provider) -> None:
    from PIL import Image

    Image.init()
    if isinstance(provider, ClientOwner):
        provider.preload()
    client = getattr(provider, "client", None)
    if isinstance(client, openai.AsyncOpenAI):
        # cached_property attributes: each imports its resource module on first use.
        for api in (client.images, client.chat.completions, client.models):
            _ = api.with_raw_response


class ClientOwner:
    """Closes the shared AsyncOpenAI client with the provider."""

    def __init__(self, inner: RoutingProvider, client: openai.AsyncOpenAI) -> None:
        self._inner = inner
        self.client = client
        self.demo = False

    async def run(self, call: ProviderCall, on_progress: ProgressCallback | None) -> ProviderResult:
        return await self._inner.run(call, on_progress)

    async def list_models(self) -> list[str]:
        return await self._inner.list_models()

    def preload(self) -> None:
        self._inner.preload()

    async def close(self) -> None:
        await self._inner.close()
        await self.client.close()
