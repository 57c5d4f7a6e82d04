"""``slack.distribution = "oauth"``: the Bolt app that installs into many workspaces.

``GET /slack/install`` starts an install (a state row in the database, the state cookie in the
installer's browser, a redirect to Slack's authorize page); ``GET /slack/oauth_redirect`` is
where Slack sends the installer back: Bolt checks the cookie against the state, consumes the
state (once, on any process), exchanges the code with ``oauth.v2.access`` and saves the install
(:mod:`bots.slack.installs`). ``app_uninstalled`` and ``tokens_revoked`` delete it.

Slack's rules for the exchange: https://docs.slack.dev/reference/methods/oauth.v2.access
(the code is single-use and expires after ten minutes; client id, secret and redirect URI must
match the app's).
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator

from bots.slack.installs import PLATFORM, SqlInstallationStore, SqlStateStore, StoreAuthorize
from bots.slack.runtime import SlackBot
from bots.slack.tenant import Acting, act_as
from core import messages
from core.sealed import Unsealable

log = logging.getLogger("pixelsmith.slack")

#: The bot scopes of bots/slack/manifest.yml (tests/slack/test_oauth.py keeps them equal).
SCOPES = (
    "app_mentions:read",
    "channels:history",
    "channels:read",
    "chat:write",
    "commands",
    "files:read",
    "files:write",
    "groups:history",
    "groups:read",
    "im:history",
    "im:read",
    "mpim:read",
    "users:read",
)
REFRESH_S = 30.0  # how often a process re-reads which workspaces are installed (health)


def authorize_url(api_base_url: str) -> str:
    """Slack's authorize page beside its Web API (``https://slack.com/oauth/v2/authorize``)."""
    base = api_base_url.rstrip("/")
    base = base[: -len("/api")] if base.endswith("/api") else base
    return f"{base}/oauth/v2/authorize"


def oauth_app(bot: SlackBot, installs: SqlInstallationStore, signing_secret: str) -> AsyncApp:
    slack = bot.settings.slack
    client_id, client_secret = str(slack.client_id), str(slack.client_secret_value)
    settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(slack.scopes or SCOPES),
        user_scopes=[],
        redirect_uri=slack.redirect_url,
        install_page_rendering_enabled=False,  # straight to Slack: no page of Bolt's English
        authorization_url=authorize_url(slack.api_base_url),
        installation_store=installs,
        installation_store_bot_only=True,
        state_store=SqlStateStore(bot.service.store),
        callback_options=AsyncCallbackOptions(success=_installed(bot), failure=_failed),
    )
    rotator = AsyncTokenRotator(client_id=client_id, client_secret=client_secret, client=bot.client)
    return AsyncApp(
        client=bot.client,
        signing_secret=signing_secret,
        oauth_settings=settings,
        installation_store=installs,
        # said to whoever uses a command in a workspace that has no install (any more)
        user_facing_authorize_error_message=messages.text("slack.install.missing", "en"),
        # an AsyncAuthorize instance (Bolt's own kind; its hint names only plain functions)
        authorize=StoreAuthorize(installs, rotator),  # type: ignore[arg-type]
    )


def register(app: AsyncApp, bot: SlackBot) -> None:
    installs = bot.installs
    if installs is None:  # one bot token: an uninstall is only worth a warning
        _register_single(app)
        return

    @app.middleware
    async def act_for_install(context: AsyncBoltContext, next: Any) -> Any:
        # Authorize found this request's install: every call from here on (and from the tasks
        # its listener starts) uses that install's token.
        if context.bot_token:
            org_wide = context.is_enterprise_install and context.enterprise_id
            community = context.enterprise_id if org_wide else context.team_id
            act_as(Acting(context.bot_token, context.bot_user_id, community))
        return await next()

    @app.event("app_uninstalled")
    async def uninstalled(context: AsyncBoltContext) -> None:
        await installs.uninstall(
            context.enterprise_id, context.team_id, context.is_enterprise_install
        )
        await refresh(bot)

    @app.event("tokens_revoked")
    async def revoked(event: dict[str, Any], context: AsyncBoltContext) -> None:
        tokens = event.get("tokens") if isinstance(event.get("tokens"), dict) else {}
        if tokens and tokens.get("bot"):  # user tokens: none are kept
            await installs.uninstall(
                context.enterprise_id, context.team_id, context.is_enterprise_install
            )
            await refresh(bot)


def _register_single(app: AsyncApp) -> None:
    @app.event("app_uninstalled")
    async def uninstalled(context: AsyncBoltContext) -> None:
        log.warning(
            "the Slack app was uninstalled from %s: its bot token no longer works", context.team_id
        )

    @app.event("tokens_revoked")
    async def revoked(context: AsyncBoltContext) -> None:
        log.warning("Slack revoked tokens in %s", context.team_id)


async def refresh(bot: SlackBot) -> None:
    """Re-read which communities are installed (for health)."""
    bot.communities = await bot.service.store.install_keys(PLATFORM)


async def keep_fresh(bot: SlackBot) -> None:
    """Refresh every :data:`REFRESH_S` (another process may have installed or uninstalled)."""
    while True:
        await asyncio.sleep(REFRESH_S)
        try:
            await refresh(bot)
        except Exception as exc:
            log.warning("could not read the Slack installs (%s)", type(exc).__name__)


async def check_installs(bot: SlackBot) -> None:
    """At start: every stored install opens with PIXELSMITH_SECRET_KEY, else :class:`Unsealable`
    (the key was changed without keeping the old one) before any request is taken."""
    assert bot.installs is not None
    keys = await bot.service.store.install_keys(PLATFORM)
    for key in keys:
        await bot.installs.for_community(key)  # opens its tokens, or raises Unsealable
    bot.communities = keys
    log.info("Slack OAuth distribution: %d workspace(s) or org(s) installed", len(keys))


def _locale(request: AsyncBoltRequest) -> str:
    accept = request.headers.get("accept-language", [""])
    first = accept[0] if accept else ""
    return "zh-CN" if first.lower().startswith("zh") else "en"


def _page(request: AsyncBoltRequest, status: int, key: str, **params: Any) -> BoltResponse:
    locale = _locale(request)
    title = html.escape(messages.text("slack.install.title", locale))
    text = html.escape(messages.text(key, locale, **params))
    body = (
        f'<!DOCTYPE html><html lang="{locale}"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>"
    )
    headers: dict[str, str | Sequence[str]] = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
    }
    return BoltResponse(status=status, body=body, headers=headers)


def _installed(bot: SlackBot) -> Any:
    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        found = args.installation
        where = found.team_name or found.enterprise_name or found.team_id or ""
        await refresh(bot)
        return _page(args.request, 200, "slack.install.done", workspace=where)

    return success


async def _failed(args: AsyncFailureArgs) -> BoltResponse:
    if isinstance(args.error, Unsealable):
        log.error("a Slack install could not be sealed: %s", args.error)
    log.warning("a Slack install did not finish: %s", args.reason)
    key = "slack.install.denied" if args.reason == "access_denied" else "slack.install.failed"
    return _page(args.request, args.suggested_status_code, key, reason=args.reason)
