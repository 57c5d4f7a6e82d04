"""Read-only reports: a user's history, usage grouped by user/community/model, daily spend."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import func, select

from core.store.clock import utc
from core.store.engine import Room
from core.store.statements import JOB, LEDGER, job_view
from core.types import CHARGED_STATES, OPERATOR, DailySpend, JobState, JobView, LedgerRow, UsageRow

_CHARGED = [s.value for s in CHARGED_STATES]


def _group_col(by: str) -> Any:
    cols = {
        "user": JOB.c.user_scope,
        "community": JOB.c.community_scope,
        "model": JOB.c.model,
        # who paid: the operator's key, or a community's own key (by its fingerprint)
        "key": func.coalesce(JOB.c.key_ref, OPERATOR),
    }
    if by not in cols:
        raise ValueError(f"cannot group by {by!r}")
    return cols[by]


EVERYWHERE = "*"
"""``within=EVERYWHERE``: every community (the operator's view)."""
MAX_ROWS = 1000


def _within(stmt: Any, within: str | None) -> Any:
    if within == EVERYWHERE:
        return stmt
    col = JOB.c.community_scope
    return stmt.where(col.is_(None) if within is None else col == within)


def _since(since: date) -> datetime:
    return datetime(since.year, since.month, since.day, tzinfo=UTC)


class ReportRoom(Room):
    async def history(
        self, user_scope: str, limit: int = 10, *, within: str | None = EVERYWHERE
    ) -> list[JobView]:
        """The user's most recent jobs, newest first (at most 1,000): those made in community
        ``within`` (None: outside any community), or everywhere."""
        limit = max(0, min(int(limit), MAX_ROWS))
        return await self._call(self._history_sync, user_scope, limit, within)

    def _history_sync(self, user_scope: str, limit: int, within: str | None) -> list[JobView]:
        stmt = (
            select(JOB)
            .where(JOB.c.user_scope == user_scope)
            .order_by(JOB.c.created_at.desc(), JOB.c.id.desc())
            .limit(limit)
        )
        with self._db.transaction(write=False) as tx:
            rows = tx.execute(_within(stmt, within)).mappings()
            return [job_view(r) for r in rows]

    async def usage(
        self,
        since: date | None = None,
        by: Literal["user", "community", "model", "key"] = "user",
        *,
        within: str | None = EVERYWHERE,
    ) -> list[UsageRow]:
        """Charged jobs since ``since`` (UTC date, inclusive) grouped by user, community or model:
        job count, images delivered, cost. Most expensive first. Only the jobs of community
        ``within`` (None: outside any community), or everywhere."""
        return await self._call(self._usage_sync, since, by, within)

    def _usage_sync(self, since: date | None, by: str, within: str | None) -> list[UsageRow]:
        col = _group_col(by)
        cost = func.sum(JOB.c.cost_micros)
        stmt = (
            select(col, func.count(), func.sum(JOB.c.images_delivered), cost)
            .where(JOB.c.state.in_(_CHARGED))
            .group_by(col)
            .order_by(cost.desc(), col)
        )
        if since is not None:
            stmt = stmt.where(JOB.c.created_at >= _since(since))
        stmt = _within(stmt, within)
        with self._db.transaction(write=False) as tx:
            return [
                UsageRow(group=g or "-", jobs=int(n), images=int(i or 0), cost_micros=int(c or 0))
                for g, n, i, c in tx.execute(stmt)
            ]

    async def daily_spend(
        self,
        since: date | None = None,
        by: Literal["community", "model", "user", "key"] = "community",
        *,
        within: str | None = EVERYWHERE,
    ) -> list[DailySpend]:
        """Cost and images per UTC day and group (for a chart), oldest day first; ``within``
        as for :meth:`usage`."""
        return await self._call(self._daily_spend_sync, since, by, within)

    def _daily_spend_sync(
        self, since: date | None, by: str, within: str | None
    ) -> list[DailySpend]:
        col = _group_col(by)
        created: Any = JOB.c.created_at
        if not self._db.sqlite:  # the UTC day, not the session time zone's
            created = func.timezone("UTC", created)
        day = func.date(created)
        stmt = (
            select(
                day,
                col,
                func.count(),
                func.sum(JOB.c.cost_micros),
                func.sum(JOB.c.images_delivered),
            )
            .where(JOB.c.state.in_(_CHARGED))
            .group_by(day, col)
            .order_by(day, col)
        )
        if since is not None:
            stmt = stmt.where(JOB.c.created_at >= _since(since))
        stmt = _within(stmt, within)
        with self._db.transaction(write=False) as tx:
            out = []
            for raw_day, g, n, c, i in tx.execute(stmt):
                d = date.fromisoformat(raw_day) if isinstance(raw_day, str) else raw_day
                out.append(
                    DailySpend(
                        day=d,
                        group=g or "-",
                        jobs=int(n),
                        cost_micros=int(c or 0),
                        images=int(i or 0),
                    )
                )
            return out

    async def attention_jobs(self, *, within: str | None, limit: int = 50) -> list[JobView]:
        """Jobs an admin should look at, newest first: outcome unknown (charged at the worst
        case: the call may have been billed) or cost capped (the reported usage priced above
        the sanity bound, settled at the bound). ``within`` as for :meth:`usage`."""
        limit = max(0, min(int(limit), MAX_ROWS))
        return await self._call(self._attention_jobs_sync, within, limit)

    def _attention_jobs_sync(self, within: str | None, limit: int) -> list[JobView]:
        stmt = (
            select(JOB)
            .where((JOB.c.state == JobState.UNKNOWN_CHARGED.value) | JOB.c.cost_capped.is_(True))
            .order_by(JOB.c.created_at.desc(), JOB.c.id.desc())
            .limit(limit)
        )
        with self._db.transaction(write=False) as tx:
            return [job_view(r) for r in tx.execute(_within(stmt, within)).mappings()]

    async def ledger(
        self, since: date | None = None, *, within: str | None, limit: int = 50_000
    ) -> list[LedgerRow]:
        """The ledger entries of the jobs of community ``within`` (as for :meth:`usage`) made
        since ``since`` (UTC date, inclusive), oldest first, at most ``limit``."""
        return await self._call(self._ledger_sync, since, within, max(0, int(limit)))

    def _ledger_sync(self, since: date | None, within: str | None, limit: int) -> list[LedgerRow]:
        stmt = (
            select(
                LEDGER.c.created_at,
                JOB.c.public_id,
                JOB.c.user_scope,
                LEDGER.c.scope,
                LEDGER.c.period,
                LEDGER.c.unit,
                LEDGER.c.kind,
                LEDGER.c.amount,
            )
            .select_from(LEDGER.join(JOB, LEDGER.c.job_id == JOB.c.id))
            .order_by(LEDGER.c.id)
            .limit(limit)
        )
        if since is not None:
            stmt = stmt.where(LEDGER.c.created_at >= _since(since))
        stmt = _within(stmt, within)
        with self._db.transaction(write=False) as tx:
            return [
                LedgerRow(utc(at), job, user, scope, period, unit, kind, int(amount))
                for at, job, user, scope, period, unit, kind, amount in tx.execute(stmt)
            ]
