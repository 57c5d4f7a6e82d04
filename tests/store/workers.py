"""Code that runs in the spawned worker processes of the multi-process tests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from core.errors import QuotaExceeded
from core.store import EffectiveLimits, Store
from core.store.tables import QUOTA_BUCKET
from core.types import Identity, JobState

_barrier: Any = None
BARRIER_TIMEOUT_S = 120


def init(barrier: Any) -> None:
    global _barrier  # noqa: PLW0603 - a multiprocessing initializer sets per-process state
    _barrier = barrier


def race(args: tuple[str, int, int, dict[str, Any], str, str | None]) -> dict[str, Any]:
    """``n`` begin_job(+submit+settle) calls as one user; returns what was granted."""
    url, worker, n, limits, user, community = args
    return asyncio.run(_race(url, worker, n, EffectiveLimits(**limits), user, community))


async def _race(
    url: str, worker: int, n: int, limits: EffectiveLimits, user: str, community: str | None
) -> dict[str, Any]:
    store = await Store.open(url, migrate=False)
    identity = Identity("discord", user, community)
    granted = denied = 0
    try:
        _barrier.wait(BARRIER_TIMEOUT_S)
        for i in range(n):
            try:
                claim = await store.begin_job(
                    idem_key=f"race:{worker}:{i}",
                    identity=identity,
                    request={"prompt": f"p{i}"},
                    model="m",
                    images=1,
                    worst_cost_micros=10_000,
                    limits=limits,
                )
            except QuotaExceeded:
                denied += 1
                continue
            granted += 1
            await store.mark_submitted(claim.job.id)
            await store.settle(
                claim.job.id, state=JobState.SUCCEEDED, cost_micros=10_000, images_delivered=1
            )
    finally:
        await store.close()
    return {"worker": worker, "user": user, "granted": granted, "denied": denied}


def duplicates(args: tuple[str, int, list[str]]) -> list[str]:
    """Every worker claims the same keys; returns the keys it won (and "called upstream" for)."""
    url, worker, keys = args
    return asyncio.run(_duplicates(url, worker, keys))


async def _duplicates(url: str, worker: int, keys: list[str]) -> list[str]:
    store = await Store.open(url, migrate=False)
    won = []
    try:
        _barrier.wait(BARRIER_TIMEOUT_S)
        for key in keys:
            claim = await store.begin_job(
                idem_key=key,
                identity=Identity("slack", f"w{worker}", "T1"),
                request={"prompt": key},
                model="m",
                images=1,
                worst_cost_micros=5_000,
                limits=EffectiveLimits(user_daily_images=1000),
            )
            if claim.new:
                won.append(key)
                await store.mark_submitted(claim.job.id)
                await store.settle(
                    claim.job.id, state=JobState.SUCCEEDED, cost_micros=4_000, images_delivered=1
                )
    finally:
        await store.close()
    return won


def broken_race(args: tuple[str, int, int, int]) -> int:
    """NEGATIVE CONTROL ONLY: a non-atomic read-check-write reserve (the bug the store avoids).

    All workers read the bucket, meet at the barrier, then write: lost updates guaranteed.
    """
    url, bucket_id, n, cap = args
    return asyncio.run(_broken(url, bucket_id, n, cap))


async def _broken(url: str, bucket_id: int, n: int, cap: int) -> int:
    store = await Store.open(url, migrate=False)
    table = QUOTA_BUCKET
    granted = 0
    try:
        for i in range(n):
            with store.engine.begin() as conn:
                reserved, spent = conn.execute(
                    select(table.c.reserved, table.c.spent).where(table.c.id == bucket_id)
                ).one()
            if i == 0:
                _barrier.wait(BARRIER_TIMEOUT_S)
            if reserved + spent + 1 > cap:
                continue
            with store.engine.begin() as conn:
                conn.execute(update(table).where(table.c.id == bucket_id).values(spent=spent + 1))
            granted += 1
    finally:
        await store.close()
    return granted


def now() -> datetime:
    return datetime.now(UTC)
