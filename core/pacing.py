"""Pacing: the one token bucket for everything that must not happen too often.

A provider forwards progress at most once per interval (:class:`core.providers.base.Throttle`);
each chat adapter caps its message edits across all jobs (Discord's and Slack's edit budgets).
All of them are a :class:`TokenBucket`: ``rate`` tokens a second, at most ``burst`` saved up;
:meth:`TokenBucket.take` spends one or says no. The clock is a parameter (``now=``), so a test
drives it without wall time.
"""

from __future__ import annotations

import math
import time
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
