"""The one token bucket (core.pacing): burst at once, then ``rate`` a second, on a pinned clock."""

from __future__ import annotations

from core.pacing import TokenBucket


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
