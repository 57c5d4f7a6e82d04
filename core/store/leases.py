"""Leases and the reaper: jobs whose process died are ended, and their users told once.

:meth:`LeaseRoom.reap` ends jobs whose lease ran out: RESERVED -> RELEASED (nothing was sent),
SUBMITTED -> UNKNOWN_CHARGED at the worst-case cost (the call may have been billed).
:meth:`LeaseRoom.unnotified` lists them for telling users.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from core.store.clock import now_or
from core.store.engine import PRIORITY_SUBMIT
from core.store.jobs import JobRoom
from core.store.statements import JOB, job_view
from core.types import LIVE_STATES, JobState, JobView

# error keys the store itself writes into job.error
ERROR_EXPIRED = "job.expired"  # reaped while RESERVED: nothing was sent, nothing charged
ERROR_UNKNOWN = "job.unknown"  # reaped while SUBMITTED: outcome unknown, charged at worst cost

_LIVE = [s.value for s in LIVE_STATES]


class LeaseRoom(JobRoom):
    async def reap(self, *, now: datetime | None = None, limit: int = 500) -> list[JobView]:
        """End jobs whose lease ran out (their process died or hung).

        RESERVED -> RELEASED (``job.expired``; nothing was sent). SUBMITTED -> UNKNOWN_CHARGED
        (``job.unknown``; the call may have been billed, so the worst-case cost is captured).
        Reaped jobs are left un-notified: see :meth:`unnotified`. Returns them.
        """
        return await self._call(self._reap_sync, now_or(now), limit)

    def _reap_sync(self, now: datetime, limit: int) -> list[JobView]:
        with self._db.transaction(write=False) as tx:
            due = tx.execute(
                select(JOB.c.id, JOB.c.state, JOB.c.worst_cost_micros)
                .where(JOB.c.state.in_(_LIVE), JOB.c.lease_until < now)
                .order_by(JOB.c.id)
                .limit(limit)
            ).all()
        reaped = []
        for job_id, state, worst in due:
            if state == JobState.RESERVED:
                view = self._finish_sync(
                    job_id, LIVE_STATES[:1], JobState.RELEASED, 0, 0, ERROR_EXPIRED,
                    None, True, False, now,
                )  # fmt: skip
            else:
                view = self._finish_sync(
                    job_id, LIVE_STATES[1:], JobState.UNKNOWN_CHARGED, worst, 0, ERROR_UNKNOWN,
                    None, True, False, now,
                )  # fmt: skip
            if view.error in (ERROR_EXPIRED, ERROR_UNKNOWN) and not view.notified:
                reaped.append(view)
        return reaped

    async def abandon(self, job_id: int, *, now: datetime | None = None) -> bool:
        """Expire a live job's lease now, so the next reap ends it (graceful shutdown).

        Used for jobs a stopping process could not finish: the reaper of the restarted process
        (or of any other process on PostgreSQL) ends them and their users are told.
        """
        return await self._call(self._abandon_sync, job_id, now_or(now))

    def _abandon_sync(self, job_id: int, now: datetime) -> bool:
        with self._db.transaction() as tx:
            done = tx.execute(
                update(JOB)
                .where(JOB.c.id == job_id, JOB.c.state.in_(_LIVE))
                .values(lease_until=now - timedelta(seconds=1))
            )
            return bool(done.rowcount)

    async def unnotified(self, limit: int = 100) -> list[JobView]:
        """Finished jobs whose users have not been told (the reaper's), oldest first."""
        return await self._call(self._unnotified_sync, limit)

    def _unnotified_sync(self, limit: int) -> list[JobView]:
        with self._db.transaction(write=False) as tx:
            rows = tx.execute(
                select(JOB)
                .where(JOB.c.notified.is_(False), JOB.c.state.notin_(_LIVE))
                .order_by(JOB.c.id)
                .limit(limit)
            ).mappings()
            return [job_view(r) for r in rows]

    async def mark_notified(self, job_id: int) -> None:
        await self._call(self._notified_sync, job_id, None, True)

    async def claim_notice(self, job_id: int) -> bool:
        """Take the telling of a reaped job's user (compare-and-set on ``notified``): True for
        exactly one caller across every process; that caller tells the user, or gives the
        notice back with :meth:`release_notice` if it could not."""
        return await self._call(self._notified_sync, job_id, False, True)

    async def release_notice(self, job_id: int) -> bool:
        """Give back a claimed notice (telling failed): another process may try again."""
        return await self._call(self._notified_sync, job_id, True, False)

    def _notified_sync(self, job_id: int, was: bool | None, value: bool) -> bool:
        stmt = update(JOB).where(JOB.c.id == job_id, JOB.c.state.notin_(_LIVE))
        if was is not None:
            stmt = stmt.where(JOB.c.notified.is_(was))
        with self._db.transaction() as tx:
            return bool(tx.execute(stmt.values(notified=value)).rowcount)

    async def renew(
        self, job_ids: list[int], *, lease_s: float, now: datetime | None = None
    ) -> int:
        """Renew the leases of live jobs (the heartbeat of the process that runs them): a job
        whose process is alive, queued or running, is never reaped. Returns how many."""
        if not job_ids:
            return 0
        at = now_or(now)
        return await self._run(PRIORITY_SUBMIT, self._renew_sync, list(job_ids), lease_s, at)

    def _renew_sync(self, job_ids: list[int], lease_s: float, now: datetime) -> int:
        until = now + timedelta(seconds=lease_s)
        with self._db.transaction() as tx:
            done = tx.execute(
                update(JOB)
                .where(JOB.c.id.in_(job_ids), JOB.c.state.in_(_LIVE), JOB.c.lease_until < until)
                .values(lease_until=until)
            )
            return int(done.rowcount)
