"""The web companion's security model, as aiohttp middlewares.

- Every response carries a Content-Security-Policy that allows only the bot's own scripts, styles
  and images (no inline script, no third party), no framing, and ``Referrer-Policy: same-origin``
  (a link's token never travels to another site in a Referer header; ``no-referrer`` would make
  browsers send ``Origin: null`` with the link's form, which the origin check refuses).
- Every route except the link exchange, static assets and ``/healthz`` needs a session: a signed,
  expiring cookie (HttpOnly, SameSite=Lax, Secure and ``__Host-`` behind HTTPS). Without one the
  answer is 403 and nothing else.
- Every state-changing request (anything but GET/HEAD) carries the session's CSRF token in the
  ``X-CSRF-Token`` header or a ``csrf`` form field, and a foreign ``Origin`` is refused.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bots.web.links import Grant, Signer

log = logging.getLogger("pixelsmith.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PUBLIC_PREFIXES = ("/l/", "/static/")
PUBLIC_PATHS = ("/healthz", "/favicon.ico")
SAFE_METHODS = ("GET", "HEAD")


class WebSecurity:
    """Cookie names, the signer and the origin of one deployment."""

    def __init__(self, signer: Signer, base_url: str, session_minutes: float) -> None:
        self.signer = signer
        parts = urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.secure = parts.scheme == "https"
        # The __Host- prefix makes browsers refuse the cookie unless Secure, Path=/ and no Domain.
        self.cookie = "__Host-pixelsmith" if self.secure else "pixelsmith_session"
        self.session_s = int(session_minutes * 60)

    def session_of(self, request: web.Request) -> Grant | None:
        token = request.cookies.get(self.cookie)
        return self.signer.open("session", token) if token else None

    def start_session(self, response: web.StreamResponse, link: Grant) -> Grant:
        """Exchange an accepted link for a fresh session grant (new nonce), set as the cookie."""
        session = Grant(
            platform=link.platform,
            user_id=link.user_id,
            community_id=link.community_id,
            purpose=link.purpose,
            expires=int(time.time()) + self.session_s,
            admin=link.admin,
            locale=link.locale,
            channel_id=link.channel_id,
            job=link.job,
            roles=link.roles,
            org_id=link.org_id,
        )
        response.set_cookie(
            self.cookie,
            self.signer.seal("session", session),
            max_age=self.session_s,
            path="/",
            httponly=True,
            secure=self.secure,
            samesite="Lax",
        )
        return session


SECURITY = web.AppKey("security", WebSecurity)


def session_of(request: web.Request) -> Grant | None:
    security = request.app.get(SECURITY)
    return None if security is None else security.session_of(request)


def grant_of(request: web.Request) -> Grant:
    """The session of a request that passed :func:`session_middleware` (checked again here)."""
    grant = session_of(request)
    if grant is None:
        raise web.HTTPForbidden()
    return grant


PageMaker = Callable[[web.Request], web.Response]
FORBIDDEN_PAGE: web.AppKey[PageMaker] = web.AppKey("forbidden_page")


def forbidden(request: web.Request) -> web.Response:
    """403 and nothing else: no hint which check failed."""
    render = request.app.get(FORBIDDEN_PAGE)
    if render is not None:
        return render(request)
    return web.Response(status=403, text="403 Forbidden")


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def make_middlewares(security: WebSecurity) -> list[Any]:
    @web.middleware
    async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPForbidden:
            response = forbidden(request)
        except web.HTTPException as exc:
            _secure_headers(exc, request, security)
            raise
        _secure_headers(response, request, security)
        return response

    @web.middleware
    async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if _is_public(request.path):
            return await handler(request)
        grant = security.session_of(request)
        if grant is None:
            return forbidden(request)
        if request.method not in SAFE_METHODS:
            origin = request.headers.get("Origin")
            if origin is not None and origin != security.origin:
                log.warning("web: refused a %s from a foreign origin", request.method)
                return forbidden(request)
            token = request.headers.get("X-CSRF-Token")
            if token is None and request.content_type == "application/x-www-form-urlencoded":
                token = str((await request.post()).get("csrf") or "")
            if not security.signer.csrf_ok(grant, token):
                log.warning("web: refused a %s without a valid CSRF token", request.method)
                return forbidden(request)
        return await handler(request)

    return [headers_middleware, session_middleware]


def _secure_headers(
    response: web.StreamResponse, request: web.Request, security: WebSecurity
) -> None:
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if not request.path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"
    if security.secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
