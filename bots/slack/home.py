"""App Home: the user's quota, when it resets, and their recent jobs (views.publish)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bots.slack import blocks
from bots.slack.payload import origin
from bots.slack.runtime import SlackBot, escape, slack_time
from core import messages
from core.types import JobView, QuotaStatus

RECENT_JOBS = 8


def _amount(unit: str, value: float | int, locale: str) -> str:
    return messages.text(f"unit.{unit}", locale, value=value) if unit == "usd" else str(value)


def quota_lines(status: QuotaStatus, locale: str) -> list[str]:
    """One line per limit: what is left of what, and when it resets."""
    lines = [messages.text("quota.banned", locale)] if status.banned else []
    for item in status.limits:
        name = messages.text(f"limit.{item.name}", locale)
        if item.limit is None or item.remaining is None:
            lines.append(messages.text("chat.quota.unlimited", locale, name=name))
            continue
        resets = (
            messages.text("slack.home.resets", locale, when=slack_time(item.resets_at))
            if item.resets_at
            else ""
        )
        lines.append(
            messages.text(
                "slack.home.limit",
                locale,
                name=name,
                resets=resets,
                remaining=_amount(item.unit, item.remaining, locale),
                limit=_amount(item.unit, item.limit, locale),
            )
        )
    return lines or [messages.text("status.unlimited", locale)]


def job_lines(jobs: list[JobView], locale: str) -> list[str]:
    out = []
    for job in jobs:
        prompt = job.prompt if len(job.prompt) <= 80 else job.prompt[:79] + "…"
        out.append(
            messages.text(
                "chat.history.line",
                locale,
                when=slack_time(job.created_at),
                cost=job.cost_usd,
                state=messages.text(f"chat.state.{job.state.value}", locale),
                prompt=escape(prompt),
            )
        )
    return out


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
