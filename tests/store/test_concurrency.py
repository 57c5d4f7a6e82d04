"""Many processes racing for one quota: no overspend, one job per idempotency key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from core.store import Store
from core.store.clock import day_period
from core.store.statements import BUCKET
from tests.store import workers
from tests.store.conftest import WORKERS

PER_WORKER = 50


async def overspend_problems(store: Store, granted: int, cap: int, demand: int) -> list[str]:
    """What the harness checks after a race; empty when the cap held and the books agree."""
    problems = []
    expected = min(cap, demand)
    if granted != expected:
        problems.append(f"granted {granted}, expected exactly {expected}")
    with store.engine.connect() as conn:
        counted = sum(r.spent + r.reserved for r in conn.execute(select(BUCKET)))
    if counted != granted:
        problems.append(f"buckets count {counted} but {granted} were granted")
    problems += await store.check()
    return problems


async def test_cap_holds_under_8_processes(store: Store, db_url: str, proc_pool: Any) -> None:
    limits = {"user_daily_images": 100}
    jobs = [(db_url, w, PER_WORKER, limits, "shared", None) for w in range(WORKERS)]
    results = proc_pool.map(workers.race, jobs, chunksize=1)
    granted = sum(r["granted"] for r in results)
    assert sum(r["granted"] + r["denied"] for r in results) == WORKERS * PER_WORKER
    assert await overspend_problems(store, granted, 100, WORKERS * PER_WORKER) == []


async def test_negative_control_detects_overspend(
    store: Store, db_url: str, proc_pool: Any
) -> None:
    with store.engine.begin() as conn:
        bucket_id = conn.execute(
            insert(BUCKET)
            .values(
                scope="user:discord:shared",
                period=day_period(datetime.now(UTC)),
                unit="images",
                limit=100,
                granted=0,
                reserved=0,
                spent=0,
            )
            .returning(BUCKET.c.id)
        ).scalar_one()
    jobs = [(db_url, bucket_id, PER_WORKER, 100) for _ in range(WORKERS)]
    granted = sum(proc_pool.map(workers.broken_race, jobs, chunksize=1))
    problems = await overspend_problems(store, granted, 100, WORKERS * PER_WORKER)
    # all 8 read 0 and wrote 1 in the first round: the lost updates must show
    assert any("granted" in p for p in problems), problems


async def test_user_and_community_caps_together(store: Store, db_url: str, proc_pool: Any) -> None:
    # 8 users x 15 images would be 120; the community budget allows 100 jobs at $0.01 each
    limits = {"user_daily_images": 15, "community_monthly_micros": 1_000_000}
    jobs = [(db_url, w, PER_WORKER, limits, f"u{w}", "guild") for w in range(WORKERS)]
    results = proc_pool.map(workers.race, jobs, chunksize=1)
    assert all(r["granted"] <= 15 for r in results), results
    granted = sum(r["granted"] for r in results)
    assert granted == 100
    assert await store.check() == []
    usage = await store.usage(by="community")
    assert [(u.group, u.jobs, u.cost_micros) for u in usage] == [
        ("community:discord:guild", 100, 1_000_000)
    ]


async def test_duplicate_keys_from_many_processes_make_one_job(
    store: Store, db_url: str, proc_pool: Any
) -> None:
    keys = [f"slack:event:Ev{i}" for i in range(20)]
    won = proc_pool.map(
        workers.duplicates, [(db_url, w, keys) for w in range(WORKERS)], chunksize=1
    )
    flat = [k for w in won for k in w]
    assert sorted(flat) == sorted(keys)  # each key won by exactly one process: one upstream call
    rows = await store.usage(by="model")
    assert rows[0].jobs == 20
    assert await store.check() == []
