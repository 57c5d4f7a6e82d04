"""A limit set in the middle of a period counts the use already made in that period.

Only limited buckets are reserved on, so on the old store a limit set at noon started from
zero: Alice, with 3 images made in the morning, got 3 more under a new limit of 3 a day (and her
quota status said 0 used). Now the bucket carries the period's earlier jobs when it is first
reserved on (or again after the limit was lifted and set anew), for the operator's limits and a
community's own, in images and money; ``check()`` reconciles the carried rows. SQLite and
PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import QuotaExceeded
from core.store import EffectiveLimits, Store
from core.types import Identity, JobState

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
ALICE_A = Identity("discord", "111", "A")
ALICE_B = Identity("discord", "111", "B")
BOB_A = Identity("discord", "222", "A")
FREE = EffectiveLimits()
_keys = iter(range(10**6))


async def made(
    store: Store,
    who: Identity,
    limits: EffectiveLimits = FREE,
    *,
    cost: int = 10_000,
    now: datetime = NOW,
) -> int:
    """One finished job of ``who`` (one image, ``cost`` micro-USD); QuotaExceeded if refused."""
    claim = await store.begin_job(
        idem_key=f"job-{next(_keys)}", identity=who, request={"prompt": "p"}, model="m",
        images=1, worst_cost_micros=cost, limits=limits, now=now,
    )  # fmt: skip
    job_id = claim.job.id
    await store.mark_submitted(job_id, now=now)
    await store.settle(
        job_id, state=JobState.SUCCEEDED, cost_micros=cost, images_delivered=1, now=now
    )
    return job_id


async def allowed(store: Store, who: Identity, limits: EffectiveLimits, tries: int = 10) -> int:
    count = 0
    for _ in range(tries):
        try:
            await made(store, who, limits)
        except QuotaExceeded:
            break
        count += 1
    return count


async def test_an_operator_limit_set_at_noon_counts_the_morning(store: Store) -> None:
    for hour in (8, 9, 10):
        await made(store, ALICE_A, now=NOW.replace(hour=hour))
    await made(store, ALICE_A, now=NOW - timedelta(days=1))  # yesterday's does not count
    limits = EffectiveLimits(user_daily_images=4)
    status = await store.quota_status(ALICE_A, limits, now=NOW)
    daily = status.get("user_daily_images")
    assert daily is not None and (daily.used, daily.remaining) == (3, 1)
    assert await allowed(store, ALICE_A, limits) == 1
    assert await store.check(now=NOW) == []


async def test_a_money_limit_set_mid_month_counts_the_months_spend(store: Store) -> None:
    await made(store, ALICE_A, cost=40_000, now=NOW.replace(day=1))
    limits = EffectiveLimits(user_monthly_micros=50_000)
    assert await allowed(store, ALICE_A, limits) == 1  # 10_000 left: one more job of 10_000
    status = await store.quota_status(ALICE_A, limits, now=NOW)
    monthly = status.get("user_monthly_usd")
    assert monthly is not None and monthly.used == pytest.approx(0.05)
    assert await store.check(now=NOW) == []


async def test_a_community_default_set_later_counts_only_that_community(store: Store) -> None:
    await made(store, ALICE_A)
    await made(store, ALICE_A)
    await made(store, ALICE_B)  # her use elsewhere never eats A's allowance
    members = ALICE_A.members_scope
    assert members is not None
    await store.set_override(members, {"user_daily_images": 3}, now=NOW)
    assert await allowed(store, ALICE_A, FREE) == 1
    assert await allowed(store, BOB_A, FREE) == 3  # Bob made nothing in A yet
    assert await allowed(store, ALICE_B, FREE) == 10  # B set nothing
    assert await store.check(now=NOW) == []


async def test_a_community_budget_set_later_counts_the_communitys_spend(store: Store) -> None:
    await made(store, ALICE_A, cost=30_000)
    await made(store, BOB_A, cost=30_000)
    limits = EffectiveLimits(community_monthly_micros=70_000)
    assert await allowed(store, BOB_A, limits) == 1
    assert await allowed(store, ALICE_B, limits) == 7  # another community's budget
    assert await store.check(now=NOW) == []


async def test_a_limit_lifted_and_set_again_counts_what_was_made_meanwhile(store: Store) -> None:
    assert await allowed(store, ALICE_A, EffectiveLimits(user_daily_images=5), tries=2) == 2
    for _ in range(2):  # no limit for a while
        await made(store, ALICE_A)
    assert await allowed(store, ALICE_A, EffectiveLimits(user_daily_images=5)) == 1
    assert await store.check(now=NOW) == []


async def test_carrying_is_once_per_job(db_url: str) -> None:
    """Two processes reserving on the same new bucket carry each earlier job exactly once."""
    stores = [await Store.open(db_url) for _ in range(2)]
    try:
        for _ in range(3):
            await made(stores[0], ALICE_A)
        limits = EffectiveLimits(user_daily_images=6)
        results = await asyncio.gather(
            *(allowed(s, ALICE_A, limits) for s in stores), return_exceptions=True
        )
        assert sum(r for r in results if isinstance(r, int)) == 3, results
        assert await stores[1].check(now=NOW) == []
    finally:
        for s in stores:
            await s.close()
