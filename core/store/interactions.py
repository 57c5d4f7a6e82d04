"""Interaction state (table ``interaction``): saved, read and swept; what a row means and who
may read it is decided by the service (:mod:`core.rooms.interactions`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from core.store.clock import now_or
from core.store.engine import Room
from core.store.statements import INTERACTION


class InteractionRoom(Room):
    async def save_interaction(self, row: dict[str, Any], *, replace: bool = False) -> bool:
        """Insert ``row`` (the table's columns). A token already there is left alone (False),
        or, with ``replace``, overwritten (a job's kept inputs written again)."""
        return await self._call(self._save_interaction_sync, dict(row), replace)

    def _save_interaction_sync(self, row: dict[str, Any], replace: bool) -> bool:
        stmt = self._db.sql.insert(INTERACTION).values(**row)
        if replace:
            columns = {k: stmt.excluded[k] for k in row if k != "token"}
            stmt = stmt.on_conflict_do_update(index_elements=["token"], set_=columns)
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=["token"])
        with self._db.transaction() as tx:
            done = tx.execute(stmt.returning(INTERACTION.c.token)).first()
            return done is not None

    async def load_interaction(
        self, token: str, *, now: datetime | None = None
    ) -> dict[str, Any] | None:
        """The row of ``token`` while it has not expired, else None."""
        return await self._call(self._load_interaction_sync, token, now_or(now))

    def _load_interaction_sync(self, token: str, now: datetime) -> dict[str, Any] | None:
        with self._db.transaction(write=False) as tx:
            found = (
                tx.execute(
                    select(INTERACTION).where(
                        INTERACTION.c.token == token, INTERACTION.c.expires_at > now
                    )
                )
                .mappings()
                .first()
            )
            return dict(found) if found is not None else None

    async def drop_interaction(self, token: str) -> bool:
        return await self._call(self._drop_interaction_sync, token)

    def _drop_interaction_sync(self, token: str) -> bool:
        with self._db.transaction() as tx:
            done = tx.execute(INTERACTION.delete().where(INTERACTION.c.token == token))
            return bool(done.rowcount)

    async def sweep_interactions(self, *, now: datetime | None = None) -> int:
        """Delete every expired row (the reaper's timer); returns how many."""
        return await self._call(self._sweep_interactions_sync, now_or(now))

    def _sweep_interactions_sync(self, now: datetime) -> int:
        with self._db.transaction() as tx:
            done = tx.execute(INTERACTION.delete().where(INTERACTION.c.expires_at <= now))
            return int(done.rowcount)
