"""What every ``pixelsmith doctor`` check is made of: a :class:`Check` (one line of the
checklist) and :class:`DoctorBase`, the settings, language and wording the check mixins share
(:mod:`bots.doctor` puts them together; :mod:`bots.doctor_gateway`, :mod:`bots.doctor_discord`,
:mod:`bots.doctor_slack`, :mod:`bots.doctor_keys`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import aiohttp

from core import messages
from core.config import Settings
from core.diagnostics import ProbeError, probe_error

TIMEOUT_S = 10.0
RETIRING_WARN_DAYS = 30
Status = Literal["ok", "fail", "warn", "skip"]
SYMBOLS: dict[Status, tuple[str, str]] = {
    "ok": ("✓", "OK"),
    "fail": ("✗", "FAIL"),
    "warn": ("!", "WARN"),
    "skip": ("-", "SKIP"),
}


@dataclass(frozen=True)
class Check:
    status: Status
    what: str
    detail: str
    fix: str | None = None
    lines: tuple[str, ...] = ()  # printed under the check, indented (jobs to look at)


class DoctorBase:
    def __init__(self, settings: Settings, locale: str, today: date) -> None:
        self.settings = settings
        self.locale = locale
        self.today = today

    def t(self, key: str, **params: Any) -> str:
        return messages.text(key, self.locale, **params)

    def error(self, exc: BaseException) -> str:
        if isinstance(exc, aiohttp.ClientConnectionError) and not isinstance(exc, TimeoutError):
            return self.words(ProbeError("connect", type(exc).__name__))
        return self.words(probe_error(exc))

    def words(self, error: ProbeError) -> str:
        if error.key == "timeout":
            return self.t("doctor.err_timeout", seconds=int(TIMEOUT_S))
        if error.key == "connect":
            return self.t("doctor.err_connect")
        return self.t("doctor.err_other", kind=error.exception)
