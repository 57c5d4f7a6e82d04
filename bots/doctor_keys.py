"""The doctor's check of communities' own gateway keys: one line per stored key (by its
fingerprint, never the key), from a free ``GET /models`` with that key at its gateway, without
recording anything."""

from __future__ import annotations

import asyncio
from typing import Any

from bots.doctor_checks import Check, Status
from core import messages
from core.config import Settings
from core.diagnostics import probe_gateway
from core.diagnostics import public_url as _public_url
from core.errors import PixelsmithError
from core.keys import CommunityKeys, KeyChoice, KeyInfo

PROBES_AT_ONCE = 8


async def community_key_checks(settings: Settings, locale: str, timeout_s: float) -> list[Check]:
    from core.store import Store

    def t(key: str, **params: Any) -> str:
        return messages.text(key, locale, **params)

    store = await Store.open(settings.database.url, migrate=False)
    try:
        keys = CommunityKeys(settings, store)
        listed = await keys.listing()
        choices: list[KeyChoice | None] = []
        for info in listed:
            try:
                choices.append(await keys.choose(info.community_scope, stored=True))
            except PixelsmithError:  # removed, or PIXELSMITH_SECRET_KEY cannot open it
                choices.append(None)
    finally:
        await store.close()
    if not listed:
        if settings.byok.enabled:
            return [Check("ok", t("doctor.what_byok"), t("doctor.byok_none"))]
        return []
    gate = asyncio.Semaphore(PROBES_AT_ONCE)

    async def check(info: KeyInfo, choice: KeyChoice | None) -> Check:
        what = t("doctor.what_byok_key", community=info.community_scope)
        if info.fingerprint is None:
            return Check("warn", what, t("doctor.byok_removed"), t("doctor.byok_removed_fix"))
        if choice is None or choice.api_key is None:
            fix = messages.text("sealed.unsealable", locale, what="gateway_key")
            return Check(
                "fail", what, t("doctor.byok_unsealable", fingerprint=info.fingerprint), fix
            )
        base_url = choice.base_url or settings.provider.base_url
        async with gate:
            probe = await probe_gateway(base_url, choice.api_key, timeout_s=timeout_s)
        shown = {"fingerprint": info.fingerprint, "base_url": _public_url(base_url)}
        if probe.outcome == "ok":
            return Check("ok", what, t("doctor.byok_ok", **shown), None)
        status: Status = "warn" if probe.outcome == "unlisted" else "fail"
        fix = t("doctor.byok_fix", community=info.community_scope.removeprefix("community:"))
        return Check(status, what, t("doctor.byok_bad", outcome=probe.outcome, **shown), fix)

    checks = await asyncio.gather(*(check(i, c) for i, c in zip(listed, choices, strict=True)))
    if not settings.byok.enabled:
        off = Check("warn", t("doctor.what_byok"), t("doctor.byok_off", count=len(listed)))
        return [off, *checks]
    return list(checks)
