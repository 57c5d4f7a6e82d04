"""Signed links and session cookies of the web companion (pure: no I/O, no aiohttp).

A token is ``<payload>.<mac>``: ``payload`` is base64url JSON claims, ``mac`` an HMAC-SHA256 of
the kind (``link`` or ``session``) and the payload under a key derived from
``PIXELSMITH_SECRET_KEY``. A link binds one user in one community (or one DM context), says what
it opens (``purpose``) and expires after ``web.link_minutes``; the web companion exchanges it once
for a session cookie (which links were used is kept in the database, see ``bots.web.app``). Chat adapters and the CLI mint links with :func:`mint_link`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from core.config import Settings
from core.types import Identity

PURPOSES = ("edit", "gallery", "dashboard")
MAX_TOKEN_CHARS = 2048
MAX_ROLES = 50
MIN_SECRET_CHARS = 32
_ID_CHARS = 100  # platform ids, channel ids and public job ids are far shorter


@dataclass(frozen=True)
class Grant:
    """Who holds a link or a session, inside which community, allowed to open what.

    ``community_id`` None is a DM context (unless ``org_id``, a Slack Enterprise Grid org, is
    set: the org is the community then). ``admin`` is only ever set by an adapter that checked
    the platform's admin rules itself before minting a dashboard link.
    """

    platform: str
    user_id: str
    community_id: str | None
    purpose: str
    expires: int
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    admin: bool = False
    locale: str = "en"
    channel_id: str | None = None
    job: str | None = None
    roles: tuple[str, ...] = ()
    org_id: str | None = None

    @property
    def tenant_id(self) -> str | None:
        return self.org_id or self.community_id

    def identity(self) -> Identity:
        """The caller every service call of this session is made as."""
        return Identity(
            platform=self.platform,
            user_id=self.user_id,
            community_id=self.community_id,
            locale=self.locale,
            roles=self.roles,
            is_admin=self.admin,
            channel_id=self.channel_id,
            org_id=self.org_id,
        )

    def claims(self) -> dict[str, Any]:
        return {
            "pl": self.platform,
            "u": self.user_id,
            "c": self.community_id,
            "p": self.purpose,
            "exp": self.expires,
            "n": self.nonce,
            "a": self.admin,
            "loc": self.locale,
            "ch": self.channel_id,
            "j": self.job,
            "r": list(self.roles),
            "o": self.org_id,
        }

    @classmethod
    def from_claims(cls, data: Any) -> Grant | None:
        if not isinstance(data, dict):
            return None
        try:
            grant = cls(
                platform=_text(data["pl"]),
                user_id=_text(data["u"]),
                community_id=_opt_text(data.get("c")),
                purpose=_text(data["p"]),
                expires=_int(data["exp"]),
                nonce=_text(data["n"]),
                admin=data.get("a") is True,
                locale=_text(data.get("loc") or "en"),
                channel_id=_opt_text(data.get("ch")),
                job=_opt_text(data.get("j")),
                roles=tuple(_text(r) for r in (data.get("r") or [])[:MAX_ROLES]),
                org_id=_opt_text(data.get("o")),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return grant if grant.purpose in PURPOSES else None


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > _ID_CHARS:
        raise ValueError("bad claim")
    return value


def _opt_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("bad claim")
    return value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Seals and opens tokens of one kind under keys derived from the server secret."""

    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError("secret too short")
        root = secret.encode("utf-8")
        self._keys = {
            kind: hmac.new(root, f"pixelsmith-web:{kind}".encode(), hashlib.sha256).digest()
            for kind in ("link", "session", "csrf")
        }

    def _mac(self, kind: str, payload: str) -> str:
        return _b64(hmac.new(self._keys[kind], payload.encode("ascii"), hashlib.sha256).digest())

    def seal(self, kind: str, grant: Grant) -> str:
        raw = json.dumps(grant.claims(), separators=(",", ":"), sort_keys=True).encode("utf-8")
        payload = _b64(raw)
        return f"{payload}.{self._mac(kind, payload)}"

    def open(self, kind: str, token: str, *, now: float | None = None) -> Grant | None:
        """The grant of a genuine, unexpired token of ``kind``; None for anything else."""
        if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            return None
        payload, mac = token.split(".")
        try:
            payload.encode("ascii")
            mac.encode("ascii")
        except UnicodeEncodeError:
            return None
        if not hmac.compare_digest(self._mac(kind, payload), mac):
            return None
        try:
            grant = Grant.from_claims(json.loads(_unb64(payload)))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return None
        if grant is None or grant.expires <= (time.time() if now is None else now):
            return None
        return grant

    def csrf(self, grant: Grant) -> str:
        """The CSRF token of a session: tied to its nonce, so useless with any other cookie."""
        return self._mac("csrf", grant.nonce)

    def csrf_ok(self, grant: Grant, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf(grant), str(token))


def mint_link(
    secret: str,
    base_url: str,
    purpose: str,
    identity: Identity,
    *,
    minutes: float,
    admin: bool = False,
    job: str | None = None,
    now: float | None = None,
) -> str:
    """A signed one-time link for ``identity`` (whose ``channel_id`` is where results go back).

    ``admin`` only for a dashboard link, after the caller checked the platform's admin rules.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    moment = time.time() if now is None else now
    grant = Grant(
        platform=identity.platform,
        user_id=identity.user_id,
        community_id=identity.community_id,
        purpose=purpose,
        expires=int(moment + minutes * 60),
        admin=admin,
        locale=identity.locale,
        channel_id=identity.channel_id,
        job=job,
        roles=identity.roles[:MAX_ROLES],
        org_id=identity.org_id,
    )
    return f"{base_url.rstrip('/')}/l/{Signer(secret).seal('link', grant)}"


def link_for(
    settings: Settings,
    purpose: str,
    identity: Identity,
    *,
    admin: bool = False,
    job: str | None = None,
) -> str | None:
    """The link chat adapters hand out (privately), or None while the web companion is off."""
    web = settings.web
    secret = web.secret_key_value
    if web.port is None or not secret or len(secret) < MIN_SECRET_CHARS:
        return None
    return mint_link(
        secret, web.base_url, purpose, identity, minutes=web.link_minutes, admin=admin, job=job
    )


OPERATOR_USER = "operator"


def operator_dashboard_link(settings: Settings, community: str) -> str | None:
    """``pixelsmith dashboard-link``: the operator opens one community's dashboard.

    ``community`` is ``<platform>:<community id>`` (``discord:1234``, ``slack:T0123``); raises
    ValueError for anything else. None while the web companion is off.
    """
    platform, _, community_id = community.partition(":")
    if platform not in ("discord", "slack") or not community_id or len(community_id) > 100:
        raise ValueError("community must look like discord:<server id> or slack:<team id>")
    if not community_id.replace("-", "").replace("_", "").isalnum():
        raise ValueError("community must look like discord:<server id> or slack:<team id>")
    identity = Identity(
        platform=platform,
        user_id=OPERATOR_USER,
        community_id=community_id,
        locale=settings.console.locale,
        is_admin=True,
    )
    return link_for(settings, "dashboard", identity, admin=True)
