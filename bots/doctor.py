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
from typing import Any, TextIO

import aiohttp

from bots.doctor_checks import RETIRING_WARN_DAYS, SYMBOLS, TIMEOUT_S, Check, DoctorBase, Status
from bots.doctor_slack import SlackChecks
from core import messages
from core.catalog import Catalog, ModelSpec
from core.config import Settings
from core.diagnostics import ProbeError, probe_database, probe_gateway
from core.diagnostics import public_url as _public_url


class _Doctor(SlackChecks, DoctorBase):
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

    # -- gateway and models --------------------------------------------------------------------

    async def gateway(self) -> list[Check]:
        """The key check, then one line per configured model (and its price warning)."""
        p = self.settings.provider
        what = self.t("doctor.what_gateway")
        base_url = _public_url(p.base_url)
        served: set[str] | None = None
        model_note: tuple[Status, str] | None = None
        checks: list[Check] = []
        if p.kind == "demo":
            checks.append(Check("skip", what, self.t("doctor.gateway_demo")))
            model_note = ("skip", self.t("doctor.model_demo"))
        elif not p.key:
            checks.append(
                Check(
                    "fail",
                    what,
                    self.t("doctor.gateway_no_key"),
                    self.t("doctor.gateway_no_key_fix", base_url=base_url),
                )
            )
            model_note = ("skip", self.t("doctor.model_skipped"))
        else:
            key_check, served = await self._list_models(what, p.key, base_url)
            checks.append(key_check)
            if served is None:
                unlisted = key_check.status == "warn"
                model_note = (
                    ("warn", self.t("doctor.model_unlisted"))
                    if unlisted
                    else ("skip", self.t("doctor.model_skipped"))
                )
        catalog = Catalog.from_settings(self.settings.models)
        for name in self._configured_models(catalog):
            spec = catalog.get(name)
            if spec is None:  # load_settings rejects an unknown default model already
                continue
            checks.extend(self._model(spec, served, model_note, catalog))
        return checks

    async def _list_models(
        self, what: str, key: str, base_url: str
    ) -> tuple[Check, set[str] | None]:
        probe = await probe_gateway(self.settings.provider.base_url, key, timeout_s=TIMEOUT_S)
        status = probe.status or 200
        if probe.outcome == "ok" and probe.models is not None:
            return Check(
                "ok", what, self.t("doctor.gateway_ok", base_url=base_url, count=len(probe.models))
            ), set(probe.models)
        if probe.outcome == "rejected":
            return Check(
                "fail",
                what,
                self.t("doctor.gateway_rejected", status=status),
                self.t("admin.upstream.bad_key", status=status, base_url=base_url),
            ), None
        if probe.outcome == "forbidden":
            return Check(
                "fail",
                what,
                self.t("doctor.gateway_forbidden", status=status),
                self.t("doctor.gateway_forbidden_fix", base_url=base_url),
            ), None
        if probe.outcome == "http_error":
            return Check(
                "fail",
                what,
                self.t("doctor.gateway_http_error", status=status),
                self.t("doctor.gateway_http_error_fix"),
            ), None
        if probe.outcome == "unreachable":
            error = probe.error or ProbeError("connect", "")
            return Check(
                "fail",
                what,
                self.t("doctor.gateway_unreachable", base_url=base_url, error=self.words(error)),
                self.t("doctor.gateway_unreachable_fix"),
            ), None
        return Check(
            "warn",
            what,  # unlisted: the key is neither accepted nor rejected
            self.t("doctor.gateway_no_list", base_url=base_url, status=status),
            self.t("doctor.gateway_no_list_hint"),
        ), None

    def _configured_models(self, catalog: Catalog) -> list[str]:
        names = [self.settings.provider.default_model]
        for name in self.settings.models:
            spec = catalog.get(name)
            if spec is not None and spec.enabled:
                names.append(name)
        return list(dict.fromkeys(names))

    def _model(
        self,
        spec: ModelSpec,
        served: set[str] | None,
        note: tuple[Status, str] | None,
        catalog: Catalog,
    ) -> list[Check]:
        name = spec.name
        what = self.t("doctor.what_model", model=name)
        is_default = name == self.settings.provider.default_model
        fix = (
            self.t("doctor.model_fix_default")
            if is_default
            else self.t("doctor.model_fix_table", model=name)
        )
        checks: list[Check] = []
        if is_default and not spec.enabled:
            checks.append(
                Check(
                    "fail",
                    what,
                    self.t("doctor.model_disabled", model=name),
                    self.t("doctor.model_fix_default"),
                )
            )
        elif served is not None and name not in served:
            # The gateway is the authority on what it serves: not listed fails, whatever dates
            # the catalog has.
            known = [
                n
                for n in catalog.names(enabled_only=True)
                if n in served and not _retired(catalog, n, self.today)
            ]
            key = (
                "doctor.model_not_served_retired"
                if spec.retired(self.today)
                else "doctor.model_not_served"
            )
            detail = self.t(key, served=", ".join(known) or "-", date=spec.retired_on)
            checks.append(Check("fail", what, detail, fix))
        elif spec.retired(self.today):
            # Past the catalog's shutdown date: still listed -> it works today (a warning);
            # the gateway could not be asked -> a warning too, it cannot be confirmed either way.
            key = "doctor.model_retired_served" if served is not None else "doctor.model_retired"
            checks.append(Check("warn", what, self.t(key, date=spec.retired_on), fix))
        elif served is None:
            status, detail = note or ("skip", self.t("doctor.model_skipped"))
            checks.append(Check(status, what, detail))
        elif (
            spec.retired_on is not None
            and (spec.retired_on - self.today).days <= RETIRING_WARN_DAYS
        ):
            days = (spec.retired_on - self.today).days
            checks.append(
                Check(
                    "warn",
                    what,
                    self.t("doctor.model_retiring", date=spec.retired_on, days=days),
                    fix,
                )
            )
        else:
            checks.append(Check("ok", what, self.t("doctor.model_ok")))
        if not spec.prices_verified and self.settings.provider.kind != "demo":
            checks.append(
                Check(
                    "warn",
                    self.t("doctor.what_prices", model=name),
                    self.t("doctor.prices_unverified"),
                    self.t("doctor.prices_fix", model=name),
                )
            )
        return checks

    # -- Discord -------------------------------------------------------------------------------

    async def discord(self) -> Check:
        what = self.t("doctor.what_discord")
        token = self.settings.discord.token_value
        if not token:
            return Check("skip", what, self.t("doctor.discord_none"))
        base = self.settings.discord.api_base_url.rstrip("/")
        url = f"{base}/users/@me"
        headers = {
            "Authorization": f"Bot {token}",
            "User-Agent": "DiscordBot (https://github.com/pixelsmith, 0.1) pixelsmith-doctor",
        }
        shown = _public_url(base)
        fix = self.t("doctor.discord_fix")
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as http,
                http.get(url, headers=headers, allow_redirects=False) as resp,
            ):
                status = resp.status
                body: Any = await resp.json(content_type=None) if status == 200 else None
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            return Check(
                "fail",
                what,
                self.t("doctor.unreachable", url=shown, error=self.error(exc)),
                self.t("doctor.unreachable_fix", url=shown),
            )
        if status in (401, 403):
            return Check("fail", what, self.t("doctor.discord_rejected", status=status), fix)
        if status != 200 or not isinstance(body, dict):
            return Check(
                "fail",
                what,
                self.t("doctor.discord_http_error", status=status),
                self.t("doctor.unreachable_fix", url=shown),
            )
        name = str(body.get("username") or "?")
        if body.get("discriminator") not in (None, "0", "0000"):
            name = f"{name}#{body['discriminator']}"
        return Check("ok", what, self.t("doctor.discord_ok", name=name, id=body.get("id", "?")))

    async def discord_checks(self) -> list[Check]:
        """The token, then (once it is accepted) the shard setup against Discord's advice."""
        token = await self.discord()
        if token.status != "ok":
            return [token]
        return [token, await self.discord_shards()]

    async def discord_shards(self) -> Check:
        what = self.t("doctor.what_discord_shards")
        cfg = self.settings.discord
        base = cfg.api_base_url.rstrip("/")
        headers = {"Authorization": f"Bot {cfg.token_value}"}
        recommended: int | None = None
        concurrency: int | None = None
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as http,
                http.get(f"{base}/gateway/bot", headers=headers, allow_redirects=False) as resp,
            ):
                body: Any = await resp.json(content_type=None) if resp.status == 200 else None
            if isinstance(body, dict):
                recommended = int(body["shards"])
                concurrency = int(body["session_start_limit"]["max_concurrency"])
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError, KeyError, TypeError):
            pass  # the setup line is still printed, without Discord's advice
        auto = cfg.shard_count == "auto"
        count = recommended if auto else cfg.shard_count
        if count is None:
            runs = self.t("doctor.discord_shards_all")
        elif cfg.shard_ids is None:
            runs = f"0..{int(count) - 1}"
        else:
            runs = ", ".join(str(i) for i in cfg.shard_ids)
        detail = self.t(
            "doctor.discord_shards",
            count="?" if count is None else str(count),
            auto="yes" if auto else "no",
            runs=runs,
            recommended=str(recommended) if recommended is not None else "?",
            concurrency=str(concurrency) if concurrency is not None else "?",
        )
        few = isinstance(cfg.shard_count, int) and cfg.shard_count < (recommended or 0)
        if few:
            fix = self.t("doctor.discord_shards_few_fix", recommended=recommended)
            return Check("warn", what, detail, fix)
        return Check("ok", what, detail)

    # -- Slack ---------------------------------------------------------------------------------


def _retired(catalog: Catalog, name: str, today: date) -> bool:
    spec = catalog.get(name)
    return spec is not None and spec.retired(today)


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
