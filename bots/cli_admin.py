"""Admin commands of the ``pixelsmith`` CLI: quota show/set/grant/ban/unban, usage, history.

``add_admin_commands(subparsers)`` registers them on the CLI's sub-parsers; each parser gets
``admin_handler``: ``async def handler(args, *, service, out, err) -> int`` (the exit code).
Handlers go through :class:`core.service.ImageService` only, like every adapter.
USER is ``platform:user_id`` (``discord:1234``) or a bare id meaning the local CLI user
(``cli:<id>``). Wrong input prints one friendly line on ``err`` and returns 2; nothing is changed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, TextIO

from pydantic import ValidationError

from bots.terminal import output_folder, safe, save_images
from core import messages
from core.errors import PixelsmithError
from core.limits import parse_grant, parse_limit
from core.service import ImageService
from core.store import QuotaOverrides
from core.types import Identity, JobView

OPERATOR = Identity.operator()  # every change from the CLI is the operator's, and audited

USER_RE = re.compile(r"^(?:(?P<platform>[a-z][a-z0-9_-]*):)?(?P<id>[^\s:]+)$")

Handler = Callable[..., Awaitable[int]]


class InputError(Exception):
    """Wrong input from the admin; ``key`` and ``params`` pick the line printed."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key, self.params = key, params


def say(key: str, **params: Any) -> str:
    # Every sentence lives in the message catalogs; the admin CLI speaks the admin's LANG.
    # Parameters may be what someone typed (a ban reason, a user id): escaped for the terminal.
    shown = {k: safe(v) if isinstance(v, str) else v for k, v in params.items()}
    return messages.text(key, os.environ.get("LANG", "en"), **shown)


# ---------------------------------------------------------------------------------------------
# parsing


def parse_user(value: str) -> tuple[str, str]:
    """``discord:1234`` -> (``discord``, ``1234``); a bare id -> (``cli``, id)."""
    match = USER_RE.match(value.strip())
    if not match:
        raise InputError("cli.bad_user", value=value)
    return match["platform"] or "cli", match["id"]


def user_identity(value: str, community: str | None = None) -> Identity:
    platform, user_id = parse_user(value)
    return Identity(platform=platform, user_id=user_id, community_id=community)


def community_scope(value: str) -> str:
    """``discord:987`` -> ``community:discord:987``; a bare id -> ``community:cli:<id>``."""
    match = USER_RE.match(value.strip())
    if not match:
        raise InputError("cli.bad_community", value=value)
    return f"community:{match['platform'] or 'cli'}:{match['id']}"


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError("cli.bad_date", value=value) from None


# ---------------------------------------------------------------------------------------------
# output


def table(rows: Sequence[Sequence[Any]], header: Sequence[str], out: TextIO) -> None:
    """An aligned table: numbers right-aligned, text left-aligned."""
    # Cells may hold what users typed (prompts): control and bidi characters are escaped.
    cells = [[str(h) for h in header]] + [["" if c is None else safe(c) for c in r] for r in rows]
    numeric = [
        all(isinstance(r[i], int | float) for r in rows if r[i] is not None) and bool(rows)
        for i in range(len(header))
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: list[str]) -> str:
        parts = [
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(row, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out.write(line(cells[0]) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in cells[1:]:
        out.write(line(row) + "\n")


def usd(value: float) -> str:
    return f"${value:,.4f}" if abs(value) < 1 else f"${value:,.2f}"


def when(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def amount(value: float | int | None, unit: str) -> str:
    if value is None:
        return say("cli.unlimited")
    return usd(float(value)) if unit == "usd" else str(value)


# ---------------------------------------------------------------------------------------------
# handlers


async def quota_show(
    args: argparse.Namespace, *, service: ImageService, out: TextIO, err: TextIO
) -> int:
    identity = user_identity(args.user, args.community)
    status = await service.quota_status(identity)
    community = f" in {identity.community_scope}" if identity.community_scope else ""
    out.write(say("cli.show_title", scope=identity.user_scope, community=community) + "\n")
    if status.banned:
        reason = f": {status.ban_reason}" if status.ban_reason else ""
        out.write(say("cli.show_banned", reason=reason) + "\n")
    if status.cooldown_until is not None:
        out.write(say("cli.show_cooldown", until=when(status.cooldown_until)) + "\n")
    rows = [
        [
            s.name,
            amount(s.limit, s.unit),
            amount(s.used, s.unit),
            amount(s.reserved, s.unit),
            amount(s.granted, s.unit) if s.granted else "",
            "-" if s.remaining is None else amount(s.remaining, s.unit),
            when(s.resets_at) if s.limit is not None else "",
        ]
        for s in status.limits
    ]
    table(rows, ["limit", "max", "used", "reserved", "granted", "left", "resets"], out)
    for scope in filter(None, (identity.community_scope, identity.user_scope)):
        override = await service.admin_get_limits(OPERATOR, scope)
        if override:
            out.write(say("cli.show_override", limits=f"{scope} {_fmt_override(override)}") + "\n")
    return 0


def _fmt_override(limits: dict[str, Any]) -> str:
    return ", ".join(f"{k}={'unlimited' if v is None else v}" for k, v in sorted(limits.items()))


SET_OPTIONS = {
    "daily_images": "user_daily_images",
    "monthly_images": "user_monthly_images",
    "daily_usd": "user_daily_usd",
    "monthly_usd": "user_monthly_usd",
    "budget_usd": "community_monthly_usd",
    "concurrent_jobs": "user_concurrent_jobs",
}


async def quota_set(
    args: argparse.Namespace, *, service: ImageService, out: TextIO, err: TextIO
) -> int:
    if (args.user is None) == (args.community is None):
        raise InputError("cli.set_user_xor_community")
    scope = (
        community_scope(args.community)
        if args.community is not None
        else user_identity(args.user).user_scope
    )
    if args.clear:
        removed = await service.admin_clear_limits(OPERATOR, scope)
        out.write(say("cli.set_cleared" if removed else "cli.set_none", scope=scope) + "\n")
        return 0
    given: dict[str, Any] = {}
    for option, key in SET_OPTIONS.items():
        raw = getattr(args, option)
        if raw is not None:
            given[key] = parse_limit(key, raw)
    if not given:
        raise InputError("cli.set_nothing")
    if "community_monthly_usd" in given and args.community is None:
        raise InputError("cli.budget_needs_community")
    try:
        QuotaOverrides(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(
            "cli.bad_limit_value", option=".".join(map(str, first["loc"])), problem=first["msg"]
        ) from None
    merged = await service.admin_set_limits(OPERATOR, scope, given)
    out.write(say("cli.set_done", scope=scope, limits=_fmt_override(merged)) + "\n")
    return 0


async def quota_grant(
    args: argparse.Namespace, *, service: ImageService, out: TextIO, err: TextIO
) -> int:
    scope = user_identity(args.user).user_scope
    value = parse_grant(args.unit, args.amount)
    try:
        await service.admin_grant(OPERATOR, scope, value, args.unit, args.period)
    except ValueError:
        raise InputError("cli.bad_amount", value=args.amount, unit=args.unit) from None
    shown = usd(value) if args.unit == "usd" else say("unit.images", value=value)
    out.write(say("cli.grant_done", amount=shown, scope=scope, period=args.period) + "\n")
    return 0


async def quota_ban(
    args: argparse.Namespace, *, service: ImageService, out: TextIO, err: TextIO
) -> int:
    scope = user_identity(args.user).user_scope
    done = await service.admin_ban(OPERATOR, scope, args.reason)
    out.write(say("cli.ban_done" if done else "cli.ban_already", scope=scope) + "\n")
    return 0


async def quota_unban(
    args: argparse.Namespace, *, service: ImageService, out: TextIO, err: TextIO
) -> int:
    scope = user_identity(args.user).user_scope
    done = await service.admin_unban(OPERATOR, scope)
    out.write(say("cli.unban_done" if done else "cli.unban_not", scope=scope) + "\n")
    return 0


async def usage(
    args: argparse.Namespace, *, service: ImageService, out: TextIO, err: TextIO
) -> int:
    if args.check:
        problems = await service.check()
        look = [line for line in await service.attention() if line not in problems]
        if problems:
            out.write(say("cli.check_bad", count=len(problems)) + "\n")
            for problem in problems:
                out.write(f"  {problem}\n")
        else:
            out.write(say("cli.check_ok") + "\n")
        if look:  # consistent, but an admin should look (exit 1 only for a difference)
            out.write(say("cli.check_look", count=len(look)) + "\n")
            for line in look:
                out.write(f"  {line}\n")
        return 1 if problems else 0
    since = parse_date(args.since) if args.since else None
    if getattr(args, "chart", None):
        from pathlib import Path

        from core import messages
        from core.charts import chart_title, spend_chart_png

        daily = await service.daily_spend(OPERATOR, since, args.by)
        png = await spend_chart_png(daily, title=chart_title(args.by, since), by=args.by)
        try:
            Path(args.chart).write_bytes(png)
        except OSError:
            err.write(messages.text("chart.unwritable", "en", path=args.chart) + "\n")
            return 2
        out.write(f"{args.chart}\n")
        return 0
    rows = await service.usage(OPERATOR, since, args.by)
    if args.csv:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([args.by, "jobs", "images", "cost_usd"])
        for r in rows:
            writer.writerow([safe(r.group), r.jobs, r.images, f"{r.cost_usd:.6f}"])
        return 0
    if not rows:
        out.write(say("cli.usage_empty", since=f" since {since}" if since else "") + "\n")
        return 0
    body: list[list[Any]] = [[r.group, r.jobs, r.images, usd(r.cost_usd)] for r in rows]
    body.append(
        [
            say("cli.total"),
            sum(r.jobs for r in rows),
            sum(r.images for r in rows),
            usd(sum(r.cost_usd for r in rows)),
        ]
    )
    table(body, [args.by, "jobs", "images", "cost"], out)
    return 0


async def audit(
    args: argparse.Namespace, *, service: ImageService, out: TextIO, err: TextIO
) -> int:
    """The admin audit log, newest first: every community's (the operator sees all), or one."""
    within = community_scope(args.community) if args.community else None
    entries = await service.audit(OPERATOR, limit=args.limit, community=within)
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(["at", "actor", "community", "action", "target", "before", "after"])
    for e in entries:
        writer.writerow(
            [
                e.at.isoformat(timespec="seconds"),
                safe(e.actor),
                safe(e.community_scope or "-"),
                e.action,
                safe(e.target),
                safe(json.dumps(e.before, sort_keys=True)),
                safe(json.dumps(e.after, sort_keys=True)),
            ]
        )
    return 0


def _history_row(job: JobView) -> list[Any]:
    prompt = job.prompt if len(job.prompt) <= 50 else job.prompt[:49] + "…"
    return [
        job.public_id,
        when(job.created_at),
        job.state.value,
        usd(job.cost_usd),
        f"{job.images_delivered}/{job.images_requested}",
        job.model,
        job.error or "",
        prompt,
    ]


async def history(
    args: argparse.Namespace, *, service: ImageService, out: TextIO, err: TextIO
) -> int:
    identity = user_identity(args.user)
    if args.deliver is not None:
        return await _deliver(args, identity, service, out)
    jobs = await service.history(identity, args.limit)
    if not jobs:
        out.write(say("cli.history_empty", scope=identity.user_scope) + "\n")
        return 0
    table(
        [_history_row(j) for j in jobs],
        ["job", "time", "state", "cost", "images", "model", "error", "prompt"],
        out,
    )
    return 0


async def _deliver(
    args: argparse.Namespace, identity: Identity, service: ImageService, out: TextIO
) -> int:
    """``history USER --deliver JOB``: the kept images of one of USER's jobs, saved again for
    free into ``--out`` (checked first), one path per line."""
    folder = output_folder(args.out)
    result = await service.redeliver(identity, args.deliver, operator=True)
    for path in save_images(result, folder, args.stem):
        out.write(f"{safe(path)}\n")
    out.write(
        say("note.redelivered", cost=result.extra.get("original_cost_micros", 0) / 1e6) + "\n"
    )
    return 0


def guarded(handler: Handler) -> Handler:
    """Turn :class:`InputError` into one line on ``err`` and exit code 2."""

    async def run(
        args: argparse.Namespace, *, service: ImageService, out: TextIO, err: TextIO
    ) -> int:
        try:
            return await handler(args, service=service, out=out, err=err)
        except InputError as exc:
            err.write(say(exc.key, **exc.params) + "\n")
            return 2
        except PixelsmithError as exc:
            err.write(messages.render(exc, os.environ.get("LANG", "en"), admin=True) + "\n")
            return exc.exit_code

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


HISTORY_MAX = 1000


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{safe(value)}' is not a whole number") from None
    if not 1 <= number <= HISTORY_MAX:
        raise argparse.ArgumentTypeError(f"must be from 1 to {HISTORY_MAX}")
    return number


def add_admin_commands(subparsers: Any) -> None:
    """Register ``quota``, ``usage`` and ``history`` on the CLI's ``add_subparsers()`` action."""
    quota = subparsers.add_parser("quota", help="show and change quotas (admin)")
    qsub = quota.add_subparsers(dest="quota_command", metavar="{show,set,grant,ban,unban}")
    qsub.required = True

    show = qsub.add_parser("show", help="a user's limits, use and reset times")
    show.add_argument("user", metavar="USER", help="platform:id, or a bare id for the local user")
    show.add_argument("--community", metavar="C", help="the community the user is in")
    show.set_defaults(admin_handler=guarded(quota_show))

    set_ = qsub.add_parser("set", help="override limits for a user or a community")
    set_.add_argument("user", metavar="USER", nargs="?")
    set_.add_argument("--community", metavar="C")
    set_.add_argument("--daily-images", metavar="N")
    set_.add_argument("--monthly-images", metavar="N")
    set_.add_argument("--daily-usd", metavar="X")
    set_.add_argument("--monthly-usd", metavar="X")
    set_.add_argument("--budget-usd", metavar="X", help="community monthly budget")
    set_.add_argument("--concurrent-jobs", metavar="N")
    set_.add_argument("--clear", action="store_true", help="remove the override")
    set_.set_defaults(admin_handler=guarded(quota_set))

    grant = qsub.add_parser("grant", help="give a user extra allowance for this period")
    grant.add_argument("user", metavar="USER")
    grant.add_argument("amount", metavar="AMOUNT")
    grant.add_argument("--unit", choices=["images", "usd"], default="images")
    grant.add_argument("--period", choices=["day", "month"], default="month")
    grant.set_defaults(admin_handler=guarded(quota_grant))

    ban = qsub.add_parser("ban", help="stop a user from generating")
    ban.add_argument("user", metavar="USER")
    ban.add_argument("--reason", metavar="R")
    ban.set_defaults(admin_handler=guarded(quota_ban))

    unban = qsub.add_parser("unban", help="lift a ban")
    unban.add_argument("user", metavar="USER")
    unban.set_defaults(admin_handler=guarded(quota_unban))

    use = subparsers.add_parser("usage", help="spend report; --check reconciles with the ledger")
    use.add_argument("--since", metavar="DATE", help="YYYY-MM-DD (UTC, inclusive)")
    use.add_argument(
        "--by",
        choices=["user", "community", "model", "key"],
        default="user",
        help="key: who paid (your key, or a community's own key by its fingerprint)",
    )
    use.add_argument("--csv", action="store_true", help="CSV for spreadsheets")
    use.add_argument(
        "--check", action="store_true", help="counters vs. ledger; exit 1 on a difference"
    )
    use.add_argument(
        "--chart", metavar="FILE.png", help="write a PNG of daily spend per group (stacked bars)"
    )
    use.set_defaults(admin_handler=guarded(usage))

    aud = subparsers.add_parser("audit", help="who changed which limit, grant or ban (admin)")
    aud.add_argument("--community", metavar="COMMUNITY", help="platform:id, e.g. discord:1234")
    aud.add_argument("--limit", type=_positive_int, default=50, metavar="N")
    aud.set_defaults(admin_handler=guarded(audit))

    hist = subparsers.add_parser("history", help="a user's recent jobs")
    hist.add_argument("user", metavar="USER")
    hist.add_argument("--limit", type=_positive_int, default=10, metavar="N")
    hist.add_argument(
        "--deliver", metavar="JOB", help="save the kept images of JOB again (free) into --out"
    )
    hist.add_argument("--out", default=".", help="folder for --deliver (default: .)")
    hist.add_argument("--stem", default="pixelsmith", help="file name stem for --deliver")
    hist.set_defaults(admin_handler=guarded(history))
