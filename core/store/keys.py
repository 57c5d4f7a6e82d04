"""Communities' own gateway keys (table ``community_key``).

The store keeps rows and never sees a key in the clear: ``sealed`` arrives sealed
(:mod:`core.sealed`), and the audit log records fingerprints only. What a row means (which key
a job uses, whether a removed key falls back to the operator's) is :mod:`core.keys`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from core.store.admin import audit_row
from core.store.clock import now_or
from core.store.engine import Room
from core.store.statements import COMMUNITY_KEY, INSTALL
from core.types import OPERATOR, Identity


def _shown(row: Any) -> dict[str, Any] | None:
    """What the audit log keeps of a row: never the sealed value."""
    if row is None:
        return None
    return {"fingerprint": row["fingerprint"], "base_url": row["base_url"]}


class KeyRoom(Room):
    async def community_key(self, community_scope: str) -> dict[str, Any] | None:
        """The row of ``community_scope`` (sealed value included), or None."""
        return await self._call(self._community_key_sync, community_scope)

    def _community_key_sync(self, community_scope: str) -> dict[str, Any] | None:
        query = select(COMMUNITY_KEY).where(COMMUNITY_KEY.c.community_scope == community_scope)
        with self._db.transaction(write=False) as tx:
            found = tx.execute(query).mappings().first()
            return dict(found) if found is not None else None

    async def community_keys(self) -> list[dict[str, Any]]:
        """Every row, by community (``sealed`` included: callers show fingerprints only)."""
        return await self._call(self._community_keys_sync)

    def _community_keys_sync(self) -> list[dict[str, Any]]:
        query = select(COMMUNITY_KEY).order_by(COMMUNITY_KEY.c.community_scope)
        with self._db.transaction(write=False) as tx:
            return [dict(r) for r in tx.execute(query).mappings()]

    async def save_community_key(
        self,
        community_scope: str,
        *,
        sealed: str | None,
        fingerprint: str | None,
        base_url: str | None,
        by: Identity,
        check: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """Insert or replace the community's row (``sealed`` None: a removed key that does not
        fall back), audited as ``key_set`` / ``key_removed`` with fingerprints only."""
        await self._call(
            self._save_community_key_sync,
            community_scope,
            sealed,
            fingerprint,
            base_url,
            by,
            check,
            now_or(now),
        )

    def _save_community_key_sync(
        self,
        community_scope: str,
        sealed: str | None,
        fingerprint: str | None,
        base_url: str | None,
        by: Identity,
        check: str | None,
        now: datetime,
    ) -> None:
        row = {
            "community_scope": community_scope,
            "sealed": sealed,
            "fingerprint": fingerprint,
            "base_url": base_url,
            "set_by": OPERATOR if by.is_operator else by.user_scope,
            "set_at": now,
            "checked_at": now if check else None,
            "check": check,
        }
        stmt = self._db.sql.insert(COMMUNITY_KEY).values(**row)
        stmt = stmt.on_conflict_do_update(
            index_elements=["community_scope"],
            set_={k: stmt.excluded[k] for k in row if k != "community_scope"},
        )
        with self._db.transaction() as tx:
            before = (
                tx.execute(
                    select(COMMUNITY_KEY).where(COMMUNITY_KEY.c.community_scope == community_scope)
                )
                .mappings()
                .first()
            )
            tx.execute(stmt)
            action = "key_set" if sealed is not None else "key_removed"
            audit_row(tx, by, action, community_scope, _shown(before), _shown(row), now)

    async def drop_community_key(
        self, community_scope: str, *, by: Identity, now: datetime | None = None
    ) -> bool:
        """Delete the row (the community is back on the operator's key); audited."""
        return await self._call(self._drop_community_key_sync, community_scope, by, now_or(now))

    def _drop_community_key_sync(self, community_scope: str, by: Identity, now: datetime) -> bool:
        where = COMMUNITY_KEY.c.community_scope == community_scope
        with self._db.transaction() as tx:
            before = tx.execute(select(COMMUNITY_KEY).where(where)).mappings().first()
            if before is None:
                return False
            tx.execute(COMMUNITY_KEY.delete().where(where))
            audit_row(tx, by, "key_removed", community_scope, _shown(before), None, now)
            return True

    async def record_key_check(
        self, community_scope: str, fingerprint: str, check: str, *, now: datetime | None = None
    ) -> None:
        """Remember the outcome of testing the key ``fingerprint`` (a newer key is left alone)."""
        await self._call(self._record_key_check_sync, community_scope, fingerprint, check, now)

    def _record_key_check_sync(
        self, community_scope: str, fingerprint: str, check: str, now: datetime | None
    ) -> None:
        with self._db.transaction() as tx:
            tx.execute(
                update(COMMUNITY_KEY)
                .where(
                    COMMUNITY_KEY.c.community_scope == community_scope,
                    COMMUNITY_KEY.c.fingerprint == fingerprint,
                )
                .values(checked_at=now_or(now), check=check[:100])
            )

    async def reseal_secrets(self, reseal: Callable[[str, str], str]) -> tuple[int, int]:
        """Key rotation: re-seal every sealed value this database keeps, communities' gateway
        keys and platform installs' tokens, with ``reseal(sealed, what) -> sealed``, in one
        transaction: all or none (a value no configured secret opens stops it, and nothing is
        changed). Returns how many keys and installs were re-sealed."""
        return await self._call(self._reseal_sync, reseal)

    def _reseal_sync(self, reseal: Callable[[str, str], str]) -> tuple[int, int]:
        counts = []
        with self._db.transaction() as tx:
            for table, keys, what in (
                (COMMUNITY_KEY, ("community_scope",), "gateway_key"),
                (INSTALL, ("platform", "key"), "slack_token"),
            ):
                rows = (
                    tx.execute(
                        select(*(table.c[k] for k in keys), table.c.sealed).where(
                            table.c.sealed.is_not(None)
                        )
                    )
                    .mappings()
                    .all()
                )
                for r in rows:
                    tx.execute(
                        update(table)
                        .where(*(table.c[k] == r[k] for k in keys))
                        .values(sealed=reseal(r["sealed"], what))
                    )
                counts.append(len(rows))
        return counts[0], counts[1]
