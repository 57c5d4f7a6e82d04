"""The store's one time convention, and the quota periods.

Every time the store takes or returns is an **aware UTC** ``datetime``; a naive value handed in
is read as UTC. In the database the columns are ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL and
UTC text (SQLAlchemy's ``DATETIME`` storage format, no offset) on SQLite. :func:`utc` is the
only conversion: it is applied to every value going in and every value coming out.

Periods are UTC calendar days and months: ``day:YYYY-MM-DD``, ``month:YYYY-MM``, and ``live``
(the concurrent-jobs counter, which never resets).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, overload

SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


@overload
def utc(value: datetime | str) -> datetime: ...
@overload
def utc(value: None) -> None: ...
def utc(value: datetime | str | None) -> datetime | None:
    """Aware UTC. Accepts an aware or naive (= UTC) datetime, or SQLite's stored text."""
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is UTC:
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def now_or(now: datetime | None) -> datetime:
    """``now`` as aware UTC, or the current time."""
    return datetime.now(UTC) if now is None else utc(now)


def sqlite_text(value: datetime) -> str:
    """How a time is written on SQLite's raw cursor path (what SQLAlchemy's DATETIME writes)."""
    return utc(value).strftime(SQLITE_FORMAT)


def bind_time(value: datetime, *, sqlite: bool) -> Any:
    """A time as a raw DBAPI parameter for the dialect."""
    return sqlite_text(value) if sqlite else utc(value)


def day_period(now: datetime) -> str:
    return f"day:{utc(now):%Y-%m-%d}"


def month_period(now: datetime) -> str:
    return f"month:{utc(now):%Y-%m}"


def day_start(now: datetime) -> datetime:
    return utc(now).replace(hour=0, minute=0, second=0, microsecond=0)


def month_start(now: datetime) -> datetime:
    return day_start(now).replace(day=1)


def next_day(now: datetime) -> datetime:
    return day_start(now) + timedelta(days=1)


def next_month(now: datetime) -> datetime:
    start = month_start(now)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return start.replace(year=year, month=month)


def period_key(period: str, now: datetime) -> str:
    """``"day"`` / ``"month"`` / ``"live"`` (or an explicit key) -> the bucket's period key."""
    if period == "day":
        return day_period(now)
    if period == "month":
        return month_period(now)
    return period
