"""The admin calls of :class:`~core.service.ImageService` (a room of it, as a mixin): limits,
grants, bans, reports, the audit log, one-time tokens and the reaper's notices. Every call takes
the caller and acts only inside its power: a community admin on its own community's members and
reports (their member scopes there), the operator on any scope; anything else is
:class:`~core.errors.Forbidden`, nothing changed. Each change is one audited store write.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from core.errors import Forbidden, InvalidRequest
from core.store import EVERYWHERE
from core.types import AuditEntry, BanEntry, DailySpend, Identity, JobView, LedgerRow, UsageRow

if TYPE_CHECKING:
    from core.store import Store


class AdminRoom:
    """Needs the store ImageService opened."""

    store: Store

    @staticmethod
    def _target(caller: Identity, target: str | None) -> str:
        """The scope an admin call acts on. A community admin names a user of its own
        platform by id (their member scope in the caller's community), or None for the
        community's default for every member. The operator names any scope
        (``user:<p>:<id>``, ``community:<p>:<id>``, ``member:...``)."""
        if caller.is_operator:
            if not target or ":" not in target:
                raise Forbidden(target=target)
            return target
        if not caller.is_admin or caller.tenant_id is None:
            raise Forbidden(target=target)
        if target is None:
            members = caller.members_scope
            assert members is not None
            return members
        if not target or any(c in target for c in ":*") or len(target) > 64:
            raise Forbidden(target=target)
        return caller.member_of_mine(target).member_scope

    @staticmethod
    def _within(caller: Identity) -> str | None:
        """Which community's reports the caller may read (EVERYWHERE for the operator)."""
        if caller.is_operator:
            return EVERYWHERE
        if not caller.is_admin or caller.community_scope is None:
            raise Forbidden()
        return caller.community_scope

    async def admin_set_limits(
        self, caller: Identity, target: str | None, limits: dict[str, Any]
    ) -> dict[str, Any]:
        """Set limits (config-style keys; None = unlimited) for a member or, with ``target``
        None, the caller's community. A community's limits only restrict (see
        :mod:`core.store.policy`). Audited."""
        return await self.store.set_override(self._target(caller, target), limits, by=caller)

    async def admin_grant(
        self,
        caller: Identity,
        target: str,
        amount: float,
        unit: str = "images",
        period: str = "month",
    ) -> int:
        """Extra allowance for this ``period`` (``day``/``month``); negative takes it back (never
        below zero). Returns what was actually granted (stored unit). Audited."""
        if target is None:
            raise Forbidden(target=target)
        scope = self._target(caller, target)
        return await self.store.grant(scope, amount, unit, period, by=caller)

    async def admin_ban(self, caller: Identity, target: str, reason: str | None = None) -> bool:
        if target is None:
            raise Forbidden(target=target)
        return await self.store.ban(self._target(caller, target), reason, by=caller)

    async def admin_get_limits(self, caller: Identity, target: str | None) -> dict[str, Any] | None:
        """The database override of a member or (``target`` None) the caller's community, or
        for the operator of any scope (config-style keys; a None value = unlimited)."""
        return await self.store.get_override(self._target(caller, target))

    async def admin_clear_limits(self, caller: Identity, target: str | None) -> bool:
        """Remove that override (the limits above it apply again). Audited."""
        return await self.store.clear_override(self._target(caller, target), by=caller)

    async def check(self) -> list[str]:
        """Counters vs. the ledger (``[]`` when they agree): ``pixelsmith usage --check``."""
        return await self.store.check()

    async def attention(self) -> list[str]:
        """Jobs for an admin to look at (past their lease, capped costs, unknown outcomes)."""
        return await self.store.attention()

    async def admin_unban(self, caller: Identity, target: str) -> bool:
        if target is None:
            raise Forbidden(target=target)
        return await self.store.unban(self._target(caller, target), by=caller)

    async def usage(
        self, caller: Identity, since: date | None = None, by: str = "user"
    ) -> list[UsageRow]:
        """Charged jobs grouped by ``by``: the caller's community only (the operator: all)."""
        return await self.store.usage(since, _group(by), within=self._within(caller))

    async def daily_spend(
        self, caller: Identity, since: date | None = None, by: str = "community"
    ) -> list[DailySpend]:
        return await self.store.daily_spend(since, _group(by), within=self._within(caller))

    async def attention_jobs(self, caller: Identity, limit: int = 50) -> list[JobView]:
        """Jobs of the caller's community (the operator: all) that need an admin's eye: outcome
        unknown (charged at the worst case) or cost capped at the sanity bound."""
        return await self.store.attention_jobs(within=self._within(caller), limit=limit)

    async def ledger(self, caller: Identity, since: date | None = None) -> list[LedgerRow]:
        """The ledger entries of the caller's community's jobs (the operator: all)."""
        return await self.store.ledger(since, within=self._within(caller))

    async def admin_bans(self, caller: Identity) -> list[BanEntry]:
        """The bans a caller may lift: a community admin's are the members of their community
        (named by member id, as :meth:`admin_unban` takes them); the operator's, every scope."""
        if caller.is_operator:
            return [BanEntry(s, r, at) for s, r, at in await self.store.bans()]
        if not caller.is_admin or caller.tenant_id is None:
            raise Forbidden()
        prefix = caller.member_of_mine("").member_scope  # member:<platform>:<community>:
        return [
            BanEntry(scope.removeprefix(prefix), reason, at)
            for scope, reason, at in await self.store.bans(prefix)
        ]

    async def audit(
        self, caller: Identity, limit: int = 20, *, community: str | None = None
    ) -> list[AuditEntry]:
        """The newest admin actions of the caller's community (the operator: every one, or
        those of ``community`` — a ``community:<p>:<id>`` scope — when given)."""
        within = self._within(caller)
        if within == EVERYWHERE:
            if community is not None:
                return await self.store.audit(community, limit=limit)
            return await self.store.audit(everywhere=True, limit=limit)
        return await self.store.audit(within, limit=limit)

    async def use_once(self, token: str, expires_at: datetime) -> bool:
        """Mark a one-time token (an adapter's hashed link id, at most 64 characters) used:
        True for the first caller on this database, False for a replay. Kept until
        ``expires_at``, after which the token is refused for its age anyway."""
        if not token or len(token) > 64:
            raise ValueError("a one-time token id is 1 to 64 characters")
        return await self.store.use_once(token, expires_at)

    async def used_once(self, token: str) -> bool:
        """Whether a one-time token was used already on this database."""
        return await self.store.used_once(token)

    async def notices(self) -> list[JobView]:
        """Jobs the reaper ended whose users have not been told yet."""
        return await self.store.unnotified()

    async def mark_notified(self, job_id: int) -> None:
        await self.store.mark_notified(job_id)

    async def claim_notice(self, job_id: int) -> bool:
        """True for exactly one process: the one that tells the user of this reaped job."""
        return await self.store.claim_notice(job_id)

    async def release_notice(self, job_id: int) -> None:
        """Telling failed: let another process (or a later tick) try again."""
        await self.store.release_notice(job_id)


def _group(by: str) -> Literal["user", "community", "model", "key"]:
    if by == "key":
        return "key"
    if by == "user":
        return "user"
    if by == "community":
        return "community"
    if by == "model":
        return "model"
    raise InvalidRequest("invalid.generic")
