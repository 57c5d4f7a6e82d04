"""Communities' own gateway keys in :class:`~core.service.ImageService` (a room of it, as a
mixin): which key, provider and upstream budget serve a job, and the admin calls that set,
remove, list, test and re-seal keys. The rules are :mod:`core.keys`'s.

Who may do what: a community admin acts on its own community's key only (the scope comes from
the caller, never from what it typed); the operator names any ``community:<platform>:<id>``.
Nobody reads a key back: calls answer fingerprints.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import aiohttp

from core.budget import Budget, make_budget
from core.config import Settings
from core.errors import Forbidden
from core.keys import (
    OPERATORS,
    CommunityKeys,
    KeyChoice,
    KeyInfo,
    KeyProblem,
    clean_base_url,
    clean_key,
)
from core.providers.base import Provider
from core.providers.keyed import KeyedProviders
from core.types import Identity

if TYPE_CHECKING:
    from core.store import Store

COMMUNITY_PREFIX = "community:"


class KeysRoom:
    """Needs what ImageService sets up: settings, store, provider, http, demo and its
    operator budget ``queue``; :meth:`_open_keys` in its constructor."""

    settings: Settings
    store: Store
    provider: Provider
    http: aiohttp.ClientSession | None
    demo: bool
    queue: Budget

    def _open_keys(self) -> None:
        self.keys = CommunityKeys(self.settings, self.store)
        self._pools: dict[str, Budget] = {}
        self._own_providers: KeyedProviders | None = None
        self._own_http: aiohttp.ClientSession | None = None

    async def _close_keys(self) -> None:
        for budget in self._pools.values():
            await budget.close()
        if self._own_providers is not None:
            await self._own_providers.close()
        if self._own_http is not None:
            await self._own_http.close()

    # -- serving a job -----------------------------------------------------------------------

    async def key_for(self, identity: Identity) -> KeyChoice:
        """The key that serves ``identity``'s jobs; :class:`KeyProblem` when they must stop
        (nothing reserved yet). The demo never calls upstream: always the operator's."""
        if self.demo:
            return OPERATORS
        return await self.keys.choose(identity.community_scope)

    async def key_unchanged(self, identity: Identity, choice: KeyChoice) -> bool:
        """The community's key is still ``choice`` (asked once a job's slot is granted: a key
        removed or replaced while the job waited must not be used for it)."""
        try:
            now = await self.key_for(identity)
        except KeyProblem:
            return False
        return now.key_ref == choice.key_ref and now.base_url == choice.base_url

    def budget_for(self, choice: KeyChoice) -> Budget:
        """The upstream budget of that key: the operator's, or the community key's own."""
        if not choice.own:
            return self.queue
        budget = self._pools.get(choice.pool)
        if budget is None:
            byok = self.settings.byok
            budget = self._pools[choice.pool] = make_budget(
                self.store,
                limit=byok.max_concurrency,
                per_minute=byok.requests_per_minute,
                lease_s=self.settings.database.lease_s,
                pool=choice.pool,
            )
        return budget

    def _budgets(self) -> list[Budget]:
        return [self.queue, *self._pools.values()]

    @contextlib.asynccontextmanager
    async def provider_for(self, choice: KeyChoice) -> AsyncIterator[Provider]:
        """The provider that sends with that key (held open while the block runs)."""
        if not choice.own or choice.api_key is None:
            yield self.provider
            return
        if self._own_providers is None:
            self._own_providers = KeyedProviders(self._build_own)
        async with self._own_providers.lease(choice.api_key, choice.base_url) as provider:
            yield provider

    def _build_own(self, api_key: str, base_url: str | None) -> Provider:
        from core.providers.routing import build_provider

        http = self.http
        if http is None:
            if self._own_http is None:
                self._own_http = aiohttp.ClientSession()
            http = self._own_http
        return build_provider(self.settings, http, api_key=api_key, base_url=base_url)

    # -- admin ---------------------------------------------------------------------------------

    def _key_scope(self, caller: Identity, community: str | None) -> str:
        """The community whose key a call acts on (see the module docstring)."""
        if caller.is_operator:
            if not community or not community.startswith(COMMUNITY_PREFIX):
                raise Forbidden(target=community)
            return community
        if not caller.is_admin or caller.community_scope is None or community is not None:
            raise Forbidden(target=community)
        if not self.settings.byok.enabled:
            raise KeyProblem("byok.disabled")
        return caller.community_scope

    async def admin_set_key(
        self,
        caller: Identity,
        api_key: str,
        base_url: str | None = None,
        *,
        community: str | None = None,
    ) -> str:
        """Store the community's own key (checked, sealed, never echoed); its fingerprint.
        A chat admin's ``base_url`` must be an allowed one (``byok.allowed_base_urls``)."""
        scope = self._key_scope(caller, community)
        key = clean_key(api_key)
        url = clean_base_url(base_url, self.settings, operator=caller.is_operator)
        old = await self._stored(scope)
        shown = await self.keys.save(scope, key, url, by=caller)
        await self._drop_provider(old)
        return shown

    async def admin_remove_key(
        self, caller: Identity, *, community: str | None = None, forget: bool = False
    ) -> str:
        """Remove it: ``none`` / ``fallback`` (the operator's key serves again) / ``stopped``
        (``byok.fallback_to_operator`` is off: jobs stop until a new key). ``forget``
        (operator only) always lets the community back on the operator's key."""
        scope = self._key_scope(caller, community)
        old = await self._stored(scope)
        outcome = await self.keys.remove(scope, by=caller, forget=forget and caller.is_operator)
        await self._drop_provider(old)
        return outcome

    async def _stored(self, scope: str) -> KeyChoice | None:
        try:
            return await self.keys.choose(scope, stored=True)
        except KeyProblem:
            return None

    async def _drop_provider(self, old: KeyChoice | None) -> None:
        """Close this process's client of a replaced or removed key (once no job uses it);
        other processes close theirs as it ages out of their cache of clients."""
        if old is not None and old.api_key is not None and self._own_providers is not None:
            await self._own_providers.drop(old.api_key, old.base_url)

    async def admin_key(self, caller: Identity, *, community: str | None = None) -> KeyInfo | None:
        """What is stored for the community (fingerprint, base URL, last test), or None."""
        return await self.keys.info(self._key_scope(caller, community))

    async def key_group(self, caller: Identity, community: str) -> str | None:
        """The group a community's install belongs to (a Slack workspace's Enterprise Grid
        org), if any: its members' jobs are the group's, so they use the group's key."""
        if not caller.is_operator:
            raise Forbidden()
        platform, _, key = community.removeprefix(COMMUNITY_PREFIX).partition(":")
        found = await self.store.find_install(platform, key)
        group = found.get("group_id") if found else None
        return f"{COMMUNITY_PREFIX}{platform}:{group}" if group and group != key else None

    async def community_keys(self, caller: Identity) -> list[KeyInfo]:
        """Every stored key (the operator only)."""
        if not caller.is_operator:
            raise Forbidden()
        return await self.keys.listing()

    async def test_key(self, caller: Identity, *, community: str | None = None) -> str:
        """Ask the key's gateway for its model list (``GET /models``: free) and remember the
        outcome: ``ok``, ``rejected``, ``forbidden``, ``unreachable``, ``http_error``,
        ``unlisted``, or ``none`` (no key stored) / ``unsealable`` / ``removed``."""
        from core.diagnostics import probe_gateway

        scope = self._key_scope(caller, community)
        try:
            choice = await self.keys.choose(scope, stored=True)
        except KeyProblem as problem:
            return problem.key.removeprefix("byok.")
        if not choice.own or choice.api_key is None or choice.key_ref is None:
            return "none"
        base_url = choice.base_url or self.settings.provider.base_url
        probe = await probe_gateway(base_url, choice.api_key)
        await self.store.record_key_check(scope, choice.key_ref, probe.outcome)
        return probe.outcome

    async def rotate_keys(self, caller: Identity) -> tuple[int, int]:
        """Re-seal every stored key and platform install's tokens with the first
        ``PIXELSMITH_SECRET_KEY`` (the operator): (keys, installs)."""
        if not caller.is_operator:
            raise Forbidden()
        return await self.keys.rotate()
