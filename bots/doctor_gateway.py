"""The doctor's gateway and model checks (a mixin of :class:`bots.doctor._Doctor`): the key,
asked ``GET /models`` only (free), then one line per configured model against what the gateway
serves and the catalog's dates (retired, retiring within ``RETIRING_WARN_DAYS``), and a warning
for prices nobody has verified."""

from __future__ import annotations

from datetime import date

from bots.doctor_checks import RETIRING_WARN_DAYS, TIMEOUT_S, Check, DoctorBase, Status
from core.catalog import Catalog, ModelSpec
from core.diagnostics import ProbeError, probe_gateway
from core.diagnostics import public_url as _public_url


class GatewayChecks(DoctorBase):
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


def _retired(catalog: Catalog, name: str, today: date) -> bool:
    spec = catalog.get(name)
    return spec is not None and spec.retired(today)
