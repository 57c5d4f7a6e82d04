"""The one token bucket (core.pacing): burst at once, then ``rate`` a second, on a pinned clock;
AckFirst: the work behind an acknowledged request waits for the acks of what arrived before it."""

from __future__ import annotations

import asyncio

from core.pacing import AckFirst, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_full_bucket_gives_its_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(2.0, 3.0, now=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.t += 0.25  # half a token
    assert not bucket.take()
    clock.t += 0.25  # one token
    assert bucket.take() and not bucket.take()
    clock.t += 3600  # never more than the burst saved up
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_every_lets_one_event_through_per_interval() -> None:
    clock = Clock()
    once_a_second = TokenBucket.every(1.0, now=clock)
    assert once_a_second.take() and not once_a_second.take()
    clock.t += 0.5
    assert not once_a_second.take()
    clock.t += 0.5
    assert once_a_second.take()


def test_every_zero_is_no_limit() -> None:
    clock = Clock()
    unlimited = TokenBucket.every(0.0, now=clock)
    assert all(unlimited.take() for _ in range(1000))


async def test_work_waits_for_the_acks_of_earlier_arrivals_only() -> None:
    acks = AckFirst(max_wait_s=60)  # fail-only bound: nothing here runs into it
    await acks.turn()  # nothing pending: at once
    first, second = acks.arrived(), acks.arrived()
    acks.answered(first)
    work = asyncio.create_task(acks.turn())  # behind `second`, which is not answered yet
    await asyncio.sleep(0)  # the work asks now
    later = acks.arrived()  # arrived after the work asked: not waited for
    for _ in range(5):
        await asyncio.sleep(0)
    assert not work.done()
    acks.answered(second)
    await asyncio.wait_for(work, 60)
    assert acks.pending == 1
    acks.answered(later)
    acks.answered(later)  # twice is harmless
    assert acks.pending == 0


async def test_waiters_are_released_in_the_order_of_what_they_wait_for() -> None:
    acks = AckFirst(max_wait_s=60)
    a = acks.arrived()
    behind_a = asyncio.create_task(acks.turn())
    b = acks.arrived()
    behind_b = asyncio.create_task(acks.turn())
    await asyncio.sleep(0)
    acks.answered(b)  # a is still out: nobody may go yet
    for _ in range(5):
        await asyncio.sleep(0)
    assert not behind_a.done() and not behind_b.done()
    acks.answered(a)
    await asyncio.wait_for(asyncio.gather(behind_a, behind_b), 60)


async def test_an_ack_that_never_comes_holds_the_work_up_only_so_long() -> None:
    acks = AckFirst(max_wait_s=0)
    acks.arrived()  # never answered
    await acks.turn()  # returns: the bound (0 s here) has passed
    assert acks.pending == 1
