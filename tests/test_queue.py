"""The fair queue: a global limit, round robin across users, positions reported, the minute
window; and SQLite keeps it (PostgreSQL's shared budget: tests/store/test_budget_*.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.budget import make_budget
from core.queue import FairQueue
from core.service import ImageService
from core.store import Store
from tests.conftest import make_settings


async def test_limit_and_round_robin_order() -> None:
    queue = FairQueue(limit=2)
    release = asyncio.Event()
    order: list[str] = []
    active = 0
    peak = 0

    async def job(user: str, tag: str) -> None:
        nonlocal active, peak
        async with queue.slot(user):
            active += 1
            peak = max(peak, active)
            order.append(tag)
            await release.wait()
            active -= 1

    tasks = [asyncio.create_task(job("burst", f"b{i}")) for i in range(6)]
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(job(f"u{i}", f"u{i}")) for i in range(3)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == ["b0", "b1"] and queue.depth == 7
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 2
    # After the first two, every waiting user gets a turn before the burst user's next job.
    assert order[2:8] == ["b2", "u0", "u1", "u2", "b3", "b4"]


async def test_positions_are_reported_and_updated() -> None:
    queue = FairQueue(limit=1)
    gate = asyncio.Event()
    seen: dict[str, list[int]] = {"a": [], "b": []}

    async def hold() -> None:
        async with queue.slot("x"):
            await gate.wait()

    inside_a = asyncio.Event()
    gate_a = asyncio.Event()

    async def wait(user: str) -> None:
        async def on_position(pos: int) -> None:
            seen[user].append(pos)

        async with queue.slot(user, on_position):
            if user == "a":
                inside_a.set()
                await gate_a.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    a = asyncio.create_task(wait("a"))
    await asyncio.sleep(0)
    b = asyncio.create_task(wait("b"))
    for _ in range(5):  # positions are announced by a background task
        await asyncio.sleep(0)
    assert seen == {"a": [1], "b": [2]}
    gate.set()
    await inside_a.wait()
    for _ in range(3):
        await asyncio.sleep(0)
    assert seen["b"] == [2, 1]  # moved up when "a" got its slot
    gate_a.set()
    await asyncio.gather(holder, a, b)


async def test_cancelled_waiter_leaves_the_line() -> None:
    queue = FairQueue(limit=1)
    gate = asyncio.Event()

    async def hold() -> None:
        async with queue.slot("x"):
            await gate.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(hold())
    await asyncio.sleep(0)
    assert queue.depth == 1
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert queue.depth == 0
    gate.set()
    await holder
    assert queue.active == 0


async def test_requests_per_minute_in_one_process() -> None:
    now = [0.0]
    queue = FairQueue(limit=5, per_minute=2, clock=lambda: now[0])
    started: list[str] = []

    async def job(tag: str) -> None:
        async with queue.slot(tag):
            started.append(tag)

    tasks = [asyncio.create_task(job(f"j{i}")) for i in range(5)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert started == ["j0", "j1"] and queue.depth == 3  # free slots, but the window is full
    now[0] = 59.9
    queue.pump()
    await asyncio.sleep(0)
    assert len(started) == 2
    now[0] = 60.0  # the first two grants leave the window
    queue.pump()
    for _ in range(3):
        await asyncio.sleep(0)
    assert started == ["j0", "j1", "j2", "j3"]
    now[0] = 120.0
    queue.pump()
    await asyncio.gather(*tasks)
    assert started == ["j0", "j1", "j2", "j3", "j4"]
    await queue.close()


async def test_sqlite_keeps_the_in_process_queue(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, provider={"max_concurrency": 4, "requests_per_minute": 9})
    async with await Store.open(settings.database.url) as store:
        budget = make_budget(store, limit=4, per_minute=9, lease_s=60)
        assert isinstance(budget, FairQueue) and budget.per_minute == 9
    service = await ImageService.create(settings)
    try:
        assert isinstance(service.queue, FairQueue)
        assert (service.queue.limit, service.queue.per_minute) == (4, 9)
    finally:
        await service.close()
