"""Admin writes: grants, bans, limit overrides, and the per-database settings."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from core.store.clock import now_or, period_key, utc
from core.store.engine import Room
from core.store.policy import usd_to_micros
from core.store.statements import BAN, BUCKET, GRANT, OVERRIDE, SETTING


class AdminRoom(Room):
    async def grant(
        self,
        scope: str,
        amount: float,
        unit: str,
        period: str = "month",
        *,
        reason: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """Give ``scope`` extra allowance for the current ``period`` (``day``/``month``).

        ``unit``: ``images`` (int), ``usd`` (float, stored as micro-USD) or ``jobs``. A negative
        amount takes a grant back (never below zero in total).
        """
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
        await self._call(self._grant_sync, scope, key, unit, value, reason, at)

    def _grant_sync(
        self, scope: str, period: str, unit: str, amount: int, reason: str | None, now: datetime
    ) -> None:
        ins = self._db.sql.insert
        grant = ins(BUCKET).values(
            scope=bindparam("scope"),
            period=bindparam("period"),
            unit=bindparam("unit"),
            limit=0,
            granted=bindparam("amount"),
            reserved=0,
            spent=0,
        )
        upsert = grant.on_conflict_do_update(
            index_elements=["scope", "period", "unit"],
            set_={"granted": BUCKET.c.granted + grant.excluded.granted},
        )
        with self._db.transaction() as tx:
            tx.execute(
                GRANT.insert().values(
                    scope=scope,
                    period=period,
                    unit=unit,
                    amount=amount,
                    reason=reason,
                    created_at=now,
                )
            )
            tx.execute(upsert, {"scope": scope, "period": period, "unit": unit, "amount": amount})

    async def ban(
        self, scope: str, reason: str | None = None, *, now: datetime | None = None
    ) -> bool:
        """Ban ``scope`` (a user or a community). Returns False if it was already banned."""
        return await self._call(self._ban_sync, scope, reason, now_or(now))

    def _ban_sync(self, scope: str, reason: str | None, now: datetime) -> bool:
        with self._db.transaction() as tx:
            done = tx.execute(
                self._db.sql.insert(BAN)
                .values(scope=scope, reason=reason, created_at=now)
                .on_conflict_do_nothing(index_elements=["scope"])
                .returning(BAN.c.scope)
            ).first()
            return done is not None

    async def unban(self, scope: str) -> bool:
        """Lift a ban. Returns False if ``scope`` was not banned."""
        return await self._call(self._unban_sync, scope)

    def _unban_sync(self, scope: str) -> bool:
        with self._db.transaction() as tx:
            return bool(tx.execute(BAN.delete().where(BAN.c.scope == scope)).rowcount)

    async def bans(self) -> list[tuple[str, str | None, datetime]]:
        return await self._call(self._bans_sync)

    def _bans_sync(self) -> list[tuple[str, str | None, datetime]]:
        with self._db.transaction(write=False) as tx:
            return [
                (r.scope, r.reason, utc(r.created_at))
                for r in tx.execute(select(BAN).order_by(BAN.c.scope))
            ]

    async def set_override(
        self, scope: str, limits: dict[str, Any], *, now: datetime | None = None
    ) -> dict[str, Any]:
        """Merge config-style ``limits`` (``{"user_daily_images": 5, "user_daily_usd": None}``;
        None = unlimited) into the database override of ``scope``; they win over the config.
        Returns the override now in force."""
        return await self._call(self._set_override_sync, scope, limits, now_or(now))

    def _set_override_sync(
        self, scope: str, limits: dict[str, Any], now: datetime
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
            return merged

    async def clear_override(self, scope: str) -> bool:
        return await self._call(self._clear_override_sync, scope)

    def _clear_override_sync(self, scope: str) -> bool:
        with self._db.transaction() as tx:
            return bool(tx.execute(OVERRIDE.delete().where(OVERRIDE.c.scope == scope)).rowcount)

    async def get_override(self, scope: str) -> dict[str, Any] | None:
        return await self._call(self._get_override_sync, scope)

    def _get_override_sync(self, scope: str) -> dict[str, Any] | None:
        with self._db.transaction(write=False) as tx:
            found = tx.execute(select(OVERRIDE.c.limits).where(OVERRIDE.c.scope == scope)).scalar()
            return None if found is None else dict(found)

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
