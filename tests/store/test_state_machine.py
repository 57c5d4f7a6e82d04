"""Hypothesis drives the job state machine; a plain Python model says what must happen."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core.errors import QuotaExceeded
from core.store import EffectiveLimits, JobConflict, Store
from core.types import Identity, JobState

LIMITS = EffectiveLimits(
    user_daily_images=6, community_monthly_micros=100_000, user_concurrent_jobs=2
)
LEASE_S = 60
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@dataclass
class ModelJob:
    id: int
    images: int
    worst: int
    state: JobState
    lease_until: datetime
    cost: int = 0


class JobMachine(RuleBasedStateMachine):
    store: Store
    loop: asyncio.AbstractEventLoop

    keys = Bundle("keys")

    def __init__(self) -> None:
        super().__init__()
        tag = uuid.uuid4().hex[:10]
        self.identity = Identity("discord", f"u{tag}", f"g{tag}")
        self.tag = tag
        self.clock = T0
        self.jobs: dict[str, ModelJob] = {}
        self.by_id: dict[int, str] = {}
        self.images_used = 0  # reserved + spent, user daily images
        self.money_used = 0  # reserved + spent, community budget
        self.live = 0

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    # -- model helpers
    def _fits(self, images: int, worst: int) -> list[str]:
        over = []
        if self.images_used + images > LIMITS.user_daily_images:  # type: ignore[operator]
            over.append("user_daily_images")
        if self.money_used + worst > LIMITS.community_monthly_micros:  # type: ignore[operator]
            over.append("community_monthly_usd")
        if self.live + 1 > LIMITS.user_concurrent_jobs:  # type: ignore[operator]
            over.append("user_concurrent_jobs")
        return over

    def _in(self, *states: JobState) -> list[str]:
        return [k for k, j in self.jobs.items() if j.state in states]

    def _finish(
        self, job: ModelJob, state: JobState, cost: int, images: int, charge_user: bool
    ) -> None:
        self.images_used -= job.images
        self.money_used -= job.worst
        self.live -= 1
        if state == JobState.RELEASED:
            return
        self.money_used += cost  # the community is always charged
        if charge_user and state == JobState.SUCCEEDED:
            self.images_used += images
        job.state, job.cost = state, cost

    # -- rules
    @rule(
        target=keys,
        n=st.integers(0, 7),
        images=st.integers(1, 3),
        worst=st.sampled_from([0, 10_000, 30_000]),
    )
    def begin(self, n: int, images: int, worst: int) -> str:
        key = f"{self.tag}:{n}"
        existing = self.jobs.get(key)
        over = self._fits(images, worst)
        try:
            claim = self.run(
                self.store.begin_job(
                    idem_key=key,
                    identity=self.identity,
                    request={"prompt": key},
                    model="m",
                    images=images,
                    worst_cost_micros=worst,
                    limits=LIMITS,
                    lease_s=LEASE_S,
                    now=self.clock,
                )
            )
        except QuotaExceeded as exc:
            assert existing is None and over, (key, over)
            assert exc.params["limit"] in over
            self.jobs[key] = ModelJob(-1, images, worst, JobState.RELEASED, self.clock)
            return key
        if existing is not None:
            assert not claim.new
            if existing.id != -1:
                assert claim.job.id == existing.id
            return key
        assert claim.new and not over, over
        self.jobs[key] = ModelJob(
            claim.job.id, images, worst, JobState.RESERVED, self.clock + timedelta(seconds=LEASE_S)
        )
        self.by_id[claim.job.id] = key
        self.images_used += images
        self.money_used += worst
        self.live += 1
        return key

    @rule(key=keys)
    def submit(self, key: str) -> None:
        job = self.jobs[key]
        if job.id == -1:
            return
        if job.state in (JobState.RESERVED, JobState.SUBMITTED):
            view = self.run(self.store.mark_submitted(job.id, lease_s=LEASE_S, now=self.clock))
            assert view.state == JobState.SUBMITTED
            if job.state == JobState.RESERVED:
                job.lease_until = self.clock + timedelta(seconds=LEASE_S)
            job.state = JobState.SUBMITTED
        else:
            with pytest.raises(JobConflict):
                self.run(self.store.mark_submitted(job.id, now=self.clock))

    @rule(
        key=keys,
        state=st.sampled_from(
            [JobState.SUCCEEDED, JobState.FAILED_CHARGED, JobState.UNKNOWN_CHARGED]
        ),
        cost=st.sampled_from([0, 5_000, 50_000]),
        delivered=st.integers(0, 3),
        charge_user=st.booleans(),
    )
    def settle(
        self, key: str, state: JobState, cost: int, delivered: int, charge_user: bool
    ) -> None:
        job = self.jobs[key]
        if job.id == -1:
            return
        delivered = min(delivered, job.images)
        view = self.run(
            self.store.settle(
                job.id,
                state=state,
                cost_micros=cost,
                images_delivered=delivered,
                charge_user=charge_user,
                now=self.clock,
            )
        )
        if job.state in (JobState.RESERVED, JobState.SUBMITTED):
            self._finish(
                job, state, cost, delivered if state == JobState.SUCCEEDED else 0, charge_user
            )
        assert view.state == job.state

    @rule(key=keys)
    def release(self, key: str) -> None:
        job = self.jobs[key]
        if job.id == -1:
            return
        if job.state == JobState.SUBMITTED:
            with pytest.raises(JobConflict):
                self.run(self.store.release(job.id, error="x", now=self.clock))
            return
        view = self.run(self.store.release(job.id, error="invalid.local", now=self.clock))
        if job.state == JobState.RESERVED:
            self._finish(job, JobState.RELEASED, 0, 0, True)
            job.state = JobState.RELEASED
        assert view.state == job.state

    @rule(seconds=st.sampled_from([1, 30, 61, 600]))
    def tick_and_reap(self, seconds: int) -> None:
        self.clock += timedelta(seconds=seconds)
        reaped = self.run(self.store.reap(now=self.clock))
        mine = {j.id for j in reaped if j.user_scope == self.identity.user_scope}
        expected = set()
        for job in self.jobs.values():
            if (
                job.state in (JobState.RESERVED, JobState.SUBMITTED)
                and job.lease_until < self.clock
            ):
                expected.add(job.id)
                if job.state == JobState.RESERVED:
                    self._finish(job, JobState.RELEASED, 0, 0, True)
                    job.state = JobState.RELEASED
                else:
                    self._finish(job, JobState.UNKNOWN_CHARGED, job.worst, 0, True)
        assert mine == expected

    @precondition(lambda self: bool(self.jobs))
    @invariant()
    def counters_match_model(self) -> None:
        status = self.run(self.store.quota_status(self.identity, LIMITS, now=self.clock))
        images = status.get("user_daily_images")
        money = status.get("community_monthly_usd")
        live = status.get("user_concurrent_jobs")
        assert images is not None and money is not None and live is not None
        assert images.used + images.reserved == self.images_used
        assert round((money.used + money.reserved) * 1_000_000) == self.money_used
        assert live.reserved + live.used == self.live

    def teardown(self) -> None:
        if self.jobs:
            assert self.run(self.store.check(now=self.clock)) == []


def test_state_machine_against_model(db_url: str) -> None:
    loop = asyncio.new_event_loop()
    store = loop.run_until_complete(Store.open(db_url))
    JobMachine.store, JobMachine.loop = store, loop
    try:
        run_state_machine_as_test(
            JobMachine,
            settings=settings(
                max_examples=25,
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        loop.run_until_complete(store.close())
        loop.close()
