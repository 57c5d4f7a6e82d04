"""A queue that is fair across users in front of a global limit on upstream calls.

Slots go round-robin over the users who are waiting, so one user's burst of ten does not starve
everyone else; each waiter is told its position whenever it changes. ``per_minute`` (optional)
also caps the grants in any 60 s window.

This is the budget of one process (SQLite). On PostgreSQL every process shares one budget
through the database instead: :mod:`core.budget`, behind the same interface.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

PositionCallback = Callable[[int], Awaitable[None]]
ANNOUNCE_BATCH = 32  # position callbacks per event-loop step
WINDOW_S = 60.0  # per_minute counts the grants of this sliding window


class _Waiter:
    __slots__ = ("future", "on_position", "position")

    def __init__(self, future: asyncio.Future[None], on_position: PositionCallback | None) -> None:
        self.future = future
        self.on_position = on_position
        self.position = 0


class FairQueue:
    """``async with queue.slot(user): ...`` holds one of ``limit`` concurrent slots."""

    def __init__(
        self,
        limit: int,
        *,
        per_minute: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.per_minute = per_minute
        self.active = 0
        self._clock = clock
        self._grants: deque[float] = deque()  # grant times in the window (per_minute only)
        self._timer: asyncio.TimerHandle | None = None
        self._waiting: OrderedDict[str, deque[_Waiter]] = OrderedDict()
        self._announcer: asyncio.Task[None] | None = None
        self._dirty = False

    @property
    def depth(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    @asynccontextmanager
    async def slot(
        self,
        user: str,
        on_position: PositionCallback | None = None,
        *,
        job_id: int | None = None,
        community: str | None = None,
    ) -> AsyncIterator[None]:
        """Hold a slot for the block. ``job_id`` and ``community`` are for the shared budget
        (:mod:`core.budget`); one process's queue needs only the user."""
        if not self._waiting and self._can_grant():
            self._granted()
        else:
            waiter = _Waiter(asyncio.get_running_loop().create_future(), on_position)
            self._waiting.setdefault(user, deque()).append(waiter)
            self._schedule_window()
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

    async def renew(self) -> None:
        """Nothing to renew: one process's slots live and die with it."""

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _can_grant(self) -> bool:
        if self.active >= self.limit:
            return False
        if self.per_minute is None:
            return True
        since = self._clock() - WINDOW_S
        while self._grants and self._grants[0] <= since:
            self._grants.popleft()
        return len(self._grants) < self.per_minute

    def _granted(self) -> None:
        self.active += 1
        if self.per_minute is not None:
            self._grants.append(self._clock())

    def _schedule_window(self) -> None:
        """Waiters held back only by the minute window: grant again when it next frees one."""
        if self._timer is not None or not self._grants or self.active >= self.limit:
            return
        delay = max(0.0, self._grants[0] + WINDOW_S - self._clock())
        self._timer = asyncio.get_running_loop().call_later(delay, self._window_freed)

    def _window_freed(self) -> None:
        self._timer = None
        self.pump()

    def _release(self) -> None:
        self.active -= 1
        self.pump()

    def pump(self) -> None:
        """Grant free slots to waiters, round robin (also after a clock moved the window)."""
        while self._waiting and self._can_grant():
            user, queue = next(iter(self._waiting.items()))
            waiter = queue.popleft()
            # Round robin: this user goes to the back of the line.
            del self._waiting[user]
            if queue:
                self._waiting[user] = queue
            if not waiter.future.done():
                self._granted()
                waiter.future.set_result(None)
        if self._waiting:
            self._schedule_window()
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
