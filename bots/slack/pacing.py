"""Pacing helpers: which events were already seen, and how many message edits Slack allows."""

from __future__ import annotations

from collections import OrderedDict

from core.pacing import TokenBucket


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


def edit_budget(per_second: float = 2.0, burst: float = 20.0) -> TokenBucket:
    """chat.update across the app (Slack allows about one edit per second, with bursts):
    progress edits beyond it are skipped, never queued."""
    return TokenBucket(per_second, burst)
