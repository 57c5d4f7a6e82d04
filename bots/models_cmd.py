"""``pixelsmith models``: the gateway's image models beside the catalog, so an admin can pick a
default that works.

The gateway is asked only ``GET /models`` (nothing is generated or billed). A model is listed
when the catalog has it or the gateway's entry looks image-capable (its id names an image model,
or the entry says it serves images). For each: whether the gateway serves it, whether the catalog
knows it, its sizes, qualities and prices (verified or not) and whether it is past its shutdown
date. Exit code 0, or 5 when the gateway's list could not be read (the catalog is still shown).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import TextIO

from core import messages
from core.catalog import Catalog, ModelSpec
from core.config import Settings
from core.diagnostics import GatewayProbe, ServedModel, probe_gateway, public_url

EXIT_UPSTREAM = 5
_IMAGE_ID = re.compile(r"image|dall-e", re.IGNORECASE)


def image_capable(entry: ServedModel, catalog: Catalog) -> bool:
    return entry.id in catalog or entry.says_image or _IMAGE_ID.search(entry.id) is not None


def _usd(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


class _Report:
    def __init__(self, settings: Settings, locale: str, today: date) -> None:
        self.settings, self.locale, self.today = settings, locale, today

    def t(self, key: str, **params: object) -> str:
        return messages.text(key, self.locale, **params)

    def flags(self, name: str, served: bool | None, in_catalog: bool) -> str:
        parts = [self.t("models.default")] if name == self.settings.provider.default_model else []
        if served is None:
            parts.append(self.t("models.served_unknown"))
        else:
            parts.append(self.t("models.served" if served else "models.not_served"))
        if in_catalog:
            parts.append(self.t("models.in_catalog"))
        return " · ".join(parts)

    def spec_lines(self, spec: ModelSpec, served: bool | None) -> list[str]:
        sizes = ", ".join(spec.sizes)
        if spec.flexible_sizes:
            flex = self.t(
                "models.flexible",
                min_pixels=f"{spec.min_pixels:,}",
                max_pixels=f"{spec.max_pixels:,}",
                max_edge=spec.max_edge,
            )
            if spec.experimental_pixels is not None:
                pixels = f"{spec.experimental_pixels:,}"
                flex += f" ({self.t('models.experimental', pixels=pixels)})"
            sizes = f"{sizes}; {flex}"
        lines = [self.t("models.sizes", sizes=sizes)]
        if spec.qualities:
            lines.append(self.t("models.qualities", qualities=", ".join(spec.qualities)))
        else:
            lines.append(self.t("models.no_quality"))
        if spec.backgrounds:
            preview = f" ({self.t('models.preview')})" if spec.transparent_preview else ""
            shown = [b + (preview if b == "transparent" else "") for b in spec.backgrounds]
            lines.append(self.t("models.backgrounds", backgrounds=", ".join(shown)))
        if spec.markup:
            lines.append(self.t("models.markup"))
        lines.append(self.prices(spec))
        lines.append(self.status(spec, served))
        if spec.source:
            lines.append(self.t("models.source", source=spec.source))
        return lines

    def prices(self, spec: ModelSpec) -> str:
        p = spec.prices
        if p.flat_per_image is not None:
            text = self.t("models.prices_flat", price=_usd(p.flat_per_image))
        else:
            text = self.t(
                "models.prices_tokens",
                text_in=_usd(p.text_in_per_m),
                image_in=_usd(p.image_in_per_m),
                image_out=_usd(p.image_out_per_m),
            )
            if p.text_out_per_m is not None:
                text += ", " + self.t("models.prices_text_out", text_out=_usd(p.text_out_per_m))
            square = [
                f"{q} ${_usd(table['1024x1024'])}"
                for q, table in p.per_image.items()
                if "1024x1024" in table
            ]
            if square:
                text += "; " + self.t("models.prices_square", prices=", ".join(square))
        verified = self.t("models.verified" if spec.prices_verified else "models.unverified")
        return f"{text} — {verified}"

    def status(self, spec: ModelSpec, served: bool | None) -> str:
        when = spec.retired_on
        if when is None:
            return self.t("models.active")
        if not spec.retired(self.today):
            return self.t("models.retiring", date=when)
        if served:
            return self.t("models.retired_served", date=when)
        return self.t("models.retired", date=when)


def render(
    settings: Settings, probe: GatewayProbe, *, locale: str, today: date | None = None
) -> list[str]:
    """The report's lines (pure: no I/O)."""
    catalog = Catalog.from_settings(settings.models)
    report = _Report(settings, locale, today or datetime.now(UTC).date())
    base_url = public_url(settings.provider.base_url)
    lines = [report.t("models.header", base_url=base_url)]
    served_ids: set[str] | None = None
    entries: dict[str, ServedModel] = {}
    if probe.ok:
        served_ids = set(probe.models or ())
        entries = {e.id: e for e in probe.served if image_capable(e, catalog)}
    else:
        reason = probe.outcome if probe.status is None else f"{probe.outcome}, HTTP {probe.status}"
        lines.append(report.t("models.gateway_failed", reason=reason))
    names = [n for n in catalog.names() if catalog.get(n) is not None]
    names += [n for n in entries if n not in catalog]
    for name in names:
        spec = catalog.get(name)
        served = None if served_ids is None else name in served_ids
        lines.append("")
        lines.append(f"{name} — {report.flags(name, served, spec is not None)}")
        if spec is None:
            base = settings.provider.default_model
            lines.append("  " + report.t("models.not_in_catalog", model=name, base=base))
        else:
            lines.extend("  " + line for line in report.spec_lines(spec, served))
        entry = entries.get(name)
        if entry is not None and entry.shutdown_date:
            lines.append("  " + report.t("models.gateway_shutdown", date=entry.shutdown_date))
    return lines


async def run_models(
    settings: Settings,
    out: TextIO,
    err: TextIO,
    *,
    locale: str | None = None,
    today: date | None = None,
) -> int:
    loc = messages.lang(locale)
    probe = GatewayProbe("unlisted")
    key = settings.provider.key
    if settings.provider.kind != "demo" and key:
        probe = await probe_gateway(settings.provider.base_url, key)
    for line in render(settings, probe, locale=loc, today=today):
        out.write(line + "\n")
    return 0 if probe.ok else EXIT_UPSTREAM
