"""The doctor's Slack checks (a mixin of :class:`bots.doctor._Doctor`): the bot token or, with
the OAuth distribution, the client and every install's sealed token; the app token (Socket
Mode) or the signing secret (HTTP mode). Each Slack call is one read-only method
(``auth.test``, ``apps.connections.open`` never opens a connection here)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.doctor_checks import TIMEOUT_S, Check, DoctorBase
from core import messages
from core.diagnostics import public_url as _public_url


class SlackChecks(DoctorBase):
    async def slack(self) -> list[Check]:
        s = self.settings.slack
        bot, app, secret = s.bot_token_value, s.app_token_value, s.signing_secret_value
        if not (bot or app or secret) and s.distribution != "oauth":
            return [Check("skip", self.t("doctor.what_slack"), self.t("doctor.slack_none"))]
        if s.distribution == "oauth":  # each workspace's token is in the database
            checks = [await self._slack_client()]
        else:
            checks = [await self._slack_bot(bot)]
        if s.mode == "socket":
            what = self.t("doctor.what_slack_app")
            if not app:
                checks.append(
                    Check(
                        "fail",
                        what,
                        self.t("doctor.slack_app_missing"),
                        self.t("doctor.slack_app_fix"),
                    )
                )
            else:
                checks.append(await self._slack_app(app))
        else:
            what = self.t("doctor.what_slack_secret")
            if not secret:
                checks.append(
                    Check(
                        "fail",
                        what,
                        self.t("doctor.slack_secret_missing"),
                        self.t("doctor.slack_secret_fix"),
                    )
                )
            else:
                checks.append(Check("ok", what, self.t("doctor.slack_secret_ok")))
        return checks

    async def _slack_call(
        self, what: str, token: str, method: str, fix: str, ok: Callable[[dict[str, Any]], Check]
    ) -> Check:
        base = self.settings.slack.api_base_url
        if not base.endswith("/"):
            base += "/"  # slack_sdk joins method names onto it
        shown = _public_url(base)
        if method == "auth.test":
            client = AsyncWebClient(token=token, base_url=base, timeout=int(TIMEOUT_S))
            call: Awaitable[Any] = client.auth_test()
        else:  # the app token goes only to apps.connections.open
            client = AsyncWebClient(base_url=base, timeout=int(TIMEOUT_S))
            call = client.apps_connections_open(app_token=token)
        try:
            response = await asyncio.wait_for(call, TIMEOUT_S + 1)
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            code = str(data.get("error") or "")
            if code:
                return Check("fail", what, self.t("doctor.slack_rejected", error=code), fix)
            return Check(
                "fail",
                what,
                self.t("doctor.slack_http_error", status=exc.response.status_code),
                self.t("doctor.unreachable_fix", url=shown),
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Check(
                "fail",
                what,
                self.t("doctor.unreachable", url=shown, error=self.error(exc)),
                self.t("doctor.unreachable_fix", url=shown),
            )
        data = response.data if isinstance(response.data, dict) else {}
        return ok(data)

    async def _slack_client(self) -> Check:
        """The OAuth client id and secret, probed with a code that cannot be valid: Slack checks
        the client first (invalid_client_id, bad_client_secret), then the code (invalid_code)."""
        s = self.settings.slack
        what = self.t("doctor.what_slack_client")
        fix = self.t("doctor.slack_client_fix")
        base = s.api_base_url if s.api_base_url.endswith("/") else s.api_base_url + "/"
        client = AsyncWebClient(base_url=base, timeout=int(TIMEOUT_S))
        try:
            await asyncio.wait_for(
                client.oauth_v2_access(
                    client_id=str(s.client_id),
                    client_secret=str(s.client_secret_value),
                    code="pixelsmith-doctor-probe",
                ),
                TIMEOUT_S + 1,
            )
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            code = str(data.get("error") or exc.response.status_code)
            if code == "invalid_code":
                return Check("ok", what, self.t("doctor.slack_client_ok"))
            return Check("fail", what, self.t("doctor.slack_rejected", error=code), fix)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            shown = _public_url(base)
            return Check(
                "fail",
                what,
                self.t("doctor.unreachable", url=shown, error=self.error(exc)),
                self.t("doctor.unreachable_fix", url=shown),
            )
        return Check("ok", what, self.t("doctor.slack_client_ok"))

    async def slack_installs(self) -> Check:
        """How many workspaces (or Grid orgs) installed the app, and that each one's sealed
        token opens with PIXELSMITH_SECRET_KEY; never a token."""
        from core.sealed import Unsealable, sealer_for
        from core.store import Store

        what = self.t("doctor.what_slack_installs")
        store = await Store.open(self.settings.database.url, migrate=False)
        try:
            keys = await store.install_keys("slack")
            sealer = sealer_for(self.settings)
            unopened = 0
            for key in keys:
                found = await store.find_install("slack", key)
                try:
                    sealer.open(str(found["sealed"]) if found else "", what="slack_token")
                except Unsealable:
                    unopened += 1
        finally:
            await store.close()
        if unopened:
            fix = messages.text("sealed.unsealable", self.locale, what="slack_token")
            detail = self.t("doctor.slack_installs_unsealable", count=unopened, total=len(keys))
            return Check("fail", what, detail, fix)
        if not keys:
            return Check(
                "warn",
                what,
                self.t("doctor.slack_installs_none"),
                self.t("doctor.slack_installs_fix"),
            )
        return Check("ok", what, self.t("doctor.slack_installs_ok", count=len(keys)))

    async def _slack_bot(self, token: str | None) -> Check:
        what = self.t("doctor.what_slack_bot")
        fix = self.t("doctor.slack_bot_fix")
        if not token:
            return Check("fail", what, self.t("doctor.slack_no_bot"), fix)

        def ok(data: dict[str, Any]) -> Check:
            if not data.get("bot_id"):
                return Check("fail", what, self.t("doctor.slack_not_bot"), fix)
            team = data.get("team") or data.get("team_id") or "?"
            return Check(
                "ok", what, self.t("doctor.slack_bot_ok", user=data.get("user", "?"), team=team)
            )

        return await self._slack_call(what, token, "auth.test", fix, ok)

    async def _slack_app(self, token: str) -> Check:
        what = self.t("doctor.what_slack_app")

        def ok(data: dict[str, Any]) -> Check:
            return Check("ok", what, self.t("doctor.slack_app_ok"))

        return await self._slack_call(
            what, token, "apps.connections.open", self.t("doctor.slack_app_fix"), ok
        )
