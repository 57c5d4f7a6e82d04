"""FakeSlack's OAuth app: the authorize page, ``oauth.v2.access``, and tokens per workspace.

Slack's published rules, enforced here:

* docs.slack.dev/authentication/installing-with-oauth: the installer approves on
  ``https://slack.com/oauth/v2/authorize?client_id=...&scope=...&state=...&redirect_uri=...``;
  Slack redirects to the redirect URL with ``code`` and the same ``state`` (or ``error=
  access_denied`` when the installer cancels). The code is temporary: "this code expires after
  10 minutes", and it can be exchanged once.
* docs.slack.dev/reference/methods/oauth.v2.access: client credentials by HTTP Basic auth (or
  form fields); errors ``invalid_client_id`` (client_id was invalid), ``bad_client_secret``
  (client_secret was invalid), ``invalid_code`` (code was invalid: unknown, used, expired),
  ``bad_redirect_uri`` (redirect_uri did not match the one of the authorize request). The answer
  carries ``access_token`` (xoxb-, the workspace's bot token), ``token_type: bot``, ``scope``,
  ``bot_user_id``, ``app_id``, ``team {id, name}``, ``enterprise`` (null outside a Grid),
  ``is_enterprise_install`` and ``authed_user {id}``.
* docs.slack.dev/authentication/using-token-rotation: with token rotation on (``rotation``),
  the exchange also answers ``refresh_token`` (``xoxe-1-...``) and ``expires_in`` (12 hours on
  Slack; ``rotation_expires_in`` here), and ``oauth.v2.access`` with
  ``grant_type=refresh_token`` and that refresh token issues a new access token (and refresh
  token) for the same workspace; an unknown refresh token is ``invalid_refresh_token``.
* A bot token works only in its own workspace (docs.slack.dev/authentication/tokens: a bot token
  is issued per workspace install): a channel of another workspace is ``channel_not_found``
  to it, as Slack answers for a channel the token cannot see. An org-wide token (Enterprise
  Grid, docs.slack.dev/enterprise) sees every workspace of its org. A token of an uninstalled
  app is ``token_revoked``.

Registered workspaces (``add_workspace``) own the channels named there; channels nobody
registered belong to the fake's own workspace, which the constructor's token keeps serving as
before.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

from aiohttp import web

from tests.fakes.clock import VirtualClock

CODE_TTL_S = 10 * 60


@dataclass
class Workspace:
    team_id: str
    name: str
    enterprise_id: str | None = None
    org_wide: bool = False  # an org-wide install of the Grid org ``enterprise_id``
    bot_user_id: str = "U0BOTX001"
    bot_id: str = "B0BOTX001"
    installer: str = "U0INSTALL"

    @property
    def key(self) -> str:
        return self.enterprise_id if self.org_wide and self.enterprise_id else self.team_id


@dataclass
class _Code:
    workspace: Workspace
    redirect_uri: str | None
    issued_at: float
    scope: str
    used: bool = False


class OAuthApp:
    """Mixed into FakeSlack: the app's credentials, installs, and who may use which token."""

    client_id = "1111.2222"
    client_secret = "fake-client-secret-0123456789"
    clock: VirtualClock
    _token: str
    app_id: str

    def _init_oauth(self) -> None:
        #: the Redirect URLs set in the app's config (empty: any)
        self.redirect_urls: list[str] = []
        self.workspaces: dict[str, Workspace] = {}
        self.channel_team: dict[str, str] = {}
        self.installing: str | None = None  # the workspace the next approval installs into
        self.deny_next = False
        self.exchanges: list[dict[str, Any]] = []  # oauth.v2.access calls: error or team
        self._codes: dict[str, _Code] = {}
        self._issued: dict[str, Workspace] = {}
        self._revoked: set[str] = set()
        self.rotation = False
        self.rotation_expires_in = 12 * 3600
        self.refreshed: list[str] = []  # teams whose token was refreshed
        self._refresh: dict[str, Workspace] = {}
        self._caller: Workspace | None = None  # the install whose token the current call uses

    def add_workspace(
        self,
        team_id: str,
        name: str,
        *,
        channels: tuple[str, ...] = (),
        enterprise_id: str | None = None,
        org_wide: bool = False,
    ) -> Workspace:
        n = len(self.workspaces) + 2
        ws = Workspace(
            team_id,
            name,
            enterprise_id,
            org_wide,
            bot_user_id=f"U0BOT{n:04d}",
            bot_id=f"B0BOT{n:04d}",
        )
        self.workspaces[team_id] = ws
        for channel in channels:
            self.channel_team[channel] = team_id
        return ws

    def uninstall(self, team_id: str) -> None:
        """The workspace removed the app: Slack revokes its tokens."""
        for token, ws in self._issued.items():
            if ws.team_id == team_id:
                self._revoked.add(token)

    def issued_for(self, team_id: str) -> list[str]:
        """Tokens issued to the workspace (a test may compare a stored value with them)."""
        return [t for t, ws in self._issued.items() if ws.team_id == team_id]

    def token_workspace(self, token: str) -> Workspace | None:
        return self._issued.get(token)

    def token_revoked(self, token: str) -> bool:
        return token in self._revoked

    # -- the authorize page -------------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("client_id") != self.client_id:
            return web.Response(status=400, text="invalid_client_id")
        redirect = q.get("redirect_uri")
        if redirect is not None and self.redirect_urls and redirect not in self.redirect_urls:
            return web.Response(status=400, text="bad_redirect_uri")
        target = redirect or (self.redirect_urls[0] if self.redirect_urls else None)
        if target is None:
            return web.Response(status=400, text="no redirect URL configured")
        answer: dict[str, str] = {"state": q.get("state", "")}
        team = q.get("team") or self.installing
        ws = self.workspaces.get(team or "")
        if self.deny_next or ws is None:
            self.deny_next = False
            answer["error"] = "access_denied"
        else:
            code = secrets.token_hex(16)
            self._codes[code] = _Code(ws, redirect, self.clock.now(), q.get("scope", ""))
            answer["code"] = code
        sep = "&" if "?" in target else "?"
        raise web.HTTPFound(f"{target}{sep}{urlencode(answer)}")

    # -- oauth.v2.access ----------------------------------------------------------------------

    def _oauth_access(self, request: web.Request, params: dict[str, Any]) -> web.Response:
        client_id, client_secret = _basic(request)
        client_id = client_id or params.get("client_id")
        client_secret = client_secret or params.get("client_secret")
        error = None
        code = self._codes.get(str(params.get("code") or ""))
        refreshing = params.get("grant_type") == "refresh_token"
        if client_id == self.client_id and client_secret == self.client_secret and refreshing:
            ws_refresh = self._refresh.get(str(params.get("refresh_token") or ""))
            if ws_refresh is None:
                return web.json_response({"ok": False, "error": "invalid_refresh_token"})
            self.refreshed.append(ws_refresh.team_id)
            return web.json_response({"ok": True, **self._grant(ws_refresh, "")})
        if client_id != self.client_id:
            error = "invalid_client_id"
        elif client_secret != self.client_secret:
            error = "bad_client_secret"
        elif code is None or code.used or self.clock.now() - code.issued_at > CODE_TTL_S:
            error = "invalid_code"
        elif code.redirect_uri is not None and params.get("redirect_uri") != code.redirect_uri:
            error = "bad_redirect_uri"
        if error is not None or code is None:
            self.exchanges.append({"error": error})
            return web.json_response({"ok": False, "error": error})
        code.used = True
        ws = code.workspace
        self.exchanges.append({"team": ws.team_id})
        return web.json_response({"ok": True, **self._grant(ws, code.scope)})

    def _grant(self, ws: Workspace, scope: str) -> dict[str, Any]:
        token = f"xoxb-{ws.team_id}-{secrets.token_hex(12)}"
        self._issued[token] = ws
        enterprise = (
            {"id": ws.enterprise_id, "name": ws.enterprise_id} if ws.enterprise_id else None
        )
        rotation: dict[str, Any] = {}
        if self.rotation:
            refresh = f"xoxe-1-{secrets.token_hex(16)}"
            self._refresh[refresh] = ws
            rotation = {"refresh_token": refresh, "expires_in": self.rotation_expires_in}
        return {
            **rotation,
            "access_token": token,
            "token_type": "bot",
            "scope": scope,
            "bot_user_id": ws.bot_user_id,
            "app_id": self.app_id,
            "team": None if ws.org_wide else {"id": ws.team_id, "name": ws.name},
            "enterprise": enterprise,
            "is_enterprise_install": ws.org_wide,
            "authed_user": {"id": ws.installer},
        }

    # -- whose token --------------------------------------------------------------------------

    def _token_refusal(self, token: str) -> str | None:
        """Why ``token`` may not be used at all (None: it may)."""
        if token in self._revoked:
            return "token_revoked"
        if token == self._token or token in self._issued:
            return None
        return "invalid_auth"

    def _cross_workspace(self, token: str, params: dict[str, Any]) -> bool:
        """True when a channel the call names belongs to a workspace ``token`` cannot see."""
        ws = self._issued.get(token)
        for name in ("channel", "channel_id", "channels"):
            value = params.get(name)
            for named in str(value).split(",") if isinstance(value, str) else []:
                channel = named.strip()
                if not channel.startswith(("C", "G")):
                    continue  # a DM or a user id: the user's own conversation with the bot
                owner = self.channel_team.get(channel)
                if owner is None:
                    if ws is not None:
                        return True  # the fake's own workspace: not an install's
                    continue
                if ws is None:
                    return True  # the primary token does not reach a registered workspace
                owner_ws = self.workspaces.get(owner)
                same_org = ws.org_wide and owner_ws is not None
                same_org = (
                    same_org
                    and owner_ws is not None
                    and owner_ws.enterprise_id == (ws.enterprise_id)
                )
                if owner != ws.team_id and not same_org:
                    return True
        return False


def _basic(request: web.Request) -> tuple[str | None, str | None]:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None, None
    try:
        raw = base64.b64decode(header[6:]).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None, None
    user, _, password = raw.partition(":")
    return user, password


def redirect_query(location: str) -> dict[str, str]:
    """The query of a redirect ``Location`` (code/state/error)."""
    query = location.partition("?")[2]
    return {k: v[0] for k, v in parse_qs(query).items()}
