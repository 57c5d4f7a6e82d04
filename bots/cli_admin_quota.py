"""``pixelsmith quota show/set/grant/ban/unban``: a user's limits, use and reset times, and the
operator's changes to them (overrides for a user or a community, grants, bans), each audited.

Handlers: ``async def handler(args, *, service, out, err) -> int``; :mod:`bots.cli_admin`
registers them, wrapped in :func:`bots.cli_admin_io.guarded`.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from pydantic import ValidationError

from bots.cli_admin_io import (
    OPERATOR,
    InputError,
    amount,
    community_scope,
    say,
    table,
    usd,
    user_identity,
    when,
)
from core.limits import parse_grant, parse_limit
from core.service import ImageService
from core.store import QuotaOverrides


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
