"""``pixelsmith doctor``: check what ``pixelsmith run`` needs, and say how to fix what is wrong.

One line per check: ``✓`` passed, ``✗`` failed (with the exact fix), ``!`` a warning, ``-``
skipped. Exit code 0 when nothing failed, 1 otherwise. Nothing here generates an image or costs
money: the gateway is asked only ``GET /models``. Secrets are never printed, not even in part, and
no exception text is printed either (gateways echo parts of keys in their error messages).
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, date, datetime
from typing import TextIO

from bots.doctor_checks import SYMBOLS, TIMEOUT_S, Check, DoctorBase, Status
from bots.doctor_discord import DiscordChecks
from bots.doctor_gateway import GatewayChecks
from bots.doctor_slack import SlackChecks
from core import messages
from core.config import Settings
from core.diagnostics import probe_database


class _Doctor(GatewayChecks, DiscordChecks, SlackChecks, DoctorBase):
    """Every check: config, database and jobs here; the rest from the mixins."""

    # -- config --------------------------------------------------------------------------------

    def config(self) -> Check:
        what = self.t("doctor.what_config")
        if self.settings.source:
            return Check("ok", what, self.t("doctor.config_file", path=self.settings.source))
        return Check("ok", what, self.t("doctor.config_defaults"))

    # -- database ------------------------------------------------------------------------------

    async def database(self) -> Check:
        what = self.t("doctor.what_database")
        probe = await probe_database(self.settings.database.url, timeout_s=TIMEOUT_S)
        if probe.dialect is None:
            return Check("fail", what, self.t("doctor.db_bad_url"), self.t("doctor.db_bad_url_fix"))
        postgres = probe.dialect == "postgresql"
        backend = "PostgreSQL" if postgres else "SQLite"
        where = probe.where
        fix = self.t("doctor.db_fix_postgres" if postgres else "doctor.db_fix_sqlite")
        if probe.error is not None:
            return Check(
                "fail",
                what,
                self.t(
                    "doctor.db_failed", backend=backend, where=where, error=self.words(probe.error)
                ),
                fix,
            )
        revision, head = probe.revision, probe.head
        if revision != head:
            return Check(
                "fail",
                what,
                self.t(
                    "doctor.db_not_head",
                    backend=backend,
                    where=where,
                    revision=revision or "-",
                    head=head,
                ),
                self.t("doctor.db_not_head_fix"),
            )
        if postgres:
            return Check(
                "ok", what, self.t("doctor.db_ok_postgres", where=where, revision=revision)
            )
        return Check(
            "ok", what, self.t("doctor.db_ok", backend=backend, where=where, revision=revision)
        )

    async def jobs(self) -> Check:
        """Jobs an admin should look at (past their lease, capped costs, unknown outcomes),
        read without migrating; run only once the database check passed."""
        from core.store import Store  # the engine side loads for a database that answers

        what = self.t("doctor.what_jobs")
        store = await Store.open(self.settings.database.url, migrate=False)
        try:
            look = await store.attention()
        finally:
            await store.close()
        if not look:
            return Check("ok", what, self.t("doctor.jobs_ok"))
        detail = self.t("doctor.jobs_some", count=len(look))
        return Check("warn", what, detail, self.t("doctor.jobs_fix"), tuple(look))


def _symbol(status: Status, out: TextIO) -> str:
    fancy, plain = SYMBOLS[status]
    encoding = getattr(out, "encoding", None) or "utf-8"
    try:
        fancy.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return plain
    return fancy


def format_check(check: Check, locale: str, out: TextIO) -> str:
    line = f"{_symbol(check.status, out)} {check.what}: {check.detail}"
    if check.fix:
        key = "doctor.fix" if check.status == "fail" else "doctor.hint"
        line += f" — {messages.text(key, locale, fix=check.fix)}"
    return "\n".join([line, *(f"    {more}" for more in check.lines)])


def _scrub(text: str, secrets: list[str]) -> str:
    # Belt and braces: no sentence above contains a secret, but a config value might.
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


async def collect(
    settings: Settings, *, locale: str = "en", today: date | None = None
) -> list[Check]:
    """Every check, in checklist order; the network checks run concurrently."""
    doctor = _Doctor(settings, locale, today or datetime.now(UTC).date())
    database, gateway, discord, slack = await asyncio.gather(
        doctor.database(), doctor.gateway(), doctor.discord_checks(), doctor.slack()
    )
    jobs = [await doctor.jobs()] if database.status == "ok" else []
    if database.status == "ok" and settings.slack.distribution == "oauth":
        slack = [*slack, await doctor.slack_installs()]
    own_keys: list[Check] = []
    if database.status == "ok":
        from bots.doctor_keys import community_key_checks

        own_keys = await community_key_checks(settings, locale, TIMEOUT_S)
    return [doctor.config(), database, *jobs, *gateway, *own_keys, *discord, *slack]


async def run_doctor(
    settings: Settings,
    out: TextIO,
    err: TextIO,
    *,
    locale: str | None = None,
    today: date | None = None,
) -> int:
    """Print the checklist on ``out``; 0 when every configured check passed, else 1."""
    loc = messages.lang(locale if locale is not None else os.environ.get("LANG"))
    checks = await collect(settings, locale=loc, today=today)
    secrets = settings.secrets()
    for check in checks:
        out.write(_scrub(format_check(check, loc, out), secrets) + "\n")
    failed = sum(1 for c in checks if c.status == "fail")
    if failed:
        out.write(messages.text("doctor.some_failed", loc, count=failed) + "\n")
        return 1
    out.write(messages.text("doctor.all_ok", loc) + "\n")
    return 0
