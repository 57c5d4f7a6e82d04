"""What the admin CLI's commands share (``pixelsmith quota``, ``usage``, ``audit``, ``history``,
``keys``): reading what the admin typed (:func:`parse_user`, :func:`community_scope`,
:func:`parse_date`, :func:`positive_int`), writing the answer (:func:`say` in the admin's
``LANG``, :func:`table`, :func:`usd`, :func:`when`, :func:`amount`) and :func:`guarded`, which
turns :class:`InputError` into one friendly line on ``err`` and exit code 2 (a
:class:`~core.errors.PixelsmithError` into its sentence and exit code).
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, TextIO

from bots.terminal import safe
from core import messages
from core.errors import PixelsmithError
from core.service import ImageService
from core.types import Identity

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


HISTORY_MAX = 1000


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{safe(value)}' is not a whole number") from None
    if not 1 <= number <= HISTORY_MAX:
        raise argparse.ArgumentTypeError(f"must be from 1 to {HISTORY_MAX}")
    return number


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
# running a handler


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
