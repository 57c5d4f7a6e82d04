"""Slack OAuth distribution: Bolt's installation store, state store and authorize, all in the
project's database, so one deployment serves many workspaces from any number of processes.

An install is keyed by the community it serves (the ``Identity.org_id`` rule of
:mod:`bots.slack.payload`): an Enterprise Grid org-wide install by the org id (``E...``), any
other by the workspace id (``T...``); ``group_id`` is the org a workspace install belongs to.
Its tokens (bot token, and the refresh token when the app rotates tokens) are sealed together
with ``PIXELSMITH_SECRET_KEY`` (:mod:`core.sealed`); ids, scopes and names are stored in clear.
Only the bot token is kept: Pixelsmith asks for no user scopes.

The OAuth ``state`` of an install under way is a database row (:meth:`Store.issue_oauth_state`),
consumed by one DELETE when Slack redirects back, so the install may start on one process and
its redirect land on another, and a replayed or forged state installs nothing.

Authorize reads the install of the request's workspace or org (no auth.test per request: the
ids Slack answered at install time are stored), rotating an expiring token through Bolt's
token rotator when the app has rotation on.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator

from core.sealed import Sealer, Unsealable
from core.store import Store

log = logging.getLogger("pixelsmith.slack")

PLATFORM = "slack"
WHAT = "slack_token"  # names the sealed value in an Unsealable error (never its value)
STATE_TTL_S = 600  # Bolt's default, and the life of an oauth.v2.access code
ROTATE_BEFORE_MINUTES = 120


def install_key(enterprise_id: str | None, team_id: str | None, org_wide: bool | None) -> str:
    """The community an install serves: the org for an org-wide install, else the workspace."""
    key = enterprise_id if org_wide and enterprise_id else team_id or enterprise_id
    if not key:
        raise ValueError("an installation names neither a workspace nor an org")
    return key


class SqlInstallationStore(AsyncInstallationStore):
    """Bolt's installation store over the ``platform_install`` table, tokens sealed."""

    def __init__(self, store: Store, sealer: Sealer) -> None:
        self._store = store
        self._sealer = sealer

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await self._save(installation.to_bot(), installation)

    async def async_save_bot(self, bot: Bot) -> None:
        await self._save(bot, None)

    async def _save(self, bot: Bot, installation: Installation | None) -> None:
        if not bot.bot_token:
            raise ValueError("an installation without a bot token")
        key = install_key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        details = {
            "app_id": bot.app_id,
            "enterprise_id": bot.enterprise_id,
            "enterprise_name": bot.enterprise_name,
            "team_id": bot.team_id,
            "team_name": bot.team_name,
            "bot_id": bot.bot_id,
            "bot_user_id": bot.bot_user_id,
            "bot_scopes": list(bot.bot_scopes or []),
            "bot_token_expires_at": bot.bot_token_expires_at,
            "is_enterprise_install": bool(bot.is_enterprise_install),
            "installed_at": bot.installed_at,
        }
        if installation is not None:
            details["installer_user_id"] = installation.user_id
        else:  # a rotated bot: keep who installed it
            old = await self._store.find_install(PLATFORM, key)
            if old is not None and old["key"] == key:
                details["installer_user_id"] = old["details"].get("installer_user_id")
        tokens = {"bot_token": bot.bot_token, "bot_refresh_token": bot.bot_refresh_token}
        await self._store.save_install(
            {
                "platform": PLATFORM,
                "key": key,
                "group_id": bot.enterprise_id if key != bot.enterprise_id else None,
                "details": details,
                "sealed": self._sealer.seal(json.dumps(tokens)),
                "installed_at": datetime.now(UTC),
            }
        )
        log.info("Slack install saved for %s (%s)", key, bot.team_name or bot.enterprise_name)

    async def _row(
        self, enterprise_id: str | None, team_id: str | None, org_wide: bool | None
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        try:
            key = install_key(enterprise_id, team_id, org_wide)
        except ValueError:
            return None
        row = await self._store.find_install(PLATFORM, key)
        if row is None and enterprise_id and key != enterprise_id:
            # a workspace of an org that installed org-wide (its payloads may not say so)
            row = await self._store.find_install(PLATFORM, enterprise_id)
        return None if row is None else self._open(row)

    async def for_community(
        self, community_id: str
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The install serving community ``community_id`` (a job's, a web edit's): its own, or
        for an org, the org-wide one or else one of its workspaces' installs."""
        row = await self._store.find_install(PLATFORM, community_id, group=True)
        return None if row is None else self._open(row)

    def _open(self, row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        tokens = json.loads(self._sealer.open(str(row["sealed"]), what=WHAT))
        return dict(row["details"]), tokens

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        found = await self._row(enterprise_id, team_id, is_enterprise_install)
        if found is None:
            return None
        details, tokens = found
        return Bot(
            app_id=details.get("app_id"),
            enterprise_id=details.get("enterprise_id"),
            enterprise_name=details.get("enterprise_name"),
            team_id=details.get("team_id"),
            team_name=details.get("team_name"),
            bot_token=tokens["bot_token"],
            bot_id=details["bot_id"],
            bot_user_id=details["bot_user_id"],
            bot_scopes=details.get("bot_scopes") or [],
            bot_refresh_token=tokens.get("bot_refresh_token"),
            bot_token_expires_at=details.get("bot_token_expires_at"),
            is_enterprise_install=details.get("is_enterprise_install"),
            installed_at=details.get("installed_at") or time.time(),
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        bot = await self.async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        if bot is None or user_id is not None:  # no user tokens are kept
            return None
        return Installation(
            app_id=bot.app_id,
            enterprise_id=bot.enterprise_id,
            enterprise_name=bot.enterprise_name,
            team_id=bot.team_id,
            team_name=bot.team_name,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
            bot_refresh_token=bot.bot_refresh_token,
            bot_token_expires_at=bot.bot_token_expires_at,
            user_id="",
            is_enterprise_install=bot.is_enterprise_install,
            installed_at=bot.installed_at,
        )

    async def uninstall(
        self, enterprise_id: str | None, team_id: str | None, org_wide: bool | None
    ) -> bool:
        """Forget the install (app_uninstalled, tokens_revoked): True when there was one."""
        try:
            key = install_key(enterprise_id, team_id, org_wide)
        except ValueError:
            return False
        gone = await self._store.drop_install(PLATFORM, key)
        if not gone and enterprise_id and key != enterprise_id:
            gone = await self._store.drop_install(PLATFORM, enterprise_id)
        log.info("Slack install of %s removed: %s", key, gone)
        return gone

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.uninstall(enterprise_id, team_id, None)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if user_id is None:
            await self.uninstall(enterprise_id, team_id, None)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.uninstall(enterprise_id, team_id, None)


class SqlStateStore(AsyncOAuthStateStore):
    """OAuth states as rows: issued on one process, consumed once on any."""

    def __init__(self, store: Store, ttl_s: float = STATE_TTL_S) -> None:
        self._store = store
        self._ttl_s = ttl_s

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + timedelta(seconds=self._ttl_s)
        await self._store.issue_oauth_state(state, expires)
        return state

    async def async_consume(self, state: str) -> bool:
        if not isinstance(state, str) or not state or len(state) > 128:
            return False
        return await self._store.consume_oauth_state(state)


class StoreAuthorize(AsyncAuthorize):
    """The bot token of the request's workspace (or org) from the installation store."""

    def __init__(
        self, installs: SqlInstallationStore, rotator: AsyncTokenRotator | None = None
    ) -> None:
        self.installs = installs
        self.rotator = rotator

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **_: Any,
    ) -> AuthorizeResult | None:
        try:
            bot = await self.installs.async_find_bot(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=context.is_enterprise_install,
            )
        except Unsealable:
            log.error(
                "the stored Slack token of %s cannot be decrypted with PIXELSMITH_SECRET_KEY "
                "(another process sealed it with a different key?)",
                enterprise_id or team_id,
            )
            return None
        if bot is None:
            log.warning("a Slack request from %s, which has not installed the app", team_id)
            return None
        if bot.bot_refresh_token and self.rotator is not None:
            try:
                fresh = await self.rotator.perform_bot_token_rotation(
                    bot=bot, minutes_before_expiration=ROTATE_BEFORE_MINUTES
                )
            except SlackTokenRotationError as exc:
                # the current token may still have up to ROTATE_BEFORE_MINUTES to live
                error = exc.api_error.response.get("error")
                log.warning("Slack token rotation failed for %s: %s", bot.team_id, error)
                fresh = None
            if fresh is not None:
                await self.installs.async_save_bot(fresh)
                bot = fresh
        return AuthorizeResult(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
            user_id=user_id,
        )
