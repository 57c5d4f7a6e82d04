"""The web companion: an aiohttp app inside ``pixelsmith run`` (see :mod:`bots.web.security`).

``WebCompanion`` implements :class:`bots.base.PlatformAdapter` (start, stop, notify) so the
runner starts and stops it with the chat adapters. It talks to core only through
:class:`core.service.ImageService` (via :class:`bots.web.backend.WebBackend`) and hands results
back to the chat platform they came from through that platform's adapter (``post_result``).

Routes: ``/l/{token}`` (a one-time link: GET shows a self-submitting form, POST exchanges it for
a session), ``/edit/{job}`` (mask painter), ``/gallery``, ``/dashboard`` and their JSON APIs
under ``/api/``, ``/static/`` (the bot's own assets), ``/healthz``.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bots.web import admin, pages
from bots.web.backend import BACKEND, POSTERS, WebBackend
from bots.web.links import MIN_SECRET_CHARS, Grant, Signer
from bots.web.render import forbidden_page, page
from bots.web.security import (
    FORBIDDEN_PAGE,
    SECURITY,
    WebSecurity,
    forbidden,
    make_middlewares,
)
from core.config import Settings
from core.errors import ConfigError
from core.service import ImageService
from core.types import JobView

log = logging.getLogger("pixelsmith.web")

STATIC = Path(__file__).with_name("static")


class UsedLinks:
    """Which links were exchanged already. In the database (through the service), so every
    process serving ``web.port`` on one database refuses a link another one accepted; a row
    lasts until its link would have expired anyway."""

    def __init__(self, service: ImageService) -> None:
        self.service = service

    @staticmethod
    def key(grant: Grant) -> str:
        return hashlib.sha256(f"web-link:{grant.nonce}".encode()).hexdigest()

    async def used(self, grant: Grant) -> bool:
        return await self.service.used_once(self.key(grant))

    async def claim(self, grant: Grant) -> bool:
        """True for the first exchange of a link anywhere, False ever after."""
        expires = datetime.fromtimestamp(grant.expires, UTC)
        return await self.service.use_once(self.key(grant), expires)


ONCE = web.AppKey("once", UsedLinks)
# Bodies larger than this are refused before they are read (a mask PNG is at most 4 MB).
MAX_BODY_BYTES = 6 * 1024 * 1024


def signer_for(settings: Settings) -> Signer:
    secret = settings.web.secret_key_value
    if not secret or len(secret) < MIN_SECRET_CHARS:
        raise ConfigError(
            "config.invalid",
            key="web.secret_key",
            problem=f"the web companion needs PIXELSMITH_SECRET_KEY ({MIN_SECRET_CHARS}+ "
            "random characters) to sign its links",
        )
    return Signer(secret)


def build_app(
    service: ImageService,
    settings: Settings,
    posters: dict[str, Any] | None = None,
    *,
    backend: WebBackend | None = None,
) -> web.Application:
    """The aiohttp application (also what the HTTP tests drive)."""
    security = WebSecurity(
        signer_for(settings), settings.web.base_url, settings.web.session_minutes
    )
    app = web.Application(middlewares=make_middlewares(security), client_max_size=MAX_BODY_BYTES)
    app[SECURITY] = security
    app[ONCE] = UsedLinks(service)
    app[FORBIDDEN_PAGE] = forbidden_page
    app[POSTERS] = dict(posters or {})
    app[BACKEND] = backend or WebBackend(service)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/l/{token}", link_page)
    app.router.add_post("/l/{token}", link_exchange)
    app.router.add_static("/static/", STATIC, show_index=False, follow_symlinks=False)
    pages.add_routes(app)
    admin.add_routes(app)
    return app


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _link(request: web.Request) -> Grant | None:
    """The link's grant if it is genuine, unexpired and not used yet, else None."""
    grant = request.app[SECURITY].signer.open("link", request.match_info["token"])
    if grant is None or await request.app[ONCE].used(grant):
        return None
    return grant


async def link_page(request: web.Request) -> web.Response:
    """GET of a link: checks it without using it up (chat apps fetch links for previews)."""
    if await _link(request) is None:
        return forbidden(request)
    return page(request, "continue.html", action=request.path)


async def link_exchange(request: web.Request) -> web.Response:
    security = request.app[SECURITY]
    origin = request.headers.get("Origin")
    if origin is not None and origin != security.origin:
        return forbidden(request)
    grant = await _link(request)
    if grant is None or not await request.app[ONCE].claim(grant):
        return forbidden(request)
    if grant.purpose == "edit" and grant.job:
        target = f"/edit/{grant.job}"
    elif grant.purpose == "dashboard" and grant.admin:
        target = "/dashboard"
    else:
        target = "/gallery"
    response = web.Response(status=303, headers={"Location": target})
    security.start_session(response, grant)
    return response


class WebCompanion:
    """``pixelsmith run``'s web companion (on while ``web.port`` is set)."""

    name = "web"

    def __init__(
        self,
        service: ImageService,
        settings: Settings | None = None,
        *,
        posters: dict[str, Any] | None = None,
    ) -> None:
        self.service = service
        self.settings = settings or service.settings
        self.app = build_app(service, self.settings, posters)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def posters(self) -> dict[str, Any]:
        """Chat adapters by platform name, for results posted back (filled in by the runner)."""
        return self.app[POSTERS]

    async def start(self) -> None:
        web_settings = self.settings.web
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, web_settings.host, web_settings.port or 0)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else web_settings.port
        log.info("web companion on http://%s:%s", web_settings.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def notify(self, job: JobView, text: str) -> bool:
        return False  # jobs belong to a chat platform, whose adapter tells their users
