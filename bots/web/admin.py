"""The admin dashboard of one community: spend and images per day, members, limits, grants,
bans, the audit log, the ledger as CSV, jobs that need attention.

Only sessions from a dashboard link (minted by a chat adapter after its own admin check, or by
the operator's ``pixelsmith dashboard-link``) have ``grant.admin``; every call is made as that
caller, so it acts on and reads only the caller's community.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web

from bots.web.backend import BACKEND
from bots.web.render import page
from bots.web.security import forbidden, grant_of

DAYS = 30


def add_routes(app: web.Application) -> None:
    app.router.add_get("/dashboard", dashboard_page)
    app.router.add_get("/api/dashboard/daily", daily)


def _admin(request: web.Request) -> bool:
    grant = grant_of(request)
    return grant.admin and grant.community_id is not None


async def dashboard_page(request: web.Request) -> web.Response:
    if not _admin(request):
        return forbidden(request)
    return page(request, "dashboard.html", days=DAYS)


async def daily(request: web.Request) -> web.Response:
    """Spend and jobs per UTC day of the caller's community, oldest first, every day present."""
    if not _admin(request):
        return forbidden(request)
    today = datetime.now(UTC).date()
    since = today - timedelta(days=DAYS - 1)
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
            }
        )
    return web.json_response({"days": days})
