"""/imagine-admin: limits, grant, ban, unban, usage, chart, audit, dashboard — for the user ids in
slack.admin_users, and only inside the community the command comes from: the workspace, or the
Enterprise Grid org it belongs to (then every workspace of that org, and no other).

Slack lets any member run any command, so the admin check is here, in code, on every call; and
every action goes through the service's caller-scoped admin API, which acts only on the caller's
own workspace (a user id of another workspace names a member of this one, who is not that
person) and audits it. Numbers go through core's one limit language.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp

from bots.slack import keys
from bots.slack.home import quota_lines
from bots.slack.mrkdwn import mention, slack_time
from bots.slack.payload import origin, text
from bots.slack.runtime import SlackBot
from bots.slack.web import dashboard_text
from core import messages
from core.charts import chart_title, spend_chart_png
from core.errors import PixelsmithError
from core.limits import LIMIT_UNITS, LimitError, parse_grant, parse_limit
from core.types import AuditEntry, Identity

_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]+)$")
EVERYONE = ("everyone", "default", "all")
PERIODS = ("day", "month")
AUDIT_SHOWN = 20


class AdminInput(Exception):
    def __init__(self, message_key: str, /, **params: Any) -> None:
        super().__init__(message_key)
        self.key, self.params = message_key, params


def _user(words: list[str]) -> str:
    match = _USER.match(words[1]) if len(words) > 1 else None
    if match is None:
        raise AdminInput("slack.admin.bad_user", value=words[1] if len(words) > 1 else "")
    return match.group(1) or match.group(2)


def _limits(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or key not in LIMIT_UNITS:
            raise AdminInput("slack.admin.bad_limit", value=pair, known=", ".join(LIMIT_UNITS))
        try:
            out[key] = parse_limit(key, raw)
        except LimitError as bad:  # names the value and the range
            raise AdminInput(bad.key, **bad.params) from None
    return out


async def _limits_cmd(bot: SlackBot, who: Identity, words: list[str]) -> str:
    everyone = len(words) > 1 and words[1].lower() in EVERYONE
    user = None if everyone else _user(words)
    if len(words) == 2 and user is not None:
        target = who.member_of_mine(user)
        status = await bot.service.quota_status(target)
        return "\n".join(quota_lines(status, who.locale))
    merged = await bot.service.admin_set_limits(who, user, _limits(words[2:]))
    shown = ", ".join(f"{k}={v}" for k, v in merged.items())
    name = mention(user) if user else messages.text("slack.admin.everyone", who.locale)
    return messages.text("slack.admin.limits", who.locale, user=name, limits=shown)


async def _grant(bot: SlackBot, who: Identity, words: list[str]) -> str:
    user = _user(words)
    if len(words) < 3:
        raise AdminInput("slack.admin.bad_amount", value="")
    rest = [w.lower() for w in words[3:]]
    unit = next((w for w in rest if w in ("images", "usd")), "images")
    period = next((w for w in rest if w in PERIODS), "month")
    if any(w not in ("images", "usd", *PERIODS) for w in rest):
        raise AdminInput("slack.admin.bad_amount", value=" ".join(words[2:]))
    amount = parse_grant(unit, words[2])
    moved = await bot.service.admin_grant(who, user, amount, unit, period)
    shown = moved / 1_000_000 if unit == "usd" and isinstance(moved, int) else moved
    return messages.text(
        "slack.admin.granted",
        who.locale,
        amount=shown if unit == "usd" else int(shown),
        unit=unit,
        period=period,
        user=mention(user),
    )


async def _ban(bot: SlackBot, who: Identity, words: list[str]) -> str:
    user = _user(words)
    if words[0] == "ban":
        done = await bot.service.admin_ban(who, user, " ".join(words[2:]) or None)
        key = "chat.admin.banned" if done else "chat.admin.already_banned"
    else:
        done = await bot.service.admin_unban(who, user)
        key = "chat.admin.unbanned" if done else "chat.admin.not_banned"
    return messages.text(key, who.locale, target=mention(user))


async def _usage(bot: SlackBot, who: Identity, words: list[str]) -> str:
    by = words[1] if len(words) > 1 and words[1] in ("user", "community", "model") else "user"
    rows = await bot.service.usage(who, None, by)
    lines = [
        messages.text(
            "slack.admin.usage_line",
            who.locale,
            group=_who(row.group),
            jobs=row.jobs,
            images=row.images,
            cost=row.cost_usd,
        )
        for row in rows
    ]
    return "\n".join(lines) or messages.text("slack.admin.usage_empty", who.locale)


async def _chart(bot: SlackBot, who: Identity, words: list[str]) -> str:
    """The daily spend chart (the CLI's), uploaded where the admin asked for it."""
    by = words[1] if len(words) > 1 and words[1] in ("community", "model") else "community"
    days = int(words[2]) if len(words) > 2 and words[2].isascii() and words[2].isdigit() else 30
    since = (datetime.now(UTC) - timedelta(days=max(1, min(days, 3660)))).date()
    title = chart_title(by, since, who.locale)
    png = await spend_chart_png(
        await bot.service.daily_spend(who, since, by), title=title, by=by, locale=who.locale
    )
    await bot.client.files_upload_v2(
        channel=who.channel_id, file=png, filename="pixelsmith-spend.png", title=title
    )
    return messages.text("slack.admin.chart_posted", who.locale)


def _who(scope: str) -> str:
    """A scope as people read it: a Slack user as a mention, the workspace default as such."""
    user = scope.rpartition(":")[2]
    if scope.startswith(("user:slack:", "member:slack:")) and _USER.match(user):
        return mention(user)
    return scope


def _values(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    return "-" if value is None else str(value)


def audit_line(entry: AuditEntry, locale: str) -> str:
    target = entry.target
    shown_target = (
        messages.text("slack.admin.everyone", locale) if target.endswith(":*") else _who(target)
    )
    return messages.text(
        "slack.admin.audit_line",
        locale,
        when=slack_time(entry.at),
        actor=_who(entry.actor),
        action=entry.action,
        target=shown_target,
        before=_values(entry.before),
        after=_values(entry.after),
    )


async def _audit(bot: SlackBot, who: Identity, words: list[str]) -> str:
    entries = await bot.service.audit(who, limit=AUDIT_SHOWN)
    lines = [audit_line(e, who.locale) for e in entries]
    return "\n".join(lines) or messages.text("slack.admin.audit_empty", who.locale)


async def _dashboard(bot: SlackBot, who: Identity, words: list[str]) -> str:
    return dashboard_text(bot, who)


_HANDLERS = {
    "limits": _limits_cmd,
    "grant": _grant,
    "ban": _ban,
    "unban": _ban,
    "usage": _usage,
    "chart": _chart,
    "audit": _audit,
    "dashboard": _dashboard,
    "key": keys.key_command,
}


async def admin(bot: SlackBot, command: dict[str, Any]) -> None:
    where = origin(command)
    if where.user is None or (where.team is None and where.enterprise is None):
        await bot.incomplete(where, "/imagine-admin")
        return
    who = await bot.identity_of(where)
    words = (text(command.get("text"), 4000) or "").split()
    handler = _HANDLERS.get(words[0].lower()) if words else None
    if not who.is_admin:
        reply = messages.text("slack.admin.denied", who.locale)
    elif handler is None:
        reply = messages.text("slack.admin.help", who.locale)
    else:
        words[0] = words[0].lower()
        try:
            reply = await handler(bot, who, words)
        except AdminInput as bad:
            reply = messages.text(bad.key, who.locale, **bad.params)
        except PixelsmithError as failure:  # a limit out of range, another workspace's scope
            reply = bot.render(failure, who)
    await bot.ephemeral(where.channel, who.user_id, reply)


def register(app: AsyncApp, bot: SlackBot) -> None:
    @app.command("/imagine-admin")
    async def on_admin(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        if keys.wants_form(command):  # a trigger id lasts about 3 s: the form opens first
            await bot.run(command, keys.open_key_form(bot, command))
            return
        await bot.run(command, admin(bot, command))

    keys.register(app, bot)
