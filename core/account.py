"""What a user's quota and history say, once, for every adapter to lay out in its own way.

:func:`quota_view` turns a :class:`~core.types.QuotaStatus` into lines whose names and amounts
are already in the reader's language (``daily image limit``, ``4 images``, ``$0.50``);
:func:`history_view` lists recent jobs (when, state, cost, the prompt cut to a length). An adapter only adds what is its own: how a
time is shown (a Discord timestamp, Slack's date token, plain text), its sentence around a line,
its length limits and markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from core import messages
from core.types import JobState, JobView, LimitStatus, QuotaStatus

UNITS = ("images", "usd", "jobs")


@dataclass(frozen=True)
class LimitLine:
    """One limit. ``remaining`` and ``limit`` are None when nothing limits it."""

    name: str
    remaining: str | None
    limit: str | None
    resets_at: datetime | None

    @property
    def limited(self) -> bool:
        return self.limit is not None


@dataclass(frozen=True)
class QuotaView:
    banned: bool
    limits: tuple[LimitLine, ...]
    cooldown_until: datetime | None

    @property
    def limited(self) -> tuple[LimitLine, ...]:
        return tuple(line for line in self.limits if line.limited)


@dataclass(frozen=True)
class HistoryLine:
    """One recent job: ``prompt`` on one line, cut to the adapter's length."""

    job: JobView
    when: datetime
    state: JobState
    cost_usd: float
    prompt: str

    @property
    def redeliverable(self) -> bool:
        return self.state == JobState.SUCCEEDED


def amount(unit: str, value: float | int | None, locale: str | None) -> str:
    """``4 images``, ``$0.50``, ``2 jobs`` in the reader's language."""
    if unit in UNITS:
        return messages.text(f"unit.{unit}", locale, value=value or 0)
    return str(value)


def limit_line(item: LimitStatus, locale: str | None) -> LimitLine:
    name = messages.text(f"limit.{item.name}", locale)
    if item.limit is None or item.remaining is None:
        return LimitLine(name, None, None, item.resets_at)
    return LimitLine(
        name,
        amount(item.unit, item.remaining, locale),
        amount(item.unit, item.limit, locale),
        item.resets_at,
    )


def quota_view(status: QuotaStatus, locale: str | None) -> QuotaView:
    return QuotaView(
        banned=status.banned,
        limits=tuple(limit_line(item, locale) for item in status.limits),
        cooldown_until=status.cooldown_until,
    )


def clip(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters, an ellipsis marking the cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def history_view(jobs: Iterable[JobView], *, prompt_chars: int) -> list[HistoryLine]:
    return [
        HistoryLine(
            job=job,
            when=job.created_at,
            state=job.state,
            cost_usd=job.cost_micros / 1_000_000,
            prompt=clip(job.prompt, prompt_chars),
        )
        for job in jobs
    ]
