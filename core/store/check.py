"""``check()``: the counters against the ledger, and every job against its ledger rows."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from core.store.clock import now_or, utc
from core.store.engine import Room
from core.store.statements import BUCKET, GRANT, JOB, LEDGER
from core.types import LIVE_STATES, JobState

_LIVE = [s.value for s in LIVE_STATES]
ATTENTION_DAYS = 30  # how far back attention() looks for capped costs and unknown outcomes


class CheckRoom(Room):
    async def check(self, *, now: datetime | None = None) -> list[str]:
        """Counters against the ledger; an empty list means consistent.

        For every bucket: reserved == sum(reserve) - sum(release), spent == sum(capture) +
        sum(carry) (a job made before the bucket had a limit, counted when it got one),
        granted == sum(quota_grant); a carried job is finished and carried what it counts. For every job: a live job (RESERVED/SUBMITTED) has its
        reservations and nothing released or captured; a finished job has every reservation
        released; a capture is 0 or the job's cost (money) / images delivered (images).
        Also listed, as a difference: a live job past its lease at ``now`` (its process died or
        hung and no reaper has ended it yet). Jobs that are consistent but worth a look (a cost
        settled at the sanity bound, an unknown outcome) are :meth:`attention`'s.
        """
        return await self._call(self._check_sync, now_or(now))

    def _check_sync(self, now: datetime) -> list[str]:
        problems: list[str] = []
        with self._db.transaction(write=False) as tx:
            sums: dict[tuple[int, str], int] = defaultdict(int)
            for bid, kind, total in tx.execute(
                select(LEDGER.c.bucket_id, LEDGER.c.kind, func.sum(LEDGER.c.amount)).group_by(
                    LEDGER.c.bucket_id, LEDGER.c.kind
                )
            ):
                sums[(bid, kind)] = int(total)
            grants: dict[tuple[str, str, str], int] = {
                (s, p, u): int(t)
                for s, p, u, t in tx.execute(
                    select(
                        GRANT.c.scope, GRANT.c.period, GRANT.c.unit, func.sum(GRANT.c.amount)
                    ).group_by(GRANT.c.scope, GRANT.c.period, GRANT.c.unit)
                )
            }
            for b in tx.execute(
                select(BUCKET).order_by(BUCKET.c.scope, BUCKET.c.period, BUCKET.c.unit)
            ):
                name = f"bucket {b.scope} {b.period} {b.unit}"
                want_reserved = sums[(b.id, "reserve")] - sums[(b.id, "release")]
                if b.reserved != want_reserved:
                    problems.append(
                        f"{name}: reserved {b.reserved} but ledger says {want_reserved}"
                    )
                want_spent = sums[(b.id, "capture")] + sums[(b.id, "carry")]
                if b.spent != want_spent:
                    problems.append(f"{name}: spent {b.spent} but ledger says {want_spent}")
                want_granted = grants.pop((b.scope, b.period, b.unit), 0)
                if b.granted != want_granted:
                    problems.append(f"{name}: granted {b.granted} but grants say {want_granted}")
            for (s, p, u), total in sorted(grants.items()):
                problems.append(f"grant {s} {p} {u}: {total} granted but no bucket carries it")
            per_job: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
            jobs: dict[int, Any] = {}
            rows = tx.execute(
                select(
                    LEDGER.c.job_id,
                    LEDGER.c.bucket_id,
                    LEDGER.c.unit,
                    LEDGER.c.kind,
                    LEDGER.c.amount,
                    JOB.c.state,
                    JOB.c.cost_micros,
                    JOB.c.images_delivered,
                ).join(JOB, JOB.c.id == LEDGER.c.job_id)
            )
            for job_id, bid, unit, kind, amount, state, cost, images in rows:
                per_job[(job_id, bid)][kind] = int(amount)
                per_job[(job_id, bid)]["unit:" + unit] = 1
                jobs[job_id] = (state, cost, images)
            for (job_id, bid), kinds in sorted(per_job.items()):
                state, cost, images = jobs[job_id]
                name = f"job {job_id} bucket {bid}"
                if "carry" in kinds:
                    carried = kinds.pop("carry")
                    want = images if "unit:images" in kinds else cost
                    if state in LIVE_STATES or carried != want or len(kinds) > 1:
                        problems.append(f"{name}: carried {carried} for a {state} job")
                    continue
                if "reserve" not in kinds:
                    problems.append(f"{name}: ledger rows without a reservation")
                    continue
                if state in LIVE_STATES:
                    if "release" in kinds or "capture" in kinds:
                        problems.append(f"{name}: {state} but already released or captured")
                    continue
                if kinds.get("release") != kinds["reserve"]:
                    problems.append(f"{name}: {state} but its reservation is not fully released")
                capture = kinds.get("capture", 0)
                if "unit:micro_usd" in kinds and capture not in (0, cost):
                    problems.append(f"{name}: captured {capture} micro-USD, job cost {cost}")
                if "unit:images" in kinds and capture not in (0, images):
                    problems.append(f"{name}: captured {capture} images, job delivered {images}")
            live_without = tx.execute(
                select(JOB.c.id, JOB.c.state).where(
                    JOB.c.state.in_(_LIVE), JOB.c.lease_until.is_(None)
                )
            ).all()
            for job_id, state in live_without:
                problems.append(f"job {job_id}: {state} without a lease")
            expired = tx.execute(
                select(JOB.c.id, JOB.c.state, JOB.c.lease_until)
                .where(JOB.c.state.in_(_LIVE), JOB.c.lease_until < now)
                .order_by(JOB.c.id)
            ).all()
            for job_id, state, until in expired:
                problems.append(
                    f"job {job_id}: {state} past its lease (since {utc(until):%Y-%m-%d %H:%M} UTC)"
                    ": its process died or hung; the reaper ends it"
                )
        return problems

    async def attention(
        self, *, now: datetime | None = None, days: int = ATTENTION_DAYS, limit: int = 50
    ) -> list[str]:
        """Jobs of the last ``days`` for an admin to look at (``doctor``, ``usage --check``),
        oldest first, at most ``limit`` (then one line says how many more):

        * a live job past its lease (its process died or hung; the reaper ends it);
        * a cost settled at the sanity bound (the gateway reported an absurd usage);
        * an outcome unknown (the process ended mid-call, or the settle failed): charged at
          the worst case, the gateway's billing says whether the image was made.
        """
        return await self._call(self._attention_sync, now_or(now), days, limit)

    def _attention_sync(self, now: datetime, days: int, limit: int) -> list[str]:
        since = now - timedelta(days=days)
        found: list[tuple[int, str]] = []
        with self._db.transaction(write=False) as tx:
            for job_id, state, until in tx.execute(
                select(JOB.c.id, JOB.c.state, JOB.c.lease_until).where(
                    JOB.c.state.in_(_LIVE), JOB.c.lease_until < now
                )
            ).all():
                found.append(
                    (
                        job_id,
                        f"job {job_id}: {state} past its lease (since "
                        f"{utc(until):%Y-%m-%d %H:%M} UTC): its process died or hung; "
                        "the reaper ends it",
                    )
                )
            for job_id, cost in tx.execute(
                select(JOB.c.id, JOB.c.cost_micros).where(
                    JOB.c.cost_capped.is_(True), JOB.c.created_at >= since
                )
            ).all():
                found.append(
                    (
                        job_id,
                        f"job {job_id}: reported cost above the sanity bound, settled at the "
                        f"bound ({cost} micro-USD); check the gateway's usage",
                    )
                )
            for job_id, cost in tx.execute(
                select(JOB.c.id, JOB.c.cost_micros).where(
                    JOB.c.state == JobState.UNKNOWN_CHARGED.value, JOB.c.created_at >= since
                )
            ).all():
                found.append(
                    (
                        job_id,
                        f"job {job_id}: outcome unknown (its process ended mid-call or its "
                        f"settle failed), charged at the worst case ({cost} micro-USD); the "
                        "gateway's billing says whether it was made",
                    )
                )
        found.sort()
        lines = [line for _, line in found[:limit]]
        if len(found) > limit:
            lines.append(f"... and {len(found) - limit} more")
        return lines
