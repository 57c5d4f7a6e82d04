"""One upstream budget for every process on a PostgreSQL database (core/budget.py).

Two ImageService instances, each with its own Store (engine, pool, worker threads) on one
database, stand for two ``pixelsmith run`` processes; they call one fake gateway, which records
the most calls it answered at once. Waiting is on events and counters (``until``), never on
durations; the minute window and the leases run on a pinned clock the test moves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.budget import SharedBudget
from core.service import ImageService
from core.store import Store
from core.store.slots import Waiting
from core.types import Identity
from tests.conftest import make_settings
from tests.fakes.gateway import Behavior, FakeGateway

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
GENERATIONS = "/v1/images/generations"


class Clock:
    """The budget's pinned clock; the fake gateway stamps its calls with it too."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.t)

    def seconds(self) -> float:
        return self.t


async def until(cond: Callable[[], bool], what: str) -> None:
    """Wait for ``cond`` (a deadline against hangs only; nothing is asserted about time)."""
    for _ in range(6000):
        if cond():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def ticks(*budgets: SharedBudget, n: int = 3) -> None:
    """Let every budget that has jobs waiting run ``n`` more ticks (each polls the database)."""
    budgets = tuple(b for b in budgets if b.depth)
    start = [b.ticks for b in budgets]
    await until(
        lambda: all(b.ticks >= s + n for b, s in zip(budgets, start, strict=True)),
        f"{n} more ticks",
    )


def shared(service: ImageService) -> SharedBudget:
    assert isinstance(service.queue, SharedBudget)
    return service.queue


@pytest.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    async with FakeGateway(default=Behavior(latency_s=0.2)) as gw:
        yield gw


@pytest.fixture
async def processes(
    pg_url: str, tmp_path: Path, gateway: FakeGateway
) -> AsyncIterator[Callable[..., Awaitable[list[ImageService]]]]:
    """``await processes(n, **provider)``: n services sharing the database, closed after."""
    opened: list[ImageService] = []

    async def open_(n: int = 2, **provider: Any) -> list[ImageService]:
        for _ in range(n):
            i = len(opened)
            settings = make_settings(
                tmp_path / f"p{i}",
                gateway.base_url,
                provider=provider,
                database={"url": pg_url, "lease_s": 600},
                results={"dir": str(tmp_path / f"results{i}")},
            )
            opened.append(await ImageService.create(settings))
        return opened[-n:]

    yield open_
    for service in opened:
        await service.close()


def pin(service: ImageService, clock: Clock, *, limit: int, per_minute: int | None = None,
        lease_s: float = 600) -> SharedBudget:  # fmt: skip
    """Give a service a budget on the pinned clock (before it runs any job)."""
    budget = SharedBudget(
        service.store, limit=limit, per_minute=per_minute, lease_s=lease_s, clock=clock.now
    )
    service.queue = budget
    return budget


async def run(service: ImageService, user: Identity, prompt: str) -> Any:
    return await service.run(service.build(prompt, user))


async def test_two_processes_never_exceed_one_shared_limit(
    processes: Callable[..., Awaitable[list[ImageService]]], gateway: FakeGateway
) -> None:
    one, two = await processes(2, max_concurrency=3)
    assert isinstance(one.queue, SharedBudget) and one.queue.holder != shared(two).holder
    users = [Identity("discord", f"u{i}", f"g{i % 2}") for i in range(5)]
    jobs = [
        run(svc, users[i % 5], f"a lighthouse at dusk {i}") for i, svc in enumerate([one, two] * 9)
    ]
    results = await asyncio.gather(*jobs)
    assert all(len(r.images) == 1 for r in results)
    assert len(gateway.calls_to(GENERATIONS)) == 18
    # each process alone would allow 3, so 6 at once without the shared budget
    assert 1 <= gateway.peak_in_flight <= 3
    await asyncio.gather(shared(one).idle(), shared(two).idle())
    usage = await one.store.upstream_usage(now=datetime.now(UTC))
    assert usage["held"] == 0 and usage["waiting"] == 0  # every slot freed on settle


async def test_a_user_waiting_in_process_two_goes_before_a_burst_in_process_one(
    processes: Callable[..., Awaitable[list[ImageService]]], gateway: FakeGateway
) -> None:
    gateway.default = Behavior(latency_s=0.4)
    one, two = await processes(2, max_concurrency=2)
    alice = Identity("discord", "alice", "g1")
    bob = Identity("discord", "bob", "g2")
    burst = [asyncio.create_task(run(one, alice, f"alice {i:02d}")) for i in range(20)]
    await until(lambda: len(gateway.calls) >= 2, "alice's first calls")
    bob_job = asyncio.create_task(run(two, bob, "bob's only picture"))
    # process two's first tick is the one that puts bob's wait in the database
    await until(lambda: shared(two).ticks >= 1, "bob's wait is in the database")
    before = len(gateway.calls)
    await asyncio.gather(bob_job, *burst)
    prompts = [c.params["prompt"] for c in gateway.calls_to(GENERATIONS)]
    assert len(prompts) == 21
    bob_at = prompts.index("bob's only picture")
    # Bob is served with the next free slot once his wait is in the database (alice's grants
    # made just before it may reach the gateway after his), not after alice's 20th job, which
    # a first-come queue would have made him wait for.
    assert bob_at < prompts.index("alice 19")
    assert bob_at <= before + 2
    assert gateway.peak_in_flight <= 2


async def test_requests_per_minute_holds_across_processes(
    processes: Callable[..., Awaitable[list[ImageService]]], gateway: FakeGateway
) -> None:
    gateway.default = Behavior(latency_s=0.0)
    clock = Clock()
    gateway.clock = clock.seconds
    one, two = await processes(2)
    budgets = pin(one, clock, limit=10, per_minute=3), pin(two, clock, limit=10, per_minute=3)
    users = [Identity("slack", f"U{i}", "T1") for i in range(8)]
    jobs = [
        asyncio.create_task(run(svc, users[i], f"a paper boat {i}"))
        for i, svc in enumerate([one, two] * 4)
    ]

    def calls() -> int:
        return len(gateway.calls_to(GENERATIONS))

    await until(lambda: calls() == 3 and sum(j.done() for j in jobs) == 3, "the first three")
    await ticks(*budgets)
    assert calls() == 3  # ten slots free, but three calls already started this minute
    clock.t = 59.0
    await ticks(*budgets)
    assert calls() == 3
    clock.t = 60.5
    await until(lambda: calls() == 6, "three more once the minute has passed")
    await ticks(*budgets)
    assert calls() == 6
    clock.t = 121.0
    await asyncio.gather(*jobs)
    assert calls() == 8

    times = sorted(c.at for c in gateway.calls_to(GENERATIONS))
    for t in times:
        assert sum(1 for u in times if t <= u < t + 60) <= 3
    assert times == [0.0] * 3 + [60.5] * 3 + [121.0] * 2


async def test_a_dead_processes_slots_are_freed_after_its_lease(
    processes: Callable[..., Awaitable[list[ImageService]]], gateway: FakeGateway, pg_url: str
) -> None:
    gateway.default = Behavior(latency_s=0.0)
    clock = Clock()
    (alive,) = await processes(1)
    budget = pin(alive, clock, limit=2, lease_s=30)
    # A process that took both slots and was then killed: its rows stay, nobody renews them.
    async with await Store.open(pg_url) as dead:
        granted = await dead.upstream_tick(
            "dead-host:4242:0",
            now=clock.now(),
            lease_s=30,
            limit=2,
            per_minute=None,
            enter=[Waiting(1, "user:discord:ghost"), Waiting(2, "user:discord:ghost")],
        )
        assert granted.held == {1, 2}
    job = asyncio.create_task(run(alive, Identity("discord", "carol", "g1"), "a quiet harbour"))
    await until(lambda: budget.depth == 1, "carol's job waits")
    clock.t = 29.0
    await ticks(budget)
    assert gateway.calls == [] and not job.done()  # the dead process's lease still runs
    clock.t = 31.0
    result = await job
    assert len(result.images) == 1 and len(gateway.calls) == 1
    await budget.idle()
    usage = await alive.store.upstream_usage(now=clock.now())
    assert usage == {"held": 0, "recent": 3, "waiting": 0}


async def test_a_cancelled_wait_never_takes_a_slot(
    processes: Callable[..., Awaitable[list[ImageService]]], gateway: FakeGateway
) -> None:
    clock = Clock()
    one, two = await processes(2)
    b1, b2 = pin(one, clock, limit=1), pin(two, clock, limit=1)
    gate = asyncio.Event()

    async def hold() -> None:
        async with b1.slot("user:x:a", job_id=1):
            await gate.wait()

    holder = asyncio.create_task(hold())
    await until(lambda: b1.active == 1, "the slot is held")
    positions: list[int] = []

    async def told(pos: int) -> None:
        positions.append(pos)

    async def wait() -> None:
        async with b2.slot("user:x:b", told, job_id=2):
            raise AssertionError("a cancelled wait got a slot")

    waiter = asyncio.create_task(wait())
    await until(lambda: positions == [1], "the waiter is told it is next")
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    await b2.idle()
    assert (await one.store.upstream_usage(now=clock.now()))["waiting"] == 0
    gate.set()
    await holder
    await b1.idle()
    assert (await one.store.upstream_usage(now=clock.now()))["held"] == 0
