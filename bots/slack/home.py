"""App Home: the user's quota, when it resets, and their recent jobs (views.publish)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bots import chat
from bots.slack import blocks
from bots.slack.mrkdwn import escape, slack_time
from bots.slack.payload import origin
from bots.slack.runtime import SlackBot
from core import messages
from core.account import history_view, quota_view
from core.types import JobView, QuotaStatus

RECENT_JOBS = 8


def quota_lines(status: QuotaStatus, locale: str) -> list[str]:
    """One line per limit: what is left of what, and when it resets."""
    view = quota_view(status, locale)
    lines = [messages.text("quota.banned", locale)] if view.banned else []
    for line in view.limits:
        if not line.limited:
            lines.append(chat.unlimited(line, locale))
            continue
        resets = (
            messages.text("slack.home.resets", locale, when=slack_time(line.resets_at))
            if line.resets_at
            else ""
        )
        lines.append(
            messages.text(
                "slack.home.limit",
                locale,
                name=line.name,
                resets=resets,
                remaining=line.remaining,
                limit=line.limit,
            )
        )
    return lines or [messages.text("status.unlimited", locale)]


def job_lines(jobs: list[JobView], locale: str) -> list[str]:
    return [
        chat.history_line(line, locale, when=slack_time(line.when), prompt=escape(line.prompt))
        for line in history_view(jobs, prompt_chars=80)
    ]


async def publish_home(bot: SlackBot, user_id: str, body: dict[str, Any]) -> None:
    where = origin(body)
    identity = await bot.identity(user_id, where.team, None, org_id=where.enterprise)
    status = await bot.service.quota_status(identity)
    jobs = await bot.service.history(identity, limit=RECENT_JOBS)
    view = blocks.home_view(
        quota_lines(status, identity.locale), job_lines(jobs, identity.locale), identity.locale
    )
    await bot.client.views_publish(user_id=user_id, view=view)


def register(app: AsyncApp, bot: SlackBot) -> None:
    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        await bot.run(body, publish_home(bot, str(event["user"]), body))
