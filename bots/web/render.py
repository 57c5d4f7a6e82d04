"""Server-side pages: Jinja2 templates with autoescaping, texts from :mod:`bots.web.texts`."""

from __future__ import annotations

from typing import Any

import jinja2
from aiohttp import web

from bots.web import texts
from bots.web.security import SECURITY, session_of

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("bots.web", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def locale_of(request: web.Request) -> str:
    grant = session_of(request)
    if grant is not None:
        return grant.locale
    accept = request.headers.get("Accept-Language", "")
    return "zh" if accept.lower().startswith("zh") else "en"


def page(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    locale = locale_of(request)
    grant = session_of(request)
    security = request.app[SECURITY]

    def t(key: str, **params: Any) -> str:
        return texts.text(key, locale, **params)

    html = _ENV.get_template(template).render(
        t=t,
        lang="zh-Hans" if locale.startswith("zh") else "en",
        csrf=security.signer.csrf(grant) if grant is not None else "",
        grant=grant,
        **context,
    )
    return web.Response(status=status, text=html, content_type="text/html", charset="utf-8")


def forbidden_page(request: web.Request) -> web.Response:
    return page(request, "forbidden.html", status=403)
