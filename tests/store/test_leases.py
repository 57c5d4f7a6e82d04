"""Leases that tell the truth, reaped jobs told once, grants that take back (SQLite and PostgreSQL).

* A job's lease is renewed while its process lives (queued or running): with ``lease_s`` far
  below the job's time (the gateway holds the call until the test saw three renewals), a second
  process reaping past the first lease finds nothing to end.
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


async def test_check_and_attention_list_what_an_admin_must_see(store: Store) -> None:
    """A live job past its lease is a difference (``check``) and a job to look at; a capped cost
    and an unknown outcome are consistent (``check() == []``) but to look at (``attention``)."""
    stuck = await begin(store, "stuck")
    await store.mark_submitted(stuck, lease_s=60, now=NOW)
    later = NOW + timedelta(minutes=5)
    problems = await store.check(now=later)
    assert len(problems) == 1 and f"job {stuck}: SUBMITTED past its lease" in problems[0]
    assert await store.attention(now=later) == problems
    [reaped] = await store.reap(now=later)  # outcome unknown, charged at the worst case
    capped = await begin(store, "capped", now=later)
    await store.mark_submitted(capped, now=later)
    await store.settle(
        capped, state=JobState.SUCCEEDED, cost_micros=9_000, images_delivered=1, cost_capped=True,
        now=later,
    )  # fmt: skip
    assert await store.check(now=later) == []
    look = await store.attention(now=later)
    assert len(look) == 2
    assert look[0].startswith(f"job {reaped.id}: outcome unknown") and "1000 micro-USD" in look[0]
    assert look[1].startswith(f"job {capped}: reported cost above the sanity bound")
    job = await store.get_job(capped)
    assert job is not None and job.cost_capped and job.cost_micros == 9_000
    assert await store.attention(now=later + timedelta(days=31)) == []  # the last 30 days
    assert len(await store.attention(now=later, limit=1)) == 2  # one, and "1 more"


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
    """Event-driven: the gateway holds the call until the test has seen the heartbeat renew the
    lease three times; another process then reaps at a moment past the lease the job had when
    its call began, and finds nothing to end. No sleep decides anything."""
    lease_s = 0.6
    arrived, release = asyncio.Event(), asyncio.Event()
    gateway.default = Behavior(arrived=arrived, hold=release)
    svc = await ImageService.create(
        settings(db_url, tmp_path, gateway, lease_s=lease_s, reaper_interval_s=0.1)
    )
    other = await Store.open(db_url)  # another process
    renewed_after_call, three = 0, asyncio.Event()
    real_renew = svc.store.renew

    async def counting(job_ids: list[int], **kwargs: Any) -> int:
        nonlocal renewed_after_call
        done = await real_renew(job_ids, **kwargs)
        if done and arrived.is_set():
            renewed_after_call += 1
            if renewed_after_call >= 3:
                three.set()
        return done

    svc.store.renew = counting  # type: ignore[method-assign]
    try:
        run = asyncio.create_task(svc.run(svc.build("a slow fox", ALICE)))
        await asyncio.wait_for(arrived.wait(), 30)
        called_at = datetime.now(UTC)  # the lease set at submit ends by called_at + lease_s
        await asyncio.wait_for(three.wait(), 30)
        past_first_lease = called_at + timedelta(seconds=lease_s + 0.05)
        assert await other.reap(now=past_first_lease) == []  # renewed: nothing to end
        assert await other.check(now=past_first_lease) == []
        release.set()
        result = await run
        assert result.images
        job = await svc.store.get_job(result.job_id)
        assert job is not None and job.state == JobState.SUCCEEDED
        assert len(gateway.calls) == 1
        assert await other.check() == []
    finally:
        release.set()
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


class _Recorder:
    """A platform adapter that records what it is asked to tell (a running ``pixelsmith run``)."""

    name = "discord"

    def __init__(self, told: list[tuple[str, int]], who: str, first: asyncio.Event) -> None:
        self.told, self.who, self.first = told, who, first

    async def notify(self, job: Any, text: str) -> bool:
        self.told.append((self.who, job.id))
        self.first.set()
        return True


async def test_two_running_processes_announce_a_reaped_job_exactly_once(
    db_url: str, tmp_path: Path, gateway: FakeGateway
) -> None:
    """Processes A and B run (each with its announcer); a third process dies holding a job;
    B's reaper ends it while both run; exactly one of them tells the user, without a restart,
    however many announcer ticks follow."""
    from bots.runner import Runner

    told: list[tuple[str, int]] = []
    first = asyncio.Event()
    services = [
        await ImageService.create(settings(db_url, tmp_path, gateway, reaper_interval_s=0.05))
        for _ in range(2)
    ]
    runners = [
        Runner(s.settings, s, [_Recorder(told, who, first)])  # type: ignore[list-item]
        for s, who in zip(services, "AB", strict=True)
    ]
    ticks = [0, 0]
    enough = asyncio.Event()

    def counting(i: int, real: Any) -> Any:
        async def tell() -> None:
            await real()
            if first.is_set():
                ticks[i] += 1
                if min(ticks) >= 3:
                    enough.set()

        return tell

    for i, runner in enumerate(runners):
        runner.tell_interrupted_users = counting(i, runner.tell_interrupted_users)  # type: ignore[method-assign]
    announcers = [asyncio.create_task(r.announce_forever()) for r in runners]
    dead = await Store.open(db_url)
    try:
        job_id = await begin(dead, "orphan", now=datetime.now(UTC) - timedelta(hours=1))
        await dead.close()  # its process is gone
        [reaped] = await services[1].store.reap()  # B's reaper, while both run
        assert reaped.id == job_id
        await asyncio.wait_for(enough.wait(), 30)  # told, then 3 more ticks of each announcer
        assert [j for _, j in told] == [job_id]
        assert await services[0].notices() == []
        assert await services[0].store.check() == []
    finally:
        for task in announcers:
            task.cancel()
        await asyncio.gather(*announcers, return_exceptions=True)
        for s in services:
            await s.close()
