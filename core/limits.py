"""The one language for the limits, grants and prices an operator or admin can type.

Every adapter (CLI, Discord, Slack) and the config read a limit through :func:`parse_limit` and a
grant through :func:`parse_grant`, so "unlimited" means the same everywhere and no value can reach
the store that the store cannot hold:

- a limit is a finite number from 0 to the key's maximum (whole for images and jobs), or one of
  :data:`UNLIMITED_WORDS` (``None``: no limit);
- a grant is a finite, non-zero number whose size is at most that maximum; negative takes back;
- a price (catalog and ``[models.*]``) is a finite number from 0 to :data:`MAX_PRICE_USD`.

Why these maxima: money is stored as integer micro-dollars in 64-bit columns and the store adds a
limit, its grants, what is reserved and what is spent in one expression. A billion dollars
(10**15 micro-dollars) or a billion images leaves that sum three orders of magnitude inside the
column's range, and is far above any real quota. Infinity is not a number here (``inf``, ``1e309``
in TOML or typed): "no limit" is said with a word, so a typo can never lock a user out.

Anything else raises :class:`LimitError` (an :class:`core.errors.InvalidRequest`, exit code 2)
naming the value and the range; nothing is stored.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field

from core.errors import InvalidRequest

UNLIMITED_WORDS: tuple[str, ...] = ("unlimited", "none", "off", "no limit")
MAX_COUNT = 1_000_000_000
MAX_USD = 1_000_000_000
MAX_SECONDS = 366 * 24 * 3600
MAX_PRICE_USD = 10_000

Unit = Literal["images", "usd", "jobs", "seconds"]
Limit = int | float | None

# A price as the catalog and ``[models.*]`` take it: finite, >= 0, bounded.
Price = Annotated[float, Field(ge=0, le=MAX_PRICE_USD, allow_inf_nan=False)]

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_SHOWN_MAX = 40


@dataclass(frozen=True)
class _Kind:
    unit: Unit
    whole: bool
    maximum: int


_KINDS: dict[Unit, _Kind] = {
    "images": _Kind("images", True, MAX_COUNT),
    "jobs": _Kind("jobs", True, MAX_COUNT),
    "usd": _Kind("usd", False, MAX_USD),
    "seconds": _Kind("seconds", False, MAX_SECONDS),
}

LIMIT_UNITS: dict[str, Unit] = {
    "user_daily_images": "images",
    "user_monthly_images": "images",
    "user_daily_usd": "usd",
    "user_monthly_usd": "usd",
    "community_monthly_usd": "usd",
    "user_concurrent_jobs": "jobs",
    "cooldown_s": "seconds",
}


class LimitError(InvalidRequest):
    """A limit, grant or price that is not in the language. ``params``: ``key`` (what was
    being set), ``value`` (as typed, shortened and escaped), ``unit``, ``maximum``, ``words``."""

    key = "invalid.generic"  # always raised with one of the limit.* keys


def unit_of(key: str) -> Unit:
    """The unit of a limit key (``user_daily_usd`` -> ``usd``); KeyError for unknown keys."""
    return LIMIT_UNITS[key]


def shown(raw: object) -> str:
    """``raw`` as an error may repeat it: at most 40 characters, control characters escaped."""
    text = raw if isinstance(raw, str) else repr(raw)
    if len(text) > _SHOWN_MAX:
        text = text[: _SHOWN_MAX - 1] + "…"
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def _error(key: str, raw: object, kind: _Kind, what: str) -> LimitError:
    return LimitError(
        f"limit.{what}_{kind.unit}",
        key=key,
        value=shown(raw),
        maximum=f"{kind.maximum:,}",
        words=" / ".join(UNLIMITED_WORDS),
    )


def _number(raw: object) -> float | int | None:
    """A real number from an int, a float or a plain decimal string; None if it is not one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return raw if math.isfinite(raw) else None
    if isinstance(raw, str):
        text = raw.strip().replace(",", "").lstrip("$")
        if not _NUMBER.match(text):
            return None
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        value = float(text)
        return value if math.isfinite(value) else None
    return None


def _checked(key: str, raw: object, kind: _Kind, value: float | int, what: str) -> int | float:
    if kind.whole:
        if isinstance(value, float):
            if not value.is_integer():
                raise _error(key, raw, kind, what)
            value = int(value)
        return value
    return float(value)


def parse_limit(key: str, raw: object) -> Limit:
    """The limit ``raw`` sets for ``key``: an int (images, jobs), a float (USD, seconds), or None
    for unlimited. Raises :class:`LimitError` for anything else (see the module docstring)."""
    kind = _KINDS[LIMIT_UNITS[key]] if key in LIMIT_UNITS else None
    if kind is None:
        raise LimitError("limit.unknown_key", key=shown(key), known=", ".join(LIMIT_UNITS))
    if raw is None:
        return None
    if isinstance(raw, str) and " ".join(raw.lower().split()) in UNLIMITED_WORDS:
        return None
    value = _number(raw)
    if value is None or not 0 <= value <= kind.maximum:
        raise _error(key, raw, kind, "bad")
    return _checked(key, raw, kind, value, "bad")


def parse_grant(unit: str, raw: object) -> int | float:
    """A grant of ``unit`` (``images`` or ``usd``): non-zero, at most the limit maximum in size;
    negative takes back. Raises :class:`LimitError` otherwise."""
    if unit not in ("images", "usd"):
        raise LimitError("limit.unknown_unit", value=shown(unit))
    kind = _KINDS["images" if unit == "images" else "usd"]
    value = _number(raw)
    if value is None or value == 0 or abs(value) > kind.maximum:
        raise _error(f"grant_{unit}", raw, kind, "bad_grant")
    return _checked(f"grant_{unit}", raw, kind, value, "bad_grant")


def parse_limits(values: dict[str, Any]) -> dict[str, Limit]:
    """Every ``key = value`` of a mapping through :func:`parse_limit` (keys not limits kept)."""
    return {k: parse_limit(k, v) if k in LIMIT_UNITS else v for k, v in values.items()}
