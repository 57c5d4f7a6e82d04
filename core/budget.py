"""The upstream budget: ``provider.max_concurrency`` and ``provider.requests_per_minute`` for
every process on the database, fair per user across processes.

:func:`make_budget` picks the budget for a store. SQLite (one process): the in-process
:class:`~core.queue.FairQueue`. PostgreSQL: :class:`SharedBudget`, whose slots are rows of
``upstream_slot`` and whose waiting jobs are rows of ``upstream_wait``, granted in the fair order
across all processes (:mod:`core.store.slots` has the transaction and the order). Both offer the
same interface: ``async with budget.slot(user, on_position, job_id=..., community=...)``,
``depth``, ``active``, ``renew()``, ``close()``.

How a :class:`SharedBudget` works. Each process runs one tick at a time, and a tick is one short
transaction (:meth:`~core.store.slots.SlotRoom.upstream_tick`): it hands in what changed locally
since the last tick (new waits, cancelled waits, finished slots, all batched), expires what dead
processes left, grants every free slot to whoever is next in the fair order (in this process or
another), and reads back which of this process's jobs now hold one. So a burst of a thousand jobs
costs a few transactions, not a thousand, and a slot freed here is re-granted in the same
transaction that frees it.

Why polling, not LISTEN/NOTIFY. A slot freed in another process is granted there, by that
process's tick; this process learns about it on its next tick. Ticks run at once when something
changes here (a job arrives or finishes), otherwise every ``poll_min_s`` doubling up to
``poll_max_s`` (0.02 s .. 0.2 s) while jobs wait. That costs one small transaction per waiting
process per tick, whatever the number of waiters; at a 1 s upstream call the slot lies idle a
few hundredths of a second on average. LISTEN/NOTIFY would save those hundredths, at the price
of one more long-lived connection per process outside the store's pool and thread path, a
notification that can be lost on a reconnect (so the poll would be needed anyway), and a channel
shared by every schema of the database. The rows remain the truth either way.

Leases. A wait and a slot carry their job's lease: :meth:`SharedBudget.renew` renews them on the
service's heartbeat, with the jobs' own leases; a process that dies stops renewing, and its slots
are freed (its waits dropped) by the first tick after their lease ran out, in any process.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from core.queue import ANNOUNCE_BATCH, FairQueue, PositionCallback
from core.types import OPERATOR_POOL

if TYPE_CHECKING:
    from core.store import Store
    from core.store.slots import Waiting

log = logging.getLogger(__name__)

POLL_MIN_S = 0.02
POLL_MAX_S = 0.2
POSITIONS_EVERY_S = 1.0  # queue positions are read from the database at most this often
TIDY_EVERY_S = 1.0  # renew this holder's rows and clear expired ones this often


class Budget(Protocol):
    """What :class:`~core.service.ImageService` asks of a budget."""

    @property
    def depth(self) -> int: ...  # jobs of this process waiting

    @property
    def active(self) -> int: ...  # slots this process holds

    def slot(
        self,
        user: str,
        on_position: PositionCallback | None = None,
        *,
        job_id: int | None = None,
        community: str | None = None,
    ) -> AbstractAsyncContextManager[None]: ...

    async def renew(self) -> None: ...

    async def close(self) -> None: ...


def make_budget(
    store: Store,
    *,
    limit: int,
    per_minute: int | None,
    lease_s: float,
    pool: str = OPERATOR_POOL,
) -> FairQueue | SharedBudget:
    """SQLite: this process's own queue. PostgreSQL: the budget shared through the database.
    ``pool`` names whose gateway key the budget is for (a community's own key has its own)."""
    if store.dialect == "sqlite":
        return FairQueue(limit, per_minute=per_minute)
    return SharedBudget(store, limit=limit, per_minute=per_minute, lease_s=lease_s, pool=pool)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Waiter:
    future: asyncio.Future[None]
    on_position: PositionCallback | None
    position: int = 0
    told: int = 0


@dataclass
class _Pending:
    """Local changes not yet handed to a tick."""

    enter: dict[int, Waiting] = field(default_factory=dict)
    leave: set[int] = field(default_factory=set)
    release: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.enter or self.leave or self.release)


class SharedBudget:
    """The budget shared by every process on one database (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        *,
        limit: int,
        per_minute: int | None = None,
        lease_s: float,
        holder: str | None = None,
        clock: Callable[[], datetime] = _utc_now,
        poll_min_s: float = POLL_MIN_S,
        poll_max_s: float = POLL_MAX_S,
        pool: str = OPERATOR_POOL,
    ) -> None:
        self.store = store
        self.pool = pool  # whose gateway key: each pool is a budget of its own
        self.limit = limit
        self.per_minute = per_minute
        self.lease_s = lease_s
        # who holds a row: this budget (two services in one process are two holders)
        self.holder = holder or (
            f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"
        )
        self._clock = clock
        self.poll_min_s, self.poll_max_s = poll_min_s, poll_max_s
        self.ticks = 0  # ticks done (tests wait on it instead of on time)
        self.in_use = 0  # slots held by every process, as of the last tick
        self._waiting: dict[int, _Waiter] = {}
        self._held: set[int] = set()
        self._pending = _Pending()
        self._local_ids = itertools.count(-1, -1)  # for slots asked without a job id
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._announcer: asyncio.Task[None] | None = None
        self._positions_at = -POSITIONS_EVERY_S
        self._tidy_at = -TIDY_EVERY_S
        self._closed = False

    @property
    def depth(self) -> int:
        return len(self._waiting)

    @property
    def active(self) -> int:
        return len(self._held)

    @asynccontextmanager
    async def slot(
        self,
        user: str,
        on_position: PositionCallback | None = None,
        *,
        job_id: int | None = None,
        community: str | None = None,
    ) -> AsyncIterator[None]:
        from core.store.slots import Waiting

        if self._closed:
            raise RuntimeError("budget is closed")
        key = next(self._local_ids) if job_id is None else job_id
        if key in self._waiting or key in self._held:
            raise ValueError(f"job {key} already waits or holds a slot")
        waiter = _Waiter(asyncio.get_running_loop().create_future(), on_position)
        self._waiting[key] = waiter
        self._pending.enter[key] = Waiting(key, user, community)
        self._kick()
        try:
            await waiter.future
        except asyncio.CancelledError:
            self._waiting.pop(key, None)
            if waiter.future.done() and not waiter.future.cancelled():
                self._held.discard(key)  # granted as we were cancelled: give it back
                self._pending.release.add(key)
            elif self._pending.enter.pop(key, None) is None:
                self._pending.leave.add(key)  # its wait row exists: delete it
            self._kick()
            raise
        try:
            yield
        finally:
            self._held.discard(key)
            self._pending.release.add(key)
            self._kick()

    async def renew(self) -> None:
        """Renew this process's slots and waits (called with the jobs' lease renewal)."""
        if self._held or self._waiting:
            await self.store.upstream_renew(self.holder, now=self._clock(), lease_s=self.lease_s)

    async def idle(self) -> None:
        """Return once every change made here has reached the database (no tick pending)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def close(self) -> None:
        """Stop ticking and give back what this process holds or waits for."""
        self._closed = True
        for task in (self._task, self._announcer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._announcer = None
        pending, self._pending = self._pending, _Pending()
        release = pending.release | self._held
        leave = pending.leave | (set(self._waiting) - set(pending.enter))
        if release or leave:
            with contextlib.suppress(Exception):  # the leases end them anyway
                await self.store.upstream_tick(
                    self.holder,
                    now=self._clock(),
                    lease_s=self.lease_s,
                    limit=self.limit,
                    per_minute=self.per_minute,
                    leave=sorted(leave),
                    release=sorted(release),
                    pool=self.pool,
                )
        for waiter in self._waiting.values():
            if not waiter.future.done():
                waiter.future.cancel()

    # -- the ticks ------------------------------------------------------------------------

    def _kick(self) -> None:
        if self._closed:
            return
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._tick_loop(), name="pixelsmith-budget"
            )

    async def _tick_loop(self) -> None:
        assert self._wake is not None
        interval = self.poll_min_s
        while self._waiting or self._pending:
            if not self._wake.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), interval)
            self._wake.clear()
            busy = await self._tick()
            interval = self.poll_min_s if busy else min(interval * 2, self.poll_max_s)

    async def _tick(self) -> bool:
        """One tick; True when something moved (then the next one comes soon)."""
        pending, self._pending = self._pending, _Pending()
        clock = time.monotonic()
        wants_positions = clock - self._positions_at >= POSITIONS_EVERY_S and any(
            w.on_position is not None for w in self._waiting.values()
        )
        tidy = clock - self._tidy_at >= TIDY_EVERY_S
        try:
            tick = await self.store.upstream_tick(
                self.holder,
                now=self._clock(),
                lease_s=self.lease_s,
                limit=self.limit,
                per_minute=self.per_minute,
                enter=list(pending.enter.values()),
                leave=sorted(pending.leave),
                release=sorted(pending.release),
                positions=wants_positions,
                tidy=tidy,
                pool=self.pool,
            )
        except Exception:
            log.exception("upstream budget tick failed; retrying")
            # hand the changes to the next tick (newer ones win: a cancel after an enter)
            pending.enter.update(self._pending.enter)
            pending.leave |= self._pending.leave
            pending.release |= self._pending.release
            self._pending = pending
            await asyncio.sleep(self.poll_max_s)
            return False
        self.ticks += 1
        self.in_use = tick.in_use
        if tidy:
            self._tidy_at = clock
        moved = bool(pending.release)
        for job_id in tick.held:
            waiter = self._waiting.pop(job_id, None)
            if waiter is not None:
                self._held.add(job_id)
                waiter.future.set_result(None)
                moved = True
            elif job_id not in self._held and job_id not in self._pending.release:
                # granted in the tick that also carried its cancellation: give it back
                self._pending.release.add(job_id)
                moved = True
        lost = self._held - tick.held - self._pending.release
        if lost:
            log.warning("%d upstream slots expired while held (lease renewal late?)", len(lost))
        if wants_positions:
            self._positions_at = time.monotonic()
            self._announce(tick.positions)
        return moved

    # -- positions ------------------------------------------------------------------------

    def _announce(self, positions: dict[int, int]) -> None:
        for job_id, place in positions.items():
            waiter = self._waiting.get(job_id)
            if waiter is not None:
                waiter.position = place
        if self._announcer is None or self._announcer.done():
            self._announcer = asyncio.get_running_loop().create_task(self._announce_loop())

    async def _announce_loop(self) -> None:
        # like FairQueue: grants never wait for progress messages, which are sent in batches
        while True:
            due = [w for w in self._waiting.values() if w.on_position and w.told != w.position]
            if not due:
                return
            for n, waiter in enumerate(due, start=1):
                if n % ANNOUNCE_BATCH == 0:
                    await asyncio.sleep(0)
                if waiter.future.done() or waiter.on_position is None:
                    continue
                waiter.told = waiter.position
                with contextlib.suppress(Exception):
                    await waiter.on_position(waiter.position)
