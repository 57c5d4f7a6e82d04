"""The admin dashboard of one community: spend and images per day, per-member usage,
limits, grants, bans (with Unban), the jobs that need attention (unknown outcomes, capped costs),
the audit log, the spend per day and member and the ledger's rows as CSV.

Only sessions from a dashboard link (minted by a chat adapter after its own admin check, or by
the operator's ``pixelsmith dashboard-link``) have ``grant.admin``; every call is made as that
caller, so the service acts on and reads only the caller's community. Values go through the same
validated service calls as the chat commands: a bad one is a 400 with the sentence, nothing stored.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from aiohttp import web

from bots.web import texts
from bots.web.backend import BACKEND, LIMIT_KEYS
from bots.web.forms import json_object
from bots.web.render import page
from bots.web.security import forbidden, grant_of
from core import messages
from core.errors import PixelsmithError

DAYS = 30
ACTIONS = ("limits", "grant", "ban", "unban")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/dashboard", dashboard_page)
    app.router.add_get("/api/dashboard/daily", daily)
    app.router.add_get("/dashboard/spend.csv", spend_csv)
    app.router.add_get("/dashboard/ledger.csv", ledger_csv)
    for action in ACTIONS:
        app.router.add_post(f"/api/dashboard/{action}", change)


def _admin(request: web.Request) -> bool:
    grant = grant_of(request)
    return grant.admin and grant.tenant_id is not None


def _since() -> date:
    return datetime.now(UTC).date() - timedelta(days=DAYS - 1)


async def dashboard_page(request: web.Request) -> web.Response:
    if not _admin(request):
        return forbidden(request)
    backend = request.app[BACKEND]
    caller = grant_of(request).identity()
    return page(
        request,
        "dashboard.html",
        days=DAYS,
        members=await backend.members(caller, _since()),
        audit=await backend.audit(caller),
        attention=await backend.attention(caller),
        bans=await backend.bans(caller),
        limit_keys=LIMIT_KEYS,
    )


async def daily(request: web.Request) -> web.Response:
    """Spend, charged jobs and images delivered per UTC day of the caller's community, every
    day present."""
    if not _admin(request):
        return forbidden(request)
    since = _since()
    rows = await request.app[BACKEND].daily(grant_of(request).identity(), since)
    by_day = {r.day: r for r in rows}
    days = []
    for offset in range(DAYS):
        day = since + timedelta(days=offset)
        row = by_day.get(day)
        days.append(
            {
                "day": day.isoformat(),
                "cost_micros": row.cost_micros if row else 0,
                "jobs": row.jobs if row else 0,
                "images": row.images if row else 0,
            }
        )
    return web.json_response({"days": days})


async def spend_csv(request: web.Request) -> web.Response:
    """What the ledger charged per UTC day and member of the caller's community."""
    if not _admin(request):
        return forbidden(request)
    caller = grant_of(request).identity()
    rows = await request.app[BACKEND].daily_by_member(caller, _since())
    prefix = f"user:{caller.platform}:"
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "member", "jobs", "cost_usd"])
    for row in rows:
        member = _cell(row.group.removeprefix(prefix))
        writer.writerow([row.day.isoformat(), member, row.jobs, f"{row.cost_micros / 1e6:.6f}"])
    response = web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="pixelsmith-spend.csv"'
    return response


async def ledger_csv(request: web.Request) -> web.Response:
    """The ledger's rows of the caller's community's jobs (the last 30 days), oldest first:
    every reservation, release and capture, as ``pixelsmith usage --check`` reads them."""
    if not _admin(request):
        return forbidden(request)
    caller = grant_of(request).identity()
    rows = await request.app[BACKEND].ledger(caller, _since())
    prefix = f"user:{caller.platform}:"
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "job", "member", "scope", "period", "unit", "kind", "amount"])
    for row in rows:
        writer.writerow(
            [
                row.at.isoformat(timespec="seconds"),
                row.job,  # a public id the bot made (base64url), exact for look-ups
                _cell(row.user_scope.removeprefix(prefix)),
                _cell(row.scope),
                _cell(row.period),
                row.unit,
                row.kind,
                row.amount,
            ]
        )
    response = web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="pixelsmith-ledger.csv"'
    return response


def _cell(value: str) -> str:
    """No spreadsheet formulas from stored text (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def change(request: web.Request) -> web.Response:
    """Limits, grants, bans: one validated service call as the admin caller."""
    if not _admin(request):
        return forbidden(request)
    grant = grant_of(request)
    data = await json_object(request)
    if data is None:
        return _bad(grant.locale)
    backend = request.app[BACKEND]
    caller = grant.identity()
    action = request.path.rsplit("/", 1)[-1]
    member = data.get("member", "").strip() or None
    try:
        if action == "limits" and data.get("key") in LIMIT_KEYS:
            await backend.set_limit(caller, member, data["key"], data.get("value", ""))
        elif action == "grant" and member:
            unit, period = data.get("unit", ""), data.get("period", "")
            await backend.grant(caller, member, data.get("amount", ""), unit, period)
        elif action == "ban" and member:
            await backend.ban(caller, member, data.get("reason", "").strip() or None)
        elif action == "unban" and member:
            await backend.unban(caller, member)
        else:
            return _bad(grant.locale)
    except PixelsmithError as exc:
        error = messages.render(exc, grant.locale)
        return web.json_response({"ok": False, "error": error}, status=400)
    return web.json_response({"ok": True})


def _bad(locale: str) -> web.Response:
    error = texts.text("web.error.bad_request", locale)
    return web.json_response({"ok": False, "error": error}, status=400)
