"""Platform installs (table ``platform_install``) and OAuth states (``oauth_state``).

The store keeps rows; what a row means (which tokens are sealed in ``sealed``, how a community
finds its install) is the adapter's. A state is consumed by one DELETE: of two processes
handed the same state (a replayed redirect), exactly one sees it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from core.store.clock import now_or
from core.store.engine import Room
from core.store.statements import INSTALL, OAUTH_STATE


class InstallRoom(Room):
    async def save_install(self, row: dict[str, Any]) -> None:
        """Insert or replace the install ``(row['platform'], row['key'])`` (a reinstall)."""
        await self._call(self._save_install_sync, dict(row))

    def _save_install_sync(self, row: dict[str, Any]) -> None:
        stmt = self._db.sql.insert(INSTALL).values(**row)
        columns = {k: stmt.excluded[k] for k in row if k not in ("platform", "key")}
        stmt = stmt.on_conflict_do_update(index_elements=["platform", "key"], set_=columns)
        with self._db.transaction() as tx:
            tx.execute(stmt)

    async def find_install(
        self, platform: str, key: str, *, group: bool = False
    ) -> dict[str, Any] | None:
        """The install keyed ``key``; with ``group``, else the oldest one of group ``key`` (a
        workspace of that org installed on its own); else None."""
        return await self._call(self._find_install_sync, platform, key, group)

    def _find_install_sync(self, platform: str, key: str, group: bool) -> dict[str, Any] | None:
        match = (
            or_(INSTALL.c.key == key, INSTALL.c.group_id == key)
            if group
            else (INSTALL.c.key == key)
        )
        query = (
            select(INSTALL)
            .where(INSTALL.c.platform == platform, match)
            .order_by((INSTALL.c.key == key).desc(), INSTALL.c.installed_at)
        )
        with self._db.transaction(write=False) as tx:
            found = tx.execute(query).mappings().first()
            return dict(found) if found is not None else None

    async def drop_install(self, platform: str, key: str) -> bool:
        return await self._call(self._drop_install_sync, platform, key)

    def _drop_install_sync(self, platform: str, key: str) -> bool:
        with self._db.transaction() as tx:
            done = tx.execute(
                INSTALL.delete().where(INSTALL.c.platform == platform, INSTALL.c.key == key)
            )
            return bool(done.rowcount)

    async def install_keys(self, platform: str) -> list[str]:
        """Every install's key, sorted (health and doctor report them; no secret)."""
        return await self._call(self._install_keys_sync, platform)

    def _install_keys_sync(self, platform: str) -> list[str]:
        query = select(INSTALL.c.key).where(INSTALL.c.platform == platform).order_by("key")
        with self._db.transaction(write=False) as tx:
            return [str(k) for k in tx.execute(query).scalars()]

    async def count_installs(self, platform: str) -> int:
        return await self._call(self._count_installs_sync, platform)

    def _count_installs_sync(self, platform: str) -> int:
        query = select(func.count()).select_from(INSTALL).where(INSTALL.c.platform == platform)
        with self._db.transaction(write=False) as tx:
            return int(tx.execute(query).scalar_one())

    async def issue_oauth_state(
        self, state: str, expires_at: datetime, *, now: datetime | None = None
    ) -> None:
        """Keep ``state`` until ``expires_at``; states already expired go (an install nobody
        finished), so visits to the install page never pile up rows."""
        await self._call(self._issue_oauth_state_sync, state, expires_at, now_or(now))

    def _issue_oauth_state_sync(self, state: str, expires_at: datetime, now: datetime) -> None:
        with self._db.transaction() as tx:
            tx.execute(OAUTH_STATE.delete().where(OAUTH_STATE.c.expires_at <= now))
            tx.execute(OAUTH_STATE.insert().values(state=state, expires_at=expires_at))

    async def consume_oauth_state(self, state: str, *, now: datetime | None = None) -> bool:
        """True once for a state issued here and not expired; it is gone afterwards."""
        return await self._call(self._consume_oauth_state_sync, state, now_or(now))

    def _consume_oauth_state_sync(self, state: str, now: datetime) -> bool:
        with self._db.transaction() as tx:
            done = tx.execute(
                OAUTH_STATE.delete().where(
                    OAUTH_STATE.c.state == state, OAUTH_STATE.c.expires_at > now
                )
            )
            # expired ones go with it (an install nobody finished)
            tx.execute(OAUTH_STATE.delete().where(OAUTH_STATE.c.expires_at <= now))
            return bool(done.rowcount)
