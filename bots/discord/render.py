"""Discord text for core objects: result headers, progress, quota, history. Words come from
core.messages; this module only picks keys, fills parameters and keeps Discord's 2000-char limit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from bots import chat
from core import messages
from core.account import LimitLine, clip, history_view, quota_view
from core.errors import Note, PixelsmithError
from core.types import ImageResult, JobView, Progress, QuotaLeft, QuotaStatus

MAX_CONTENT = 2000
PROMPT_CHARS = 300
BAR_CELLS = 12


def discord_time(when: datetime) -> str:
    """A Discord timestamp shown relative to the reader ("in 5 hours")."""
    return f"<t:{int(when.timestamp())}:R>"


def fit(lines: Iterable[str]) -> str:
    return clip_block("\n".join(line for line in lines if line), MAX_CONTENT)


def clip_block(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mention(user_id: int | str) -> str:
    return f"<@{user_id}>"


def failure(exc: PixelsmithError, locale: str, *, admin: bool = False, base_url: str = "") -> str:
    text = messages.render(exc, locale, admin=admin, time_format=discord_time, base_url=base_url)
    return clip_block(text, MAX_CONTENT)


def _left_line(left: QuotaLeft | None, locale: str) -> str:
    if left is None:
        return ""
    values: list[tuple[str, Any]] = [
        ("images_today", left.images_today),
        ("usd_today", left.usd_today),
        ("images_month", left.images_month),
        ("usd_month", left.usd_month),
        ("community_usd_month", left.community_usd_month),
    ]
    parts = [
        messages.text(f"discord.left.{name}", locale, value=value)
        for name, value in values
        if value is not None
    ]
    return messages.text("discord.left", locale, parts=", ".join(parts)) if parts else ""


def result_header(
    result: ImageResult, locale: str, requester: str, notes: Sequence[Note] = ()
) -> str:
    """Prompt, requester, model, cost, quota left and every note, within 2000 characters."""
    request = result.request
    cost_key = "result.cost_demo" if result.demo else "result.cost"
    return fit(
        [
            messages.text(
                "result.header",
                locale,
                prompt=clip(request.prompt, PROMPT_CHARS),
                model=request.model,
                who=requester,
            ),
            messages.text(cost_key, locale, cost=result.cost_usd),
            _left_line(result.quota_left, locale),
            *(messages.note(n, locale) for n in (*result.notes, *notes)),
        ]
    )


def progress(p: Progress, locale: str, model: str, prompt: str) -> str:
    line = messages.progress(p, locale, model)
    bar = messages.progress_bar(p, BAR_CELLS, "▰", "▱")
    if bar is not None:
        line = f"{bar} {line}"
    return fit([f"> {clip(prompt, PROMPT_CHARS)}", line])


def _limit_line(line: LimitLine, locale: str) -> str:
    params = {"name": line.name, "remaining": line.remaining, "limit": line.limit}
    if line.resets_at is None:
        return messages.text("discord.quota.line_noreset", locale, **params)
    return messages.text(
        "discord.quota.line", locale, resets=discord_time(line.resets_at), **params
    )


def quota(status: QuotaStatus, locale: str) -> str:
    view = quota_view(status, locale)
    if view.banned:
        return messages.text("quota.banned", locale)
    lines = [messages.text("discord.quota.title", locale)] if view.limited else []
    lines += [f"• {_limit_line(line, locale)}" for line in view.limited]
    if view.cooldown_until is not None:
        lines.append(
            messages.text(
                "discord.quota.cooldown", locale, resets=discord_time(view.cooldown_until)
            )
        )
    return fit(lines) or messages.text("discord.quota.none", locale)


def history(jobs: Sequence[JobView], locale: str) -> str:
    if not jobs:
        return messages.text("discord.history.empty", locale)
    return fit(
        chat.history_line(line, locale, when=discord_time(line.when))
        for line in history_view(jobs, prompt_chars=120)
    )


def missing_permissions(flags: Sequence[str], locale: str) -> str:
    """Why a job is refused before paying, naming the permissions to grant (nothing charged)."""
    names = [messages.text(f"discord.permission.{flag}", locale) for flag in flags]
    return messages.text("discord.missing_permissions", locale, permissions=", ".join(names))


def undelivered(result: ImageResult, reason: str, locale: str, *, kept: bool = False) -> str:
    """The image was made and charged, but could not be posted: why, and what to do."""
    how = "how_fix" if reason in ("permissions", "access") else "how_wait"
    if kept:
        how = "how_again"  # the result store has it: /history again posts it for free
    return fit(
        [
            messages.text(
                "discord.undelivered",
                locale,
                count=len(result.images),
                cost=result.cost_usd,
                reason=messages.text(f"discord.undelivered.{reason}", locale),
            ),
            messages.text(f"discord.undelivered.{how}", locale),
        ]
    )


def again_failed(reason: str, locale: str) -> str:
    """A free re-delivery that could not be posted (nothing was charged)."""
    why = messages.text(f"discord.undelivered.{reason}", locale)
    return messages.text("discord.again_failed", locale, reason=why)
