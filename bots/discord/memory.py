"""Small in-memory caches for what the database does not keep: image bytes.

- :class:`PendingRequests`: refused requests (with their input images) waiting for a
  "Use suggested prompt" / "Send anyway" click, under a short random token.
- :class:`SourceCache`: the input images of recent edit jobs, so Re-roll can repeat an edit.

Both are bounded and forget after a restart; the buttons then answer "expired".
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

from core.types import ImageRequest, PreparedImage

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    def __init__(self, size: int, ttl_s: float) -> None:
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._size, self._ttl = size, ttl_s

    def put(self, key: K, value: V) -> None:
        self._items[key] = (time.monotonic(), value)
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is None or time.monotonic() - found[0] > self._ttl:
            self._items.pop(key, None)
            return None
        return found[1]


@dataclass(frozen=True)
class Pending:
    request: ImageRequest
    suggestion: str | None


class PendingRequests(Lru[str, Pending]):
    def __init__(self, size: int = 512, ttl_s: float = 3600.0) -> None:
        super().__init__(size, ttl_s)

    def add(self, request: ImageRequest, suggestion: str | None) -> str:
        token = secrets.token_hex(8)
        self.put(token, Pending(request, suggestion))
        return token


@dataclass(frozen=True)
class Sources:
    images: tuple[PreparedImage, ...]
    mask: PreparedImage | None
    markup: PreparedImage | None = None


class SourceCache(Lru[int, Sources]):
    def __init__(self, size: int = 64, ttl_s: float = 6 * 3600.0) -> None:
        super().__init__(size, ttl_s)
