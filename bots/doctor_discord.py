"""The doctor's Discord checks (a mixin of :class:`bots.doctor._Doctor`): the bot token
(``GET /users/@me``) and, once it is accepted, the shard setup beside Discord's advice
(``GET /gateway/bot``). Both calls only read."""

from __future__ import annotations

from typing import Any

import aiohttp

from bots.doctor_checks import TIMEOUT_S, Check, DoctorBase
from core.diagnostics import public_url as _public_url


class DiscordChecks(DoctorBase):
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
