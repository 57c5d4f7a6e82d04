"""Typed failures raised by core.

Contract: core never puts user-facing words in an exception. Each failure carries a
``key`` (looked up in :mod:`core.messages`) and the parameters the sentence needs.
Adapters call ``messages.render(failure, locale)``; nobody ever sends ``str(exc)`` to a chat.
``exit_code`` is the CLI's exit code for that failure (the table in :mod:`bots.cli`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Charge(enum.StrEnum):
    """What a failure cost: nothing, the upstream bill, or possibly the bill (unknown)."""

    NONE = "none"
    CHARGED = "charged"
    UNKNOWN = "unknown"


class PixelsmithError(Exception):
    """Base of every typed failure; ``key`` names the sentence in core.messages."""

    key: str = "error.internal"
    exit_code: int = 5
    charge: Charge = Charge.NONE

    def __init__(self, key: str | None = None, /, **params: Any) -> None:
        if key is not None:
            self.key = key
        self.params: dict[str, Any] = params
        super().__init__(self.key)

    def __repr__(self) -> str:  # never includes secrets: params are chosen by core
        return f"{type(self).__name__}({self.key!r}, {self.params!r})"


class InvalidRequest(PixelsmithError):
    """The request is not valid for the chosen model; nothing was sent or charged."""

    key = "invalid.generic"
    exit_code = 2


class ConfigError(PixelsmithError):
    """The configuration is wrong; ``params['key']`` names the setting, ``params['fix']`` how."""

    key = "config.invalid"
    exit_code = 2


class Forbidden(PixelsmithError):
    """An admin action outside the caller's power (not an admin, or another community's
    scope); nothing was changed."""

    key = "admin.forbidden"
    exit_code = 2


class InvalidImage(PixelsmithError):
    """An attached image (or mask) cannot be used; nothing was sent or charged.

    ``params`` carry at least ``name`` (which attachment) where known.
    """

    key = "image.invalid"
    exit_code = 2


@dataclass(frozen=True)
class PreflightMatch:
    """One risky term found in a prompt before sending it."""

    term: str
    category: str  # living_artist | public_figure | character | other
    replacement: str


class PreflightRefused(PixelsmithError):
    """The prompt is likely to be refused upstream; nothing was sent.

    ``params``: ``matches`` (list[PreflightMatch]) and ``suggestion`` (the rewritten prompt).
    """

    key = "refused.preflight"
    exit_code = 3


class Refused(PixelsmithError):
    """The upstream safety system refused the request (billed by the gateway).

    ``params``: ``stage`` (input|output|None), ``categories`` (list[str]),
    ``suggestion`` (a rewritten prompt or None).
    """

    key = "refused.upstream"
    exit_code = 3
    charge = Charge.CHARGED


class QuotaExceeded(PixelsmithError):
    """A quota or budget would be exceeded; nothing was sent.

    ``params``: ``limit`` (the policy name, e.g. ``user_daily_images``), ``remaining``
    (float or int in the limit's unit), ``unit`` (images|usd|jobs), ``resets_at`` (datetime|None).
    """

    key = "quota.exceeded"
    exit_code = 4

    @property
    def resets_at(self) -> datetime | None:
        value = self.params.get("resets_at")
        return value if isinstance(value, datetime) else None


class UpstreamError(PixelsmithError):
    """The gateway, the account or the network failed.

    ``key`` is one of the ``upstream.*`` sentences; ``charge`` says whether it was billed.
    ``params`` may hold ``model``, ``status``, ``code``, ``request_id``; ``admin`` is True when
    only an admin can fix it (bad key, empty balance, retired model).
    """

    key = "upstream.server"
    exit_code = 5

    def __init__(
        self, key: str | None = None, /, *, charge: Charge = Charge.CHARGED, **params: Any
    ) -> None:
        super().__init__(key, **params)
        self.charge = charge


@dataclass
class Note:
    """A non-fatal remark attached to a result (e.g. images filtered, re-encoded)."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


class DuplicateJob(PixelsmithError):
    """The idempotency key was already claimed: another delivery of the same event owns the job.

    Adapters stay silent (the first claimant replies). ``params``: ``job_id``, ``state``.
    """

    key = "note.duplicate"
    exit_code = 0
