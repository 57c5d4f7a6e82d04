"""Pacing: the one token bucket for everything that must not happen too often.

A provider forwards progress at most once per interval (:class:`core.providers.base.Throttle`);
each chat adapter caps its message edits across all jobs (Discord's and Slack's edit budgets).
All of them are a :class:`TokenBucket`: ``rate`` tokens a second, at most ``burst`` saved up;
:meth:`TokenBucket.take` spends one or says no. The clock is a parameter (``now=``), so a test
drives it without wall time.

:class:`AckFirst` orders work on the event loop: a request's acknowledgement before the work
behind requests already acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import math
import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBucket:
    """``rate`` events a second on average, ``burst`` at once; starts full."""

    def __init__(
        self, rate: float, burst: float = 1.0, *, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._now = now
        self._tokens = burst
        self._at = now()

    @classmethod
    def every(cls, interval_s: float, *, now: Callable[[], float] = time.monotonic) -> TokenBucket:
        """At most one event per ``interval_s`` seconds (no limit when it is 0 or less)."""
        return cls(math.inf if interval_s <= 0 else 1 / interval_s, 1.0, now=now)

    def take(self) -> bool:
        """Spend one token if there is one (True), else False: the caller skips or waits."""
        if math.isinf(self.rate):
            return True
        now = self._now()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class AckFirst:
    """Acknowledgements before work: what arrived is answered before the loop goes to the work
    behind what was already answered.

    A chat platform wants each request acknowledged within seconds (a Slack ack, a Discord
    defer), while the work behind one (a claim, a reserve, an upstream call, progress messages)
    may wait a little. In a burst, every acknowledged request's work would compete for the one
    event loop with the acknowledgements still to send. So each request takes a ticket when it
    arrives (:meth:`arrived`) and hands it back once its acknowledgement is out
    (:meth:`answered`); the work behind an acknowledged request first awaits :meth:`turn`, which
    returns once every request that had arrived by then is answered. It never waits for later
    arrivals (no starvation), and at most ``max_wait_s`` (a request that is never answered holds
    nobody up for long).
    """

    def __init__(self, max_wait_s: float = 1.0) -> None:
        self.max_wait_s = max_wait_s
        self._issued = 0
        self._pending: OrderedDict[int, None] = OrderedDict()  # unanswered tickets, oldest first
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []  # heap by last ticket

    @property
    def pending(self) -> int:
        """Requests that arrived and are not answered yet."""
        return len(self._pending)

    def arrived(self) -> int:
        """A request arrived: its ticket, for :meth:`answered`."""
        ticket = self._issued
        self._issued += 1
        self._pending[ticket] = None
        return ticket

    def answered(self, ticket: int) -> None:
        """The request's acknowledgement is out (or it will never be): call it exactly once,
        in a ``finally``."""
        if self._pending.pop(ticket, 0) is not None:
            return  # answered already, or never issued
        oldest = next(iter(self._pending), self._issued)
        while self._waiters and self._waiters[0][0] < oldest:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)

    async def turn(self) -> None:
        """Wait until every request that has arrived so far is answered (or ``max_wait_s``)."""
        last = self._issued - 1
        if not self._pending or next(iter(self._pending)) > last:
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (last, id(future), future))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(future, self.max_wait_s)
