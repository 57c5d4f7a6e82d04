"""/imagine-admin: limits, grant, ban, unban, usage, chart — for the user ids in slack.admin_users.

Slack lets any member run any command, so the admin check is here, in code, on every call.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncApp

from bots.slack.home import quota_lines
from bots.slack.runtime import SlackBot, mention
from bots.slack.web import dashboard_text
from core import messages
from core.charts import chart_title, spend_chart_png
from core.limits import UNLIMITED_WORDS
from core.store.policy import LIMIT_KEYS, QuotaOverrides
from core.types import Identity

_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]+)$")


class AdminInput(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key, self.params = key, params


def _user(words: list[str]) -> str:
    match = _USER.match(words[1]) if len(words) > 1 else None
    if match is None:
        raise AdminInput("slack.admin.bad_user", value=words[1] if len(words) > 1 else "")
    return match.group(1) or match.group(2)


def _limits(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or key not in LIMIT_KEYS:
            raise AdminInput("slack.admin.bad_limit", value=pair, known=", ".join(LIMIT_KEYS))
        out[key] = None if raw.strip().lower() in UNLIMITED_WORDS else raw
    try:
        checked = QuotaOverrides.model_validate(out)
    except ValidationError:
        raise AdminInput(
            "slack.admin.bad_limit", value=" ".join(pairs), known=", ".join(LIMIT_KEYS)
        ) from None
    return {key: getattr(checked, key) for key in out}


async def _limits_cmd(bot: SlackBot, who: Identity, words: list[str]) -> str:
    user = _user(words)
    if len(words) == 2:
        target = Identity("slack", user, who.community_id, locale=who.locale)
        return "\n".join(quota_lines(await bot.service.quota_status(target), who.locale))
    merged = await bot.service.admin_set_limits(who, user, _limits(words[2:]))
    shown = ", ".join(f"{k}={v}" for k, v in merged.items())
    return messages.text("slack.admin.limits", who.locale, user=mention(user), limits=shown)


async def _grant(bot: SlackBot, who: Identity, words: list[str]) -> str:
    user = _user(words)
    unit = words[3].lower() if len(words) > 3 else "images"
    try:
        amount = float(words[2])
        await bot.service.admin_grant(who, user, amount, unit)
    except (IndexError, ValueError):
        raise AdminInput("slack.admin.bad_amount", value=" ".join(words[2:])) from None
    shown = int(amount) if amount.is_integer() else amount
    return messages.text(
        "slack.admin.granted", who.locale, amount=shown, unit=unit, user=mention(user)
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
            group=row.group,
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


async def _dashboard(bot: SlackBot, who: Identity, words: list[str]) -> str:
    return dashboard_text(bot, who)


_HANDLERS = {
    "limits": _limits_cmd,
    "grant": _grant,
    "ban": _ban,
    "unban": _ban,
    "usage": _usage,
    "chart": _chart,
    "dashboard": _dashboard,
}


async def admin(bot: SlackBot, command: dict[str, Any]) -> None:
    channel = command["channel_id"]
    who = await bot.identity(command["user_id"], command.get("team_id"), channel)
    words = str(command.get("text") or "").split()
    handler = _HANDLERS.get(words[0].lower()) if words else None
    if not who.is_admin:
        text = messages.text("slack.admin.denied", who.locale)
    elif handler is None:
        text = messages.text("slack.admin.help", who.locale)
    else:
        words[0] = words[0].lower()
        try:
            text = await handler(bot, who, words)
        except AdminInput as bad:
            text = messages.text(bad.key, who.locale, **bad.params)
    await bot.ephemeral(channel, who.user_id, text)


def register(app: AsyncApp, bot: SlackBot) -> None:
    @app.command("/imagine-admin")
    async def on_admin(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        await bot.run(command, admin(bot, command))
