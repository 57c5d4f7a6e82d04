"""Pacing helpers: which events were already seen, and how many message edits Slack allows."""

from __future__ import annotations

import time
from collections import OrderedDict


class Recent:
    """A bounded set of keys seen lately (retried events, one message seen as two events)."""

    def __init__(self, size: int = 10_000) -> None:
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def add(self, key: str) -> bool:
        """Remember ``key``; False if it was already there."""
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self._size:
            self._keys.popitem(last=False)
        return True


class EditBudget:
    """A token bucket for chat.update across the app (Slack allows about one edit per second,
    with bursts): progress edits beyond it are skipped, never queued."""

    def __init__(self, per_second: float = 2.0, burst: float = 20.0) -> None:
        self.per_second, self.burst = per_second, burst
        self._tokens, self._last = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.per_second)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
