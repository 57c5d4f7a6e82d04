"""Bring your own key: which gateway key (and base URL) serves a community's jobs.

A community admin (or the operator, ``pixelsmith keys``) may store the community's own gateway
key. Then that community's jobs are sent with it, to its base URL, and billed to its gateway
account; the job records the key's fingerprint (``job.key_ref``) so reports say who paid, and
each key has its own upstream budget (pool ``key:<fingerprint>``), so a community's key never
takes the operator's slots, nor the other way round.

The rules, in one place (:func:`choose`):

* ``byok.enabled`` false: every job uses the operator's key (stored keys are kept, unused).
* a stored key: the community's jobs use it. It is opened with ``PIXELSMITH_SECRET_KEY`` at the
  moment of use; one that cannot be opened stops the job before anything is reserved
  (:class:`KeyProblem` ``byok.unsealable``), never a silent switch to the operator's money.
* a removed key where ``byok.fallback_to_operator`` is false leaves a row without a key: the
  community's jobs stop (``byok.removed``), nothing charged, until an admin sets a new key.
* no row: the operator's key.

A key is never echoed: it is checked, sealed and forgotten; what is shown is its fingerprint
(:func:`core.sealed.fingerprint`). A base URL set from a chat must be one of
``byok.allowed_base_urls`` (default: the operator's ``provider.base_url``): otherwise a
community admin could make the bot send requests to any address it can reach.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.errors import PixelsmithError
from core.logs import redact_also
from core.types import OPERATOR, OPERATOR_POOL

if TYPE_CHECKING:
    from core.config import Settings
    from core.sealed import Sealer
    from core.store import Store

# Gateway keys are long printable tokens (sk-..., a gateway's own format): no spaces, no
# control characters; the bounds reject pasted sentences and empty fields.
KEY_RE = re.compile(r"^[\x21-\x7e]{16,300}$")
URL_MAX = 500


class KeyProblem(PixelsmithError):
    """A community key cannot be used, stored or changed; nothing was sent or charged."""

    key = "byok.bad_key"
    exit_code = 2


@dataclass(frozen=True)
class KeyChoice:
    """What serves a community's jobs: the operator's key (``api_key`` None) or its own."""

    pool: str = OPERATOR_POOL
    key_ref: str | None = None  # the own key's fingerprint
    api_key: str | None = None
    base_url: str | None = None  # None: the operator's provider.base_url

    @property
    def own(self) -> bool:
        return self.api_key is not None

    def __repr__(self) -> str:  # never the key
        return f"KeyChoice(pool={self.pool!r}, base_url={self.base_url!r})"


OPERATORS = KeyChoice()


@dataclass(frozen=True)
class KeyInfo:
    """One stored key as it may be shown: fingerprint, never the key."""

    community_scope: str
    fingerprint: str | None  # None: removed, no fallback
    base_url: str | None
    set_by: str
    set_at: datetime
    checked_at: datetime | None
    check: str | None
    opens: bool  # PIXELSMITH_SECRET_KEY opens it


def _sealer(settings: Settings) -> Sealer:
    # cryptography loads only when a key is sealed or opened, not on every one-shot command
    from core.sealed import sealer_for

    return sealer_for(settings)


def pool_of(fingerprint_: str) -> str:
    return f"key:{fingerprint_}"


def clean_key(raw: str) -> str:
    """The key as typed, trimmed; :class:`KeyProblem` ``byok.bad_key`` (never quoting it)."""
    value = (raw or "").strip()
    if not KEY_RE.match(value):
        raise KeyProblem("byok.bad_key", min=16, max=300)
    return value


def clean_base_url(raw: str | None, settings: Settings, *, operator: bool) -> str:
    """The gateway URL for a key: empty means the operator's ``provider.base_url`` as it is now
    (stored as that URL, so a later change of the operator's gateway never sends the key
    elsewhere), else an allowed URL (a chat admin) or any http(s) URL (the operator).
    :class:`KeyProblem` ``byok.bad_base_url`` names the allowed."""
    value = (raw or "").strip().rstrip("/") or settings.provider.base_url
    allowed = allowed_base_urls(settings)
    ok = (
        value.startswith(("http://", "https://"))
        and len(value) <= URL_MAX
        and not any(c.isspace() or ord(c) < 0x20 for c in value)
    )
    if ok and (operator or value in allowed):
        return value
    raise KeyProblem("byok.bad_base_url", allowed=", ".join(allowed))


def still_allowed(row: dict[str, Any], settings: Settings) -> bool:
    """A stored key's gateway is still one the operator allows: any, for a key the operator
    set; for a chat admin's, one of ``byok.allowed_base_urls`` as they are now (a gateway
    taken off the list gets no more keys)."""
    url = row["base_url"] or settings.provider.base_url
    return row["set_by"] == OPERATOR or url in allowed_base_urls(settings)


def allowed_base_urls(settings: Settings) -> list[str]:
    urls = settings.byok.allowed_base_urls
    return list(urls) if urls is not None else [settings.provider.base_url]


class CommunityKeys:
    """Reads and writes communities' keys for one service (sealing with the deployment's
    ``PIXELSMITH_SECRET_KEY``)."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self._sealer: Sealer | None = None

    @property
    def enabled(self) -> bool:
        return self.settings.byok.enabled

    async def choose(self, community_scope: str | None, *, stored: bool = False) -> KeyChoice:
        """The key that serves a job of ``community_scope`` (see the module docstring);
        raises :class:`KeyProblem` when its jobs must stop. ``stored``: the stored key even
        while ``byok.enabled`` is off (to test it)."""
        if community_scope is None or not (self.enabled or stored):
            return OPERATORS
        # Read for every job (one primary-key read): a key set, replaced or removed in any
        # process serves the very next job everywhere, with no cache to go stale.
        row = await self.store.community_key(community_scope)
        if row is None:
            return OPERATORS
        if row["sealed"] is None:
            raise KeyProblem("byok.removed")
        if not still_allowed(row, self.settings):
            raise KeyProblem("byok.gateway_not_allowed")
        try:
            key = self.sealer().open(row["sealed"], what="gateway_key")
        except PixelsmithError:  # Unsealable, or PIXELSMITH_SECRET_KEY missing
            raise KeyProblem("byok.unsealable") from None
        redact_also(key)  # should it ever reach a log line, like the operator's own secrets
        return KeyChoice(
            pool=pool_of(row["fingerprint"]),
            key_ref=row["fingerprint"],
            api_key=key,
            base_url=row["base_url"],
        )

    def sealer(self) -> Sealer:
        if self._sealer is None:
            self._sealer = _sealer(self.settings)
        return self._sealer

    async def save(
        self, community_scope: str, api_key: str, base_url: str | None, *, by: Any
    ) -> str:
        """Seal and store ``api_key`` (already cleaned) for the community; its fingerprint."""
        from core.sealed import fingerprint

        sealed = self.sealer().seal(api_key)
        print_ = fingerprint(api_key)
        await self.store.save_community_key(
            community_scope, sealed=sealed, fingerprint=print_, base_url=base_url, by=by
        )
        return print_

    async def remove(self, community_scope: str, *, by: Any, forget: bool = False) -> str:
        """Remove the community's key. Returns ``none`` (there was none), ``fallback`` (its
        jobs now use the operator's key) or ``stopped`` (its jobs stop until a new key)."""
        row = await self.store.community_key(community_scope)
        if row is None:
            return "none"
        if forget or self.settings.byok.fallback_to_operator:
            await self.store.drop_community_key(community_scope, by=by)
            return "fallback"
        if row["sealed"] is None:
            return "stopped"
        await self.store.save_community_key(
            community_scope, sealed=None, fingerprint=None, base_url=None, by=by
        )
        return "stopped"

    async def listing(self) -> list[KeyInfo]:
        """Every stored key, by community (fingerprints; each one opened once to tell)."""
        return [self._info(r) for r in await self.store.community_keys()]

    async def info(self, community_scope: str) -> KeyInfo | None:
        """What is stored for one community (only its own row is read and opened)."""
        row = await self.store.community_key(community_scope)
        return None if row is None else self._info(row)

    def _info(self, row: dict[str, Any]) -> KeyInfo:
        opens = False
        if row["sealed"] is not None:
            try:
                self.sealer().open(row["sealed"], what="gateway_key")
                opens = True
            except PixelsmithError:
                opens = False
        return KeyInfo(
            community_scope=row["community_scope"],
            fingerprint=row["fingerprint"],
            base_url=row["base_url"],
            set_by=row["set_by"],
            set_at=row["set_at"],
            checked_at=row["checked_at"],
            check=row["check"],
            opens=opens,
        )

    async def rotate(self) -> tuple[int, int]:
        """Re-seal every sealed value (communities' keys, platform installs' tokens) with the
        current (first) secret; all or none. Returns (keys, installs)."""
        sealer = self.sealer()
        return await self.store.reseal_secrets(
            lambda sealed, what: sealer.reseal(sealed, what=what)
        )
