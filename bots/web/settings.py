"""My settings on the My images page: the member's own defaults in the session's community
(:mod:`core.preferences`), the same ones ``/settings`` shows on Discord and Slack.

The page shows each setting as a choice list (the catalog's values, ``default`` to clear); the
script posts the changed ones as JSON to ``/api/settings`` (session and CSRF checked by the
middleware). The service checks them against the catalog as a whole: a bad value is a 400 with
the sentence naming it, and nothing is stored. A session acts on its own member and community
only: there is no way to name anyone else.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bots.web import texts
from bots.web.backend import BACKEND
from bots.web.forms import json_object
from bots.web.security import grant_of
from core import messages, preferences
from core.errors import PixelsmithError
from core.preferences import Preferences

CLEAR = "default"
# Where a result can be answered so only its requester sees it (Slack shares files only into
# a conversation, so its members are not offered the setting).
PRIVATE_PLATFORMS = ("discord",)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    current: str
    options: list[tuple[str, str]]  # (value posted, label shown)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/settings", save)


def fields(
    prefs: Preferences, choices: dict[str, list[str]], platform: str, locale: str
) -> list[Field]:
    """The settings form of one member, in :data:`core.preferences.FIELDS` order."""

    def t(key: str) -> str:
        return texts.text(key, locale)

    out: list[Field] = []
    for name in preferences.FIELDS:
        value = getattr(prefs, name)
        if name in ("private", "remix"):
            if name == "private" and platform not in PRIVATE_PLATFORMS:
                continue
            options = [("off", t("prefs.off")), ("on", t("prefs.on"))]
            current = "on" if value else "off"
        elif name == "language":
            options = [(CLEAR, t("prefs.platform"))]
            options += [(code, t(f"prefs.language.{code}")) for code in preferences.LANGUAGES]
            current = value or CLEAR
        else:
            current = CLEAR if value is None else str(value)
            offered = choices.get(name, [])
            if current != CLEAR and current not in offered:
                offered = [current, *offered]  # e.g. a WxH size, or a model since removed
            options = [(CLEAR, t("prefs.default")), *((v, v) for v in offered)]
        out.append(Field(name, t(f"prefs.name.{name}"), current, options))
    return out


async def save(request: web.Request) -> web.Response:
    grant = grant_of(request)
    data = await json_object(request)
    if data is None:
        error = texts.text("web.error.bad_request", grant.locale)
        return web.json_response({"ok": False, "error": error}, status=400)
    caller = grant.identity()
    typed: dict[str, str | bool | int | None] = dict(data)
    try:
        prefs = await request.app[BACKEND].set_preferences(caller, typed)
    except PixelsmithError as exc:
        error = messages.render(exc, grant.locale)
        return web.json_response({"ok": False, "error": error}, status=400)
    return web.json_response(
        {"ok": True, "saved": texts.text("prefs.saved", grant.locale), "settings": prefs.stored()}
    )
