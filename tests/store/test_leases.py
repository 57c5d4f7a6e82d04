"""Leases that tell the truth, reaped jobs told once, grants that take back (SQLite and PostgreSQL).

* A job's lease is renewed while its process lives (queued or running): with ``lease_s`` far
  below the job's time, a second process reaping all along never ends it.
* Opening the service (every command does) reaps what a dead process left.
* Telling a reaped job's user is claimed with a compare-and-set: exactly one of several
  processes gets it; one that could not tell gives it back.
* ``check()`` lists live jobs past their lease and jobs settled at the cost bound.
* A negative grant takes back at most what was given (never an IntegrityError), and a grant
  chooses its period.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.errors import QuotaExceeded
from core.service import ImageService
from core.store import EffectiveLimits, Store
from core.types import Identity, JobState
from tests.conftest import make_settings
from tests.fakes.gateway import Behavior, FakeGateway

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
ALICE = Identity("discord", "111", "A")
LIMITS = EffectiveLimits(user_daily_images=10)


async def begin(store: Store, key: str, *, now: datetime = NOW, lease_s: float = 60) -> int:
    claim = await store.begin_job(
        idem_key=key, identity=ALICE, request={"prompt": key}, model="m", images=1,
        worst_cost_micros=1_000, limits=LIMITS, lease_s=lease_s, now=now,
    )  # fmt: skip
    return claim.job.id


async def test_renewed_jobs_are_not_reaped_and_expired_ones_are(store: Store) -> None:
    kept, dead = await begin(store, "kept"), await begin(store, "dead")
    later = NOW + timedelta(seconds=50)
    assert await store.renew([kept], lease_s=60, now=later) == 1
    reaped = await store.reap(now=NOW + timedelta(seconds=90))
    assert [j.id for j in reaped] == [dead]
    job = await store.get_job(kept)
    assert job is not None and job.state == JobState.RESERVED
    assert await store.renew([dead], lease_s=60) == 0  # a finished job is never renewed
    assert await store.check(now=NOW + timedelta(seconds=90)) == []


async def test_check_lists_live_jobs_past_their_lease_and_capped_costs(store: Store) -> None:
    stuck = await begin(store, "stuck")
    await store.mark_submitted(stuck, lease_s=60, now=NOW)
    problems = await store.check(now=NOW + timedelta(minutes=5))
    assert len(problems) == 1 and f"job {stuck}: SUBMITTED past its lease" in problems[0]
    capped = await begin(store, "capped")
    await store.mark_submitted(capped, now=NOW)
    await store.settle(
        capped, state=JobState.SUCCEEDED, cost_micros=9_000, images_delivered=1, cost_capped=True
    )
    flagged = [p for p in await store.check(now=NOW) if f"job {capped}:" in p]
    assert len(flagged) == 1 and "sanity bound" in flagged[0]
    job = await store.get_job(capped)
    assert job is not None and job.cost_capped and job.cost_micros == 9_000


async def test_a_reaped_job_is_claimed_for_telling_exactly_once(db_url: str) -> None:
    stores = [await Store.open(db_url) for _ in range(4)]
    try:
        job_id = await begin(stores[0], "gone", lease_s=1)
        [reaped] = await stores[1].reap(now=NOW + timedelta(seconds=5))
        assert reaped.id == job_id and not reaped.notified
        claims = await asyncio.gather(*(s.claim_notice(job_id) for s in stores for _ in range(3)))
        assert sorted(claims) == [False] * 11 + [True]
        assert await stores[2].unnotified() == []
        assert await stores[3].release_notice(job_id)  # telling failed: give it back
        assert [j.id for j in await stores[0].unnotified()] == [job_id]
        assert await stores[1].claim_notice(job_id)
        assert not await stores[0].claim_notice(job_id)
    finally:
        for s in stores:
            await s.close()


async def test_negative_grants_take_back_never_below_zero(store: Store) -> None:
    scope = ALICE.user_scope
    assert await store.grant(scope, -5, "images", "day", now=NOW) == 0  # nothing to take
    assert await store.grant(scope, 3, "images", "day", now=NOW) == 3
    assert await store.grant(scope, -5, "images", "day", now=NOW) == -3
    assert await store.grant(scope, 2, "usd", "month", now=NOW) == 2_000_000
    assert await store.grant(scope, -0.5, "usd", "month", now=NOW) == -500_000
    assert await store.check(now=NOW) == []
    with pytest.raises(ValueError):
        await store.grant(scope, 1, "images", "week", now=NOW)


async def test_a_grant_chooses_its_period(store: Store) -> None:
    limits = EffectiveLimits(user_daily_images=1, user_monthly_images=1)
    await store.grant(ALICE.user_scope, 2, "images", "day", now=NOW)
    status = await store.quota_status(ALICE, limits, now=NOW)
    daily, monthly = status.get("user_daily_images"), status.get("user_monthly_images")
    assert daily is not None and daily.remaining == 3 and daily.granted == 2
    assert monthly is not None and monthly.remaining == 1  # a day grant is not the month's
    await store.grant(ALICE.user_scope, 2, "images", "month", now=NOW)
    for i in range(3):
        await store.begin_job(
            idem_key=f"g{i}", identity=ALICE, request={}, model="m", images=1,
            worst_cost_micros=0, limits=limits, now=NOW,
        )  # fmt: skip
    with pytest.raises(QuotaExceeded):
        await store.begin_job(
            idem_key="g3", identity=ALICE, request={}, model="m", images=1,
            worst_cost_micros=0, limits=limits, now=NOW,
        )  # fmt: skip
    assert await store.check(now=NOW) == []


# -- through the service: the heartbeat and the reap at open -----------------------------------


@pytest.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    async with FakeGateway() as gw:
        yield gw


def settings(db_url: str, tmp_path: Path, gateway: FakeGateway, **database: Any) -> Any:
    return make_settings(
        tmp_path, gateway.base_url, database={"url": db_url, **database}, provider={"timeout_s": 30}
    )


async def test_a_job_longer_than_its_lease_is_renewed_not_reaped(
    db_url: str, tmp_path: Path, gateway: FakeGateway
) -> None:
    gateway.default = Behavior(latency_s=2.5)  # far longer than the lease
    svc = await ImageService.create(
        settings(db_url, tmp_path, gateway, lease_s=0.6, reaper_interval_s=0.1)
    )
    other = await Store.open(db_url)  # another process, reaping all the time
    try:
        run = asyncio.create_task(svc.run(svc.build("a slow fox", ALICE)))
        reaped: list[Any] = []
        while not run.done():
            reaped += await other.reap()
            await asyncio.sleep(0.05)
        result = await run
        assert reaped == [] and result.images
        job = await svc.store.get_job(result.job_id)
        assert job is not None and job.state == JobState.SUCCEEDED
        assert len(gateway.calls) == 1
        assert await other.check() == []
    finally:
        await other.close()
        await svc.close()


async def test_opening_the_service_reaps_what_a_dead_process_left(
    db_url: str, tmp_path: Path, gateway: FakeGateway
) -> None:
    store = await Store.open(db_url)
    job_id = await begin(store, "orphan", now=datetime.now(UTC) - timedelta(hours=1))
    await store.close()  # the process that held it is gone
    svc = await ImageService.create(settings(db_url, tmp_path, gateway))
    try:
        job = await svc.store.get_job(job_id)
        assert job is not None and job.state == JobState.RELEASED and job.error == "job.expired"
        assert [j.id for j in await svc.notices()] == [job_id]
        assert await svc.store.check() == []
        assert [j.id for j in await svc.start()] == [job_id]  # what start() reports
    finally:
        await svc.close()


async def test_a_failed_settle_is_left_to_the_reaper_and_reported(
    db_url: str, tmp_path: Path, gateway: FakeGateway
) -> None:
    svc = await ImageService.create(
        settings(db_url, tmp_path, gateway, lease_s=0.5, reaper_interval_s=0.1)
    )
    try:
        real_settle = svc.store.settle

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("the database went away mid-settle")

        svc.store.settle = broken  # type: ignore[method-assign]
        result = await svc.run(svc.build("a fox", ALICE))
        assert result.images  # paid for: the user still gets the image (never an image lost)
        svc.store.settle = real_settle  # type: ignore[method-assign]
        [job] = await svc.store.history(ALICE.user_scope)
        assert job.state == JobState.SUBMITTED  # paid for, outcome not recorded
        later = datetime.now(UTC) + timedelta(seconds=5)  # no heartbeat renews it any more
        problems = await svc.store.check(now=later)
        assert any(f"job {job.id}: SUBMITTED past its lease" in p for p in problems)
        [reaped] = await svc.store.reap(now=later)
        assert reaped.id == job.id and reaped.state == JobState.UNKNOWN_CHARGED
        assert await svc.store.check(now=later) == []
    finally:
        await svc.close()
