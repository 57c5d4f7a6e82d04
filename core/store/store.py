"""The :class:`Store`: one object made of the rooms, and its lifecycle (open, migrate, close)."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine

from core.store.admin import AdminRoom
from core.store.buckets import QuotaRoom
from core.store.check import CheckRoom
from core.store.engine import DEFAULT_URL, Database
from core.store.installs import InstallRoom
from core.store.interactions import InteractionRoom
from core.store.keys import KeyRoom
from core.store.leases import LeaseRoom
from core.store.preferences import PreferenceRoom
from core.store.reports import ReportRoom
from core.store.slots import SlotRoom


class Store(
    LeaseRoom,
    QuotaRoom,
    AdminRoom,
    ReportRoom,
    CheckRoom,
    PreferenceRoom,
    SlotRoom,
    InteractionRoom,
    InstallRoom,
    KeyRoom,
):
    """The persistence API. Create with :meth:`open`; every method is a coroutine."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def engine(self) -> Engine:
        return self._db.engine

    @property
    def dialect(self) -> str:
        return self._db.dialect

    @classmethod
    async def open(
        cls, url: str = DEFAULT_URL, *, migrate: bool = True, workers: int | None = None
    ) -> Store:
        """Open (and by default migrate to head) the database at ``url``.

        SQLite (a file path; its directory is created) or ``postgresql+psycopg://...``.
        """
        store = cls(await asyncio.to_thread(Database.create, url, workers))
        try:
            if migrate:
                await store._call(store._migrate_sync)
        except BaseException:
            await store.close()
            raise
        return store

    def _migrate_sync(self) -> None:
        from core.migrations import upgrade

        with self._db.engine.begin() as conn:
            upgrade(conn)

    async def close(self) -> None:
        """Finish queued work, close connections and the engine. Safe to call twice."""
        await self._db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
