"""A queue that is fair across users in front of a global limit on upstream calls.

Slots go round-robin over the users who are waiting, so one user's burst of ten does not starve
everyone else; each waiter is told its position whenever it changes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

PositionCallback = Callable[[int], Awaitable[None]]
ANNOUNCE_BATCH = 32  # position callbacks per event-loop step


class _Waiter:
    __slots__ = ("future", "on_position", "position")

    def __init__(self, future: asyncio.Future[None], on_position: PositionCallback | None) -> None:
        self.future = future
        self.on_position = on_position
        self.position = 0


class FairQueue:
    """``async with queue.slot(user): ...`` holds one of ``limit`` concurrent slots."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self._waiting: OrderedDict[str, deque[_Waiter]] = OrderedDict()
        self._announcer: asyncio.Task[None] | None = None
        self._dirty = False

    @property
    def depth(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    @asynccontextmanager
    async def slot(
        self, user: str, on_position: PositionCallback | None = None
    ) -> AsyncIterator[None]:
        if self.active < self.limit and not self._waiting:
            self.active += 1
        else:
            waiter = _Waiter(asyncio.get_running_loop().create_future(), on_position)
            self._waiting.setdefault(user, deque()).append(waiter)
            self._schedule_announce()
            try:
                await waiter.future
            except asyncio.CancelledError:
                if waiter.future.done() and not waiter.future.cancelled():
                    self._release()  # the slot was granted as we were cancelled
                else:
                    self._remove(user, waiter)
                raise
        try:
            yield
        finally:
            self._release()

    def _remove(self, user: str, waiter: _Waiter) -> None:
        queue = self._waiting.get(user)
        if queue and waiter in queue:
            queue.remove(waiter)
            if not queue:
                del self._waiting[user]

    def _release(self) -> None:
        self.active -= 1
        while self._waiting and self.active < self.limit:
            user, queue = next(iter(self._waiting.items()))
            waiter = queue.popleft()
            # Round robin: this user goes to the back of the line.
            del self._waiting[user]
            if queue:
                self._waiting[user] = queue
            if not waiter.future.done():
                self.active += 1
                waiter.future.set_result(None)
        if self._waiting:
            self._schedule_announce()

    def order(self) -> list[_Waiter]:
        """Waiters in the order they will get a slot."""
        queues = [list(q) for q in self._waiting.values()]
        out: list[_Waiter] = []
        depth = max((len(q) for q in queues), default=0)
        for i in range(depth):
            out.extend(q[i] for q in queues if i < len(q))
        return out

    def _schedule_announce(self) -> None:
        """Tell waiters their positions from one background task; bursts coalesce into it."""
        self._dirty = True
        if self._announcer is None or self._announcer.done():
            self._announcer = asyncio.get_running_loop().create_task(self._announce_loop())

    async def _announce_loop(self) -> None:
        # Slot grants never wait for these callbacks: a slow progress message only delays
        # position updates, and positions changed meanwhile are sent once, not once per change.
        while self._dirty:
            self._dirty = False
            await self._announce()

    async def _announce(self) -> None:
        for position, waiter in enumerate(self.order(), start=1):
            if position % ANNOUNCE_BATCH == 0:
                # A thousand waiters' callbacks in one step would stall the event loop (acks and
                # deferrals of new requests wait behind it): let others run between batches.
                await asyncio.sleep(0)
            if waiter.future.done():
                continue  # granted (or cancelled) meanwhile: its position no longer matters
            if waiter.position != position:
                waiter.position = position
                if waiter.on_position is not None:
                    # A progress message failing must not break the queue.
                    with contextlib.suppress(Exception):
                        await waiter.on_position(position)
