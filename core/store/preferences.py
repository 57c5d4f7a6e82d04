"""Member preferences (``/settings``): read, merge, clear one member's row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from core.store.clock import now_or
from core.store.engine import PRIORITY_ACK, Room
from core.store.statements import PREFERENCE


class PreferenceRoom(Room):
    async def get_preferences(self, scope: str) -> dict[str, Any]:
        """The stored preferences of the member ``scope`` (``{}``: none set). Served before any
        other database work: a chat adapter's acknowledgement waits for it."""
        return await self._run(PRIORITY_ACK, self._get_preferences_sync, scope)

    def _get_preferences_sync(self, scope: str) -> dict[str, Any]:
        with self._db.transaction(write=False) as tx:
            found = tx.execute(
                select(PREFERENCE.c.prefs).where(PREFERENCE.c.scope == scope)
            ).scalar()
            return dict(found) if isinstance(found, dict) else {}

    async def set_preferences(
        self, scope: str, changes: dict[str, Any], *, now: datetime | None = None
    ) -> dict[str, Any]:
        """Merge ``changes`` into the member's row (a None value removes that preference);
        returns what is stored now. A row left empty is deleted."""
        return await self._call(self._set_preferences_sync, scope, changes, now_or(now))

    def _set_preferences_sync(
        self, scope: str, changes: dict[str, Any], now: datetime
    ) -> dict[str, Any]:
        with self._db.transaction() as tx:
            current = tx.execute(
                select(PREFERENCE.c.prefs).where(PREFERENCE.c.scope == scope)
            ).scalar()
            merged = dict(current) if isinstance(current, dict) else {}
            for key, value in changes.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            if not merged:
                tx.execute(PREFERENCE.delete().where(PREFERENCE.c.scope == scope))
                return {}
            stmt = self._db.sql.insert(PREFERENCE).values(scope=scope, prefs=merged, updated_at=now)
            tx.execute(
                stmt.on_conflict_do_update(
                    index_elements=["scope"],
                    set_={"prefs": stmt.excluded.prefs, "updated_at": stmt.excluded.updated_at},
                )
            )
            return merged
