"""Single-process behaviour of the money transitions."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.errors import QuotaExceeded
from core.store import EffectiveLimits, JobClaim, JobConflict, Store
from core.store.engine import PRIORITY_CLAIM, PRIORITY_OTHER
from core.types import Identity, JobState

NOW = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
ME = Identity("discord", "1", "G")


async def begin(
    store: Store,
    key: str,
    limits: EffectiveLimits,
    *,
    images: int = 1,
    worst: int = 10_000,
    now: datetime = NOW,
    who: Identity = ME,
    model: str = "m",
) -> JobClaim:
    return await store.begin_job(
        idem_key=key, identity=who, request={"prompt": key}, model=model, images=images,
        worst_cost_micros=worst, limits=limits, now=now,
    )  # fmt: skip


async def test_over_quota_says_which_limit_what_remains_and_when(store: Store) -> None:
    limits = EffectiveLimits(user_daily_images=3, user_monthly_micros=1_000_000)
    await begin(store, "a", limits, images=2)
    with pytest.raises(QuotaExceeded) as exc:
        await begin(store, "b", limits, images=2)
    assert exc.value.params == {
        "limit": "user_daily_images",
        "remaining": 1,
        "unit": "images",
        "resets_at": datetime(2026, 11, 25, tzinfo=UTC),
    }
    # the refused key keeps its outcome; a duplicate delivery does not re-evaluate
    dup = await begin(store, "b", EffectiveLimits(), images=2)
    assert not dup.new and dup.job.state == JobState.RELEASED and dup.job.error == "quota.exceeded"
    again = dup.job.failure()
    assert isinstance(again, QuotaExceeded) and again.params == exc.value.params
    with pytest.raises(QuotaExceeded) as money:
        await begin(store, "c", limits, images=1, worst=2_000_000)
    assert money.value.params["unit"] == "usd" and money.value.params["remaining"] == 0.99
    assert money.value.resets_at == datetime(2026, 12, 1, tzinfo=UTC)
    assert await store.check(now=NOW) == []  # its live job is within its lease at NOW


async def test_settle_records_real_cost_above_reservation_and_is_idempotent(store: Store) -> None:
    limits = EffectiveLimits(community_monthly_micros=100_000)
    claim = await begin(store, "a", limits, worst=50_000)
    await store.mark_submitted(claim.job.id)
    done = await store.settle(
        claim.job.id, state=JobState.SUCCEEDED, cost_micros=70_000, images_delivered=1
    )
    assert done.cost_micros == 70_000
    twice = await store.settle(
        claim.job.id, state=JobState.FAILED_CHARGED, cost_micros=1, images_delivered=0
    )
    assert twice.state == JobState.SUCCEEDED and twice.cost_micros == 70_000
    status = await store.quota_status(ME, limits, now=NOW)
    assert status.get("community_monthly_usd").used == 0.07  # type: ignore[union-attr]
    with pytest.raises(QuotaExceeded):
        await begin(store, "b", limits, worst=40_000)
    assert await store.check() == []


async def test_refusal_not_counted_still_charges_the_community(store: Store) -> None:
    limits = EffectiveLimits(
        user_daily_images=1, user_daily_micros=20_000, community_monthly_micros=20_000
    )
    claim = await begin(store, "a", limits)
    await store.mark_submitted(claim.job.id)
    await store.settle(
        claim.job.id, state=JobState.FAILED_CHARGED, cost_micros=10_000, images_delivered=0,
        error="refused.upstream", charge_user=False,
    )  # fmt: skip
    status = await store.quota_status(ME, limits, now=NOW)
    assert status.get("user_daily_images").used == 0  # type: ignore[union-attr]
    assert status.get("user_daily_usd").used == 0  # type: ignore[union-attr]
    assert status.get("community_monthly_usd").used == 0.01  # type: ignore[union-attr]
    assert await store.check() == []


async def test_release_only_before_submit_and_cooldown_and_live_jobs(store: Store) -> None:
    limits = EffectiveLimits(user_concurrent_jobs=1, cooldown_s=10)
    first = await begin(store, "a", limits)
    with pytest.raises(QuotaExceeded) as cool:
        await begin(store, "b", limits, now=NOW + timedelta(seconds=4))
    assert cool.value.key == "quota.cooldown" and cool.value.resets_at == NOW + timedelta(
        seconds=10
    )
    with pytest.raises(QuotaExceeded) as live:
        await begin(store, "c", limits, now=NOW + timedelta(seconds=11))
    assert live.value.params["limit"] == "user_concurrent_jobs" and live.value.resets_at is None
    released = await store.release(first.job.id, error="invalid.local")
    assert released.state == JobState.RELEASED
    second = await begin(store, "d", limits, now=NOW + timedelta(seconds=30))
    await store.mark_submitted(second.job.id)
    with pytest.raises(JobConflict):
        await store.release(second.job.id, error="x")
    with pytest.raises(JobConflict):
        await store.mark_submitted(first.job.id)
    assert await store.check() == []


async def test_reaper_and_notifications(store: Store) -> None:
    limits = EffectiveLimits(user_daily_micros=1_000_000)
    reserved = await begin(store, "a", limits, worst=30_000)
    submitted = await begin(store, "b", limits, worst=40_000)
    await store.mark_submitted(submitted.job.id, lease_s=60, now=NOW)
    assert await store.reap(now=NOW + timedelta(seconds=30)) == []
    reaped = await store.reap(now=NOW + timedelta(hours=1))
    assert {(j.id, j.state, j.cost_micros) for j in reaped} == {
        (reserved.job.id, JobState.RELEASED, 0),
        (submitted.job.id, JobState.UNKNOWN_CHARGED, 40_000),
    }
    assert [j.id for j in await store.unnotified()] == [reserved.job.id, submitted.job.id]
    await store.mark_notified(reserved.job.id)
    assert [j.id for j in await store.unnotified()] == [submitted.job.id]
    assert await store.check() == []


async def test_reports(store: Store) -> None:
    for i, (user, model) in enumerate([("1", "a"), ("1", "b"), ("2", "a")]):
        who = Identity("discord", user, "G")
        claim = await begin(store, f"r{i}", EffectiveLimits(), who=who, model=model)
        await store.mark_submitted(claim.job.id)
        await store.settle(
            claim.job.id, state=JobState.SUCCEEDED, cost_micros=1_000 * (i + 1), images_delivered=1
        )
    by_model = {r.group: (r.jobs, r.cost_micros) for r in await store.usage(by="model")}
    assert by_model == {"a": (2, 4_000), "b": (1, 2_000)}
    assert await store.usage(since=(NOW + timedelta(days=2)).date()) == []
    daily = await store.daily_spend(by="model")
    assert {(d.day, d.group, d.cost_micros) for d in daily} == {
        (NOW.date(), "a", 4_000),
        (NOW.date(), "b", 2_000),
    }
    history = await store.history(ME.user_scope)
    assert [j.idem_key for j in history] == ["r1", "r0"]


async def test_member_preferences_merge_clear_and_stay_apart(store: Store) -> None:
    here, there = "member:discord:g1:u1", "member:discord:g2:u1"
    assert await store.get_preferences(here) == {}
    assert await store.set_preferences(here, {"quality": "high", "n": 2}) == {
        "quality": "high",
        "n": 2,
    }
    assert await store.set_preferences(here, {"n": None, "remix": True}) == {
        "quality": "high",
        "remix": True,
    }
    assert await store.get_preferences(there) == {}
    assert await store.set_preferences(here, {"quality": None, "remix": None}) == {}
    assert await store.get_preferences(here) == {}


async def test_settings_lookup_before_an_acknowledgement_overtakes_queued_claims(
    store: Store,
) -> None:
    """A chat adapter's acknowledgement waits for the member's settings (a private Discord
    defer): under a burst that read must not queue behind the claims of requests already
    acknowledged, or Discord's 3 s deadline is spent in the store's queue."""
    workers = len(store._db.executor._threads)
    release, running = threading.Event(), threading.Semaphore(0)
    started: list[str] = []

    def blocker() -> None:
        running.release()
        release.wait(10)

    def claim() -> None:
        started.append("claim")

    lookup = store._get_preferences_sync

    def recorded(scope: str) -> dict[str, Any]:
        started.append("settings")
        return lookup(scope)

    store._get_preferences_sync = recorded  # type: ignore[method-assign]
    blocked = [
        asyncio.ensure_future(store._db.run(PRIORITY_OTHER, blocker)) for _ in range(workers)
    ]
    for _ in range(workers):  # every worker busy: what follows waits in the queue
        await asyncio.to_thread(running.acquire)
    claims = [asyncio.ensure_future(store._db.run(PRIORITY_CLAIM, claim)) for _ in range(50)]
    settings = asyncio.ensure_future(store.get_preferences("member:discord:g1:u1"))
    await asyncio.sleep(0.05)  # queued behind the 50 claims
    release.set()
    await asyncio.gather(*blocked, *claims)
    assert await settings == {}
    assert started.index("settings") < workers  # among the first work the freed workers take
