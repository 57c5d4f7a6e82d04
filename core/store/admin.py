"""Admin writes: grants, bans, limit overrides, and the per-database settings."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from core.store.clock import now_or, period_key, utc
from core.store.engine import Room, Tx
from core.store.policy import usd_to_micros
from core.store.statements import AUDIT, BAN, BUCKET, GRANT, OVERRIDE, SETTING, USED_TOKEN
from core.types import OPERATOR, AuditEntry, Identity


def audit_row(
    tx: Tx,
    by: Identity,
    action: str,
    target: str,
    before: Any,
    after: Any,
    now: datetime,
) -> None:
    """One append-only audit row, in the transaction of the action it records."""
    tx.execute(
        AUDIT.insert().values(
            actor=OPERATOR if by.is_operator else by.user_scope,
            community_scope=by.community_scope,
            action=action,
            target=target,
            before=before,
            after=after,
            created_at=now,
        )
    )


class AdminRoom(Room):
    async def grant(
        self,
        scope: str,
        amount: float,
        unit: str,
        period: str = "month",
        *,
        reason: str | None = None,
        by: Identity | None = None,
        now: datetime | None = None,
    ) -> int:
        """Give ``scope`` extra allowance for the current ``period`` (``day`` or ``month``).

        ``unit``: ``images`` (int), ``usd`` (float, stored as micro-USD) or ``jobs``. A negative
        amount takes a grant back, never below zero: what is taken is at most what was granted
        for that period. On a ``member:`` scope it is a community's grant to one member: it
        raises the community's limit for them, never the operator's bound. Returns the amount
        actually granted (in the stored unit). ``by``: who, for the audit log.
        """
        if period not in ("day", "month"):
            raise ValueError(f"period must be day or month, not {period!r}")
        if unit == "usd":
            unit, value = "micro_usd", usd_to_micros(float(amount))
        elif unit in ("images", "jobs", "micro_usd"):
            value = int(amount)
            if value != amount:
                raise ValueError(f"{unit} must be a whole number")
        else:
            raise ValueError(f"unknown unit {unit!r}")
        at = now_or(now)
        key = "live" if unit == "jobs" else period_key(period, at)
        return await self._call(self._grant_sync, scope, key, unit, value, reason, by, at)

    def _grant_sync(
        self,
        scope: str,
        period: str,
        unit: str,
        amount: int,
        reason: str | None,
        by: Identity | None,
        now: datetime,
    ) -> int:
        ins = self._db.sql.insert
        key = {"scope": scope, "period": period, "unit": unit}
        with self._db.transaction() as tx:
            given = tx.execute(
                select(BUCKET.c.granted)
                .where(*(BUCKET.c[k] == v for k, v in key.items()))
                .with_for_update()
            ).scalar()
            before = int(given or 0)
            amount = max(amount, -before)  # take back at most what was given
            if amount == 0:
                return 0
            tx.execute(GRANT.insert().values(**key, amount=amount, reason=reason, created_at=now))
            if amount < 0:  # the bucket exists (something was granted): never insert < 0
                tx.execute(
                    update(BUCKET)
                    .where(*(BUCKET.c[k] == v for k, v in key.items()))
                    .values(granted=BUCKET.c.granted + amount)
                )
            else:
                grant = ins(BUCKET).values(**key, limit=0, granted=amount, reserved=0, spent=0)
                tx.execute(
                    grant.on_conflict_do_update(
                        index_elements=["scope", "period", "unit"],
                        set_={"granted": BUCKET.c.granted + grant.excluded.granted},
                    )
                )
            if by is not None:
                after = {"period": period, "unit": unit, "granted": before + amount}
                audit_row(tx, by, "grant", scope, {**after, "granted": before}, after, now)
            return amount

    async def ban(
        self,
        scope: str,
        reason: str | None = None,
        *,
        by: Identity | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Ban ``scope`` (a user, a member or a community). False if it was already banned."""
        return await self._call(self._ban_sync, scope, reason, by, now_or(now))

    def _ban_sync(self, scope: str, reason: str | None, by: Identity | None, now: datetime) -> bool:
        with self._db.transaction() as tx:
            done = tx.execute(
                self._db.sql.insert(BAN)
                .values(scope=scope, reason=reason, created_at=now)
                .on_conflict_do_nothing(index_elements=["scope"])
                .returning(BAN.c.scope)
            ).first()
            if done is not None and by is not None:
                audit_row(tx, by, "ban", scope, None, {"reason": reason}, now)
            return done is not None

    async def unban(self, scope: str, *, by: Identity | None = None) -> bool:
        """Lift a ban. Returns False if ``scope`` was not banned."""
        return await self._call(self._unban_sync, scope, by, now_or(None))

    def _unban_sync(self, scope: str, by: Identity | None, now: datetime) -> bool:
        with self._db.transaction() as tx:
            found = tx.execute(select(BAN.c.reason).where(BAN.c.scope == scope)).first()
            if found is None:
                return False
            tx.execute(BAN.delete().where(BAN.c.scope == scope))
            if by is not None:
                audit_row(tx, by, "unban", scope, {"reason": found.reason}, None, now)
            return True

    async def bans(self, prefix: str | None = None) -> list[tuple[str, str | None, datetime]]:
        """Every ban (scope, reason, since), or those whose scope starts with ``prefix``."""
        return await self._call(self._bans_sync, prefix)

    def _bans_sync(self, prefix: str | None) -> list[tuple[str, str | None, datetime]]:
        stmt = select(BAN).order_by(BAN.c.scope)
        if prefix is not None:
            stmt = stmt.where(BAN.c.scope.startswith(prefix, autoescape=True))
        with self._db.transaction(write=False) as tx:
            return [(r.scope, r.reason, utc(r.created_at)) for r in tx.execute(stmt)]

    async def set_override(
        self,
        scope: str,
        limits: dict[str, Any],
        *,
        by: Identity | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Merge config-style ``limits`` (``{"user_daily_images": 5, "user_daily_usd": None}``;
        None = unlimited) into the database override of ``scope``. On a ``user:`` or
        ``community:`` scope it is the operator's (it may raise the config); on a ``member:``
        scope it is a community's, which only restricts (see :mod:`core.store.policy`).
        Returns the override now in force."""
        return await self._call(self._set_override_sync, scope, limits, by, now_or(now))

    def _set_override_sync(
        self, scope: str, limits: dict[str, Any], by: Identity | None, now: datetime
    ) -> dict[str, Any]:
        with self._db.transaction() as tx:
            current = tx.execute(
                select(OVERRIDE.c.limits).where(OVERRIDE.c.scope == scope)
            ).scalar()
            merged = {**(current or {}), **limits}
            stmt = self._db.sql.insert(OVERRIDE).values(scope=scope, limits=merged, updated_at=now)
            tx.execute(
                stmt.on_conflict_do_update(
                    index_elements=["scope"],
                    set_={"limits": stmt.excluded.limits, "updated_at": stmt.excluded.updated_at},
                )
            )
            if by is not None:
                audit_row(tx, by, "limits", scope, current, merged, now)
            return merged

    async def clear_override(self, scope: str, *, by: Identity | None = None) -> bool:
        return await self._call(self._clear_override_sync, scope, by, now_or(None))

    def _clear_override_sync(self, scope: str, by: Identity | None, now: datetime) -> bool:
        with self._db.transaction() as tx:
            current = tx.execute(
                select(OVERRIDE.c.limits).where(OVERRIDE.c.scope == scope)
            ).scalar()
            if current is None:
                return False
            tx.execute(OVERRIDE.delete().where(OVERRIDE.c.scope == scope))
            if by is not None:
                audit_row(tx, by, "limits_clear", scope, current, None, now)
            return True

    async def get_override(self, scope: str) -> dict[str, Any] | None:
        return await self._call(self._get_override_sync, scope)

    def _get_override_sync(self, scope: str) -> dict[str, Any] | None:
        with self._db.transaction(write=False) as tx:
            found = tx.execute(select(OVERRIDE.c.limits).where(OVERRIDE.c.scope == scope)).scalar()
            return None if found is None else dict(found)

    async def audit(
        self, community_scope: str | None = None, *, everywhere: bool = False, limit: int = 20
    ) -> list[AuditEntry]:
        """The newest audit rows first: of ``community_scope`` (None: the operator's own), or
        of every community with ``everywhere``."""
        limit = max(1, min(int(limit), 1000))
        return await self._call(self._audit_sync, community_scope, everywhere, limit)

    def _audit_sync(
        self, community_scope: str | None, everywhere: bool, limit: int
    ) -> list[AuditEntry]:
        stmt = select(AUDIT).order_by(AUDIT.c.id.desc()).limit(limit)
        if not everywhere:
            col = AUDIT.c.community_scope
            stmt = stmt.where(col.is_(None) if community_scope is None else col == community_scope)
        with self._db.transaction(write=False) as tx:
            return [
                AuditEntry(
                    id=r.id,
                    actor=r.actor,
                    community_scope=r.community_scope,
                    action=r.action,
                    target=r.target,
                    before=r.before,
                    after=r.after,
                    at=utc(r.created_at),
                )
                for r in tx.execute(stmt)
            ]

    async def secret(self, name: str) -> str:
        """A random value generated once per database and kept (get or create, race-free)."""
        return await self._call(self._secret_sync, name, secrets.token_hex(32), now_or(None))

    def _secret_sync(self, name: str, candidate: str, now: datetime) -> str:
        with self._db.transaction() as tx:
            tx.execute(
                self._db.sql.insert(SETTING)
                .values(key=name, value=candidate, created_at=now)
                .on_conflict_do_nothing(index_elements=["key"])
            )
            value = tx.execute(select(SETTING.c.value).where(SETTING.c.key == name)).scalar_one()
        return str(value)

    async def use_once(
        self, nonce: str, expires_at: datetime, *, now: datetime | None = None
    ) -> bool:
        """Mark a one-time token used: True for the first caller in any process, False for
        every later one (a replay). Rows of tokens past their expiry are pruned on the way."""
        return await self._call(self._use_once_sync, nonce, expires_at, now_or(now))

    def _use_once_sync(self, nonce: str, expires_at: datetime, now: datetime) -> bool:
        with self._db.transaction() as tx:
            tx.execute(USED_TOKEN.delete().where(USED_TOKEN.c.expires_at < now))
            done = tx.execute(
                self._db.sql.insert(USED_TOKEN)
                .values(nonce=nonce, expires_at=expires_at)
                .on_conflict_do_nothing(index_elements=["nonce"])
                .returning(USED_TOKEN.c.nonce)
            ).first()
            return done is not None

    async def used_once(self, nonce: str) -> bool:
        """Whether a one-time token was used already (it stays so until its expiry)."""
        return await self._call(self._used_once_sync, nonce)

    def _used_once_sync(self, nonce: str) -> bool:
        with self._db.transaction(write=False) as tx:
            found = tx.execute(select(USED_TOKEN.c.nonce).where(USED_TOKEN.c.nonce == nonce))
            return found.first() is not None
