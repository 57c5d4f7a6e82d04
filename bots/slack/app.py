"""The Slack adapter: Bolt's AsyncApp in Socket Mode or HTTP mode, wired to the listeners.

``SlackAdapter`` implements :class:`bots.base.PlatformAdapter`. ``start()`` checks the tokens
(auth.test) and starts serving; ``stop()`` stops taking events, waits up to
``shutdown.grace_s`` for running jobs (their uploads included), and closes connections.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.authorization.async_single_team_authorization import (
    AsyncSingleTeamAuthorization,
)
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

from bots.slack import actions, admin, commands, edits, history, home, oauth, prefs, web
from bots.slack.delivery import deliver_paid
from bots.slack.http import VERIFIED, HttpServer
from bots.slack.installs import SqlInstallationStore
from bots.slack.payload import slack_id
from bots.slack.runtime import SlackBot
from bots.slack.socket import SocketHandler
from bots.slack.tenant import TenantClient
from core import messages
from core.config import Settings
from core.errors import ConfigError
from core.metrics import PlatformHealth
from core.sealed import sealer_for
from core.service import ImageService
from core.types import Identity, ImageResult, JobView

log = logging.getLogger("pixelsmith.slack")


def build_app(bot: SlackBot, signing_secret: str) -> AsyncApp:
    if bot.installs is None:
        app = AsyncApp(client=bot.client, signing_secret=signing_secret)
    else:
        app = oauth.oauth_app(bot, bot.installs, signing_secret)

    @app.middleware
    async def skip_seen_events(body: dict[str, Any], response: BoltResponse, next: Any) -> Any:
        # Slack retries events it thinks we missed; one this process already has is acked and
        # dropped here. An unseen retry (the first delivery never arrived) goes on: the
        # database claim of the idempotency key is the real guard.
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not bot.seen.add(f"slack:event:{event_id}"):
            return BoltResponse(status=200, body="")
        await next()
        return response

    @app.error
    async def on_error(error: Exception, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        trusted = request.mode == "socket_mode" or request.context.get(VERIFIED) is True
        await bot.reply_error(error, body, trusted=trusted)

    for module in (oauth, commands, admin, edits, actions, history, home, prefs, web):
        module.register(app, bot)
    return app


class SlackAdapter:
    """``bots.base.PlatformAdapter`` for Slack."""

    name = "slack"

    def __init__(self, service: ImageService, settings: Settings, *, host: str = "0.0.0.0") -> None:
        self.settings = settings
        self.host = host
        distributed = settings.slack.distribution == "oauth"
        token = None if distributed else settings.slack.bot_token_value
        client = TenantClient(token=token, base_url=settings.slack.api_base_url)
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        self.bot = SlackBot(service, settings, client)
        if distributed:
            self.bot.installs = SqlInstallationStore(service.store, sealer_for(settings))
        self.app = build_app(self.bot, settings.slack.signing_secret_value or "")
        self._http: HttpServer | None = None
        self._refresh: asyncio.Task[None] | None = None
        self._socket: SocketHandler | None = None

    @property
    def port(self) -> int | None:
        """The HTTP port actually bound (HTTP mode), e.g. when slack.http_port is 0."""
        return self._http.port if self._http else None

    def _require(self, value: str | None, key: str, env: str) -> str:
        if not value:
            problem = messages.text("slack.problem.missing", "en", mode=self.settings.slack.mode)
            raise ConfigError(
                "config.invalid", key=key, problem=problem, path_or_env=f"{env} or config.toml"
            )
        return value

    async def _verify_token(self) -> None:
        self._require(self.settings.slack.bot_token_value, "slack.bot_token", "SLACK_BOT_TOKEN")
        try:
            auth = await self.bot.client.auth_test()
        except SlackApiError as exc:
            problem = messages.text(
                "slack.problem.bad_token", "en", error=exc.response.get("error")
            )
            raise ConfigError(
                "config.invalid",
                key="slack.bot_token",
                problem=problem,
                path_or_env="SLACK_BOT_TOKEN or config.toml",
            ) from None
        self.bot.bot_user_id = str(auth["user_id"])
        # Bolt would call auth.test again on the first request (once per concurrent request).
        for middleware in getattr(self.app, "_async_middleware_list", []):
            if isinstance(middleware, AsyncSingleTeamAuthorization):
                middleware.auth_test_result = auth

    async def start(self) -> None:
        slack = self.settings.slack
        if slack.mode == "http":
            self._require(
                slack.signing_secret_value, "slack.signing_secret", "SLACK_SIGNING_SECRET"
            )
        else:
            self._require(slack.app_token_value, "slack.app_token", "SLACK_APP_TOKEN")
        if self.bot.installs is None:
            await self._verify_token()
        else:
            if slack.bot_token_value:
                log.warning('slack.bot_token is not used with slack.distribution = "oauth"')
            await oauth.check_installs(self.bot)
            self._refresh = asyncio.create_task(oauth.keep_fresh(self.bot), name="slack-installs")
        # Socket Mode: check the app token now (slack_sdk's connect() would retry it forever)
        url = (
            await self._open_socket_url(str(slack.app_token_value)) if slack.mode != "http" else ""
        )
        self.bot.http = aiohttp.ClientSession()
        self.bot.client.session = self.bot.http  # one connection pool, not one per API call
        if slack.mode == "http":
            secret = str(slack.signing_secret_value)
            self._http = HttpServer(
                self.app,
                secret,
                self.host,
                slack.http_port,
                health=self.health,
                acks=self.bot.service.acks,
            )
            await self._http.start()
            log.info("Slack HTTP mode on %s:%s/slack/events", self.host, self._http.port)
        else:
            self._socket = SocketHandler(self.app, str(slack.app_token_value))
            self._socket.client.wss_uri = url
            await self._socket.connect_async()
            log.info("Slack Socket Mode connected")

    async def _open_socket_url(self, app_token: str) -> str:
        """A Socket Mode URL from apps.connections.open; a rejected app token is a ConfigError."""
        try:
            answer = await self.bot.client.apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            problem = messages.text("doctor.slack_rejected", "en", error=exc.response.get("error"))
            raise ConfigError(
                "config.invalid",
                key="slack.app_token",
                problem=problem,
                path_or_env="SLACK_APP_TOKEN or config.toml",
            ) from None
        return str(answer["url"])

    async def drain(self, grace_s: float | None = None) -> int:
        """Wait for running jobs, uploads included; returns how many did not finish."""
        grace = self.settings.shutdown.grace_s if grace_s is None else grace_s
        return await self.bot.drain(grace)

    def health(self) -> PlatformHealth:
        """What this process serves, for /healthz and /metrics: the workspaces (and Grid orgs)
        installed (OAuth distribution, as last read from the database), never a token."""
        details: dict[str, Any] = {
            "mode": self.settings.slack.mode,
            "distribution": self.settings.slack.distribution,
        }
        if self.bot.installs is not None:
            details["workspaces"] = len(self.bot.communities)
            details["workspace_ids"] = list(self.bot.communities)
        return PlatformHealth(details=details)

    async def stop(self) -> None:
        if self._refresh is not None:
            self._refresh.cancel()
            self._refresh = None
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._http is not None:
            await self._http.stop()
            self._http = None
        left = await self.drain()
        if left:
            log.warning("%d Slack job(s) still running at shutdown", left)
        if self.bot.http is not None:
            await self.bot.http.close()
            self.bot.http = None

    async def notify(self, job: JobView, text: str) -> bool:
        """Tell the job's user ``text`` in the job's channel (ephemeral), else by DM."""
        user = job.user_scope.rpartition(":")[2]
        if not job.user_scope.startswith("user:slack:") or not user:
            return False
        channel = job.request.get("channel_id")
        community = (job.community_scope or "").rpartition(":")[2] or None
        async with self.bot.acting_for(community) as installed:
            if not installed:
                return False
            return await self.bot.ephemeral(str(channel) if channel else None, user, text)

    async def post_result(self, identity: Identity, result: ImageResult) -> bool:
        """Post ``result`` with its buttons into ``identity.channel_id`` (retrying transient
        failures); False when there is no channel or Slack will not take it (the user is told)."""
        channel = slack_id(identity.channel_id, "CGD")
        if channel is None:
            return False
        async with self.bot.acting_for(identity.org_id or identity.community_id) as installed:
            if not installed:
                return False
            return await deliver_paid(self.bot, result, channel)
