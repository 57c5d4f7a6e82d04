"""The shared upstream budget's rows: leased slots and waiting jobs (see :mod:`core.budget`).

One transaction per tick of a process's budget (:meth:`SlotRoom.upstream_tick`), under one
lock for the whole database (PostgreSQL: ``pg_advisory_xact_lock`` on a key derived from the
schema; SQLite: the ``BEGIN IMMEDIATE`` every writer takes anyway). In it, in this order:

1. this process's finished slots are released and its cancelled waits removed;
2. its new waits are inserted;
3. about once a second (``tidy``): its rows are renewed (it ticks, so it is alive), and expired
   rows go: a held slot whose lease ran out (its holder died or hung) is released at its
   lease's end, a wait whose lease ran out is deleted, a released slot granted more than a
   minute ago is deleted (nothing needs it any more). Between tidy ticks, every tick ignores
   expired slots and waits all the same;
4. free = ``limit`` - held slots, and at most ``per_minute`` - slots granted in the last 60 s;
5. the first ``free`` waits in the fair order are granted, whichever process they wait in;
6. what this process needs back: which of its jobs hold a slot now, and (when asked) the
   queue position of each of its waiting jobs.

The fair order: each wait's turn is its user's slots held or granted in the last minute, plus
its rank among that user's own waits (oldest first); lowest turn first, then the user whose
last grant is oldest (never: first), then the oldest wait. Granting ``free`` slots in that
order is what granting them one by one to "the user with the fewest" would do, and it is the
same whether the waits sit in one process or in many.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Subquery, Table, delete, func, insert, or_, select, text, update

from core.store.clock import utc
from core.store.engine import PRIORITY_SUBMIT, Room, Tx
from core.store.tables import metadata
from core.types import OPERATOR_POOL

SLOT: Table = metadata.tables["upstream_slot"]
WAIT: Table = metadata.tables["upstream_wait"]
WINDOW = timedelta(seconds=60)  # requests_per_minute is a sliding window of this length
# One lock per schema: deployments (and test schemas) sharing a database do not wait on
# each other.
# One budget per gateway key (``pool``): the operator's, and each community's own key's.
# The same statement turns nested-loop joins off for the rest of this transaction: these tables
# change too fast for the planner's statistics (a burst starts on empty, never analysed tables),
# and with a row estimate of 1 it joins the waits to the users' usage in a nested loop that costs
# ~100 ms per tick at 2,000 waits, instead of a hash join's ~3 ms.
_LOCK = text(
    "SELECT set_config('enable_nestloop', 'off', true), "
    "pg_advisory_xact_lock(hashtext('pixelsmith.upstream:' || current_schema() || ':' || :pool))"
)


@dataclass(frozen=True)
class Waiting:
    """A job that wants a slot: its id, and whose budget it counts against."""

    job_id: int
    user_scope: str
    community_scope: str | None = None


@dataclass(frozen=True)
class SlotTick:
    """What one tick found. ``held``: this holder's jobs that hold a slot now. ``positions``:
    job id -> place in the shared queue (1 = next), when asked. ``next_free_at``: when the
    minute window lets one more grant through, if that window is what is full."""

    held: frozenset[int]
    positions: dict[int, int] = field(default_factory=dict)
    in_use: int = 0
    waiting: int = 0
    next_free_at: datetime | None = None


class SlotRoom(Room):
    async def upstream_tick(
        self,
        holder: str,
        *,
        now: datetime,
        lease_s: float,
        limit: int,
        per_minute: int | None,
        enter: Sequence[Waiting] = (),
        leave: Sequence[int] = (),
        release: Sequence[int] = (),
        positions: bool = False,
        tidy: bool = True,
        pool: str = OPERATOR_POOL,
    ) -> SlotTick:
        """One tick of ``holder``'s budget (see the module docstring). ``tidy``: also renew
        ``holder``'s rows and clear expired ones (a budget does it about once a second; an
        expired slot or wait is ignored by every tick meanwhile). ``pool``: whose gateway key
        the budget is for; ``limit`` and ``per_minute`` count that pool's slots only."""
        return await self._run(
            PRIORITY_SUBMIT,
            self._tick_sync,
            holder,
            utc(now),
            lease_s,
            limit,
            per_minute,
            list(enter),
            list(leave),
            list(release),
            positions,
            tidy,
            pool,
        )

    async def upstream_renew(self, holder: str, *, now: datetime, lease_s: float) -> int:
        """Renew the leases of ``holder``'s slots and waits (with its jobs' leases)."""
        return await self._run(PRIORITY_SUBMIT, self._renew_slots_sync, holder, utc(now), lease_s)

    async def upstream_usage(self, *, now: datetime) -> dict[str, int]:
        """Held slots, grants in the last minute and waits, across every process."""
        return await self._call(self._slot_usage_sync, utc(now))

    def _renew_slots_sync(self, holder: str, now: datetime, lease_s: float) -> int:
        with self._db.transaction() as tx:
            return self._renew_rows(tx, holder, now, lease_s)

    @staticmethod
    def _renew_rows(tx: Tx, holder: str, now: datetime, lease_s: float) -> int:
        """Renew ``holder``'s held slots and waits. A slot another tick has already expired
        (``released_at`` set) stays released: its place may have been granted again."""
        until = now + timedelta(seconds=lease_s)
        due = now + timedelta(seconds=lease_s / 2)  # rows renewed lately are left alone
        held = tx.execute(
            update(SLOT)
            .where(SLOT.c.holder == holder, SLOT.c.released_at.is_(None))
            .where(SLOT.c.lease_until < due)
            .values(lease_until=until)
        ).rowcount
        waits = tx.execute(
            update(WAIT)
            .where(WAIT.c.holder == holder, WAIT.c.lease_until < due)
            .values(lease_until=until)
        ).rowcount
        return int(held) + int(waits)

    def _slot_usage_sync(self, now: datetime) -> dict[str, int]:
        with self._db.transaction(write=False) as tx:
            held, recent = tx.execute(
                select(
                    func.count().filter(SLOT.c.released_at.is_(None), SLOT.c.lease_until >= now),
                    func.count().filter(SLOT.c.granted_at > now - WINDOW),
                )
            ).one()
            waiting = tx.execute(
                select(func.count()).select_from(WAIT).where(WAIT.c.lease_until >= now)
            ).scalar_one()
        return {"held": int(held), "recent": int(recent), "waiting": int(waiting)}

    def _tick_sync(
        self,
        holder: str,
        now: datetime,
        lease_s: float,
        limit: int,
        per_minute: int | None,
        enter: list[Waiting],
        leave: list[int],
        release: list[int],
        positions: bool,
        tidy: bool,
        pool: str,
    ) -> SlotTick:
        with self._db.transaction() as tx:
            if not self._db.sqlite:
                tx.execute(_LOCK, {"pool": pool})
            if release:
                tx.execute(
                    update(SLOT)
                    .where(
                        SLOT.c.holder == holder,
                        SLOT.c.job_id.in_(release),
                        SLOT.c.released_at.is_(None),
                    )
                    .values(released_at=now)
                )
            if leave:
                tx.execute(delete(WAIT).where(WAIT.c.holder == holder, WAIT.c.job_id.in_(leave)))
            if enter:
                until = now + timedelta(seconds=lease_s)
                tx.execute(
                    insert(WAIT),
                    [
                        {
                            "pool": pool,
                            "holder": holder,
                            "job_id": w.job_id,
                            "user_scope": w.user_scope,
                            "community_scope": w.community_scope,
                            "created_at": now,
                            "lease_until": until,
                        }
                        for w in enter
                    ],
                )
            if tidy:
                # this holder is alive (it ticks): its rows are renewed before anyone's expire
                self._renew_rows(tx, holder, now, lease_s)
                self._expire(tx, now, pool)
            since = now - WINDOW
            in_use, recent, oldest = tx.execute(
                select(
                    # a slot past its lease is free even before a tidy tick releases it
                    func.count().filter(SLOT.c.released_at.is_(None), SLOT.c.lease_until >= now),
                    func.count().filter(SLOT.c.granted_at > since),
                    func.min(SLOT.c.granted_at).filter(SLOT.c.granted_at > since),
                ).where(SLOT.c.pool == pool)
            ).one()
            free = limit - int(in_use)
            next_free_at = None
            if per_minute is not None and per_minute - int(recent) < free:
                free = per_minute - int(recent)
                if free <= 0 and oldest is not None:
                    next_free_at = utc(oldest) + WINDOW
            if free > 0:
                in_use += self._grant(tx, now, since, free, pool)
            held = tx.execute(
                select(SLOT.c.job_id).where(SLOT.c.holder == holder, SLOT.c.released_at.is_(None))
            ).scalars()
            held_ids = frozenset(int(j) for j in held)
            waiting = -1  # not counted on this tick
            if tidy or positions:
                waiting = int(
                    tx.execute(
                        select(func.count()).select_from(WAIT).where(WAIT.c.pool == pool)
                    ).scalar_one()
                )
            places: dict[int, int] = {}
            if positions and waiting:
                ranked = self._ranked(now, since, pool)
                rows = tx.execute(
                    select(ranked.c.job_id, ranked.c.place).where(ranked.c.holder == holder)
                )
                places = {int(j): int(p) for j, p in rows}
        return SlotTick(
            held=held_ids,
            positions=places,
            in_use=int(in_use),
            waiting=waiting,
            next_free_at=next_free_at,
        )

    def _expire(self, tx: Tx, now: datetime, pool: str) -> None:
        # Only the pool whose lock this transaction holds: two pools' ticks never touch the
        # same rows, so their transactions cannot deadlock on each other.
        tx.execute(
            update(SLOT)
            .where(SLOT.c.pool == pool, SLOT.c.released_at.is_(None), SLOT.c.lease_until < now)
            .values(released_at=SLOT.c.lease_until)
        )
        tx.execute(delete(WAIT).where(WAIT.c.pool == pool, WAIT.c.lease_until < now))
        tx.execute(
            delete(SLOT).where(
                SLOT.c.pool == pool,
                SLOT.c.released_at.is_not(None),
                SLOT.c.granted_at <= now - WINDOW,
            )
        )

    @staticmethod
    def _ranked(now: datetime, since: datetime, pool: str) -> Subquery:
        """Every wait with its place in the fair order (see the module docstring)."""
        usage = (
            select(
                SLOT.c.user_scope,
                func.count().label("used"),
                func.max(SLOT.c.granted_at).label("last"),
            )
            .where(
                SLOT.c.pool == pool,
                or_(SLOT.c.released_at.is_(None), SLOT.c.granted_at > since),
            )
            .group_by(SLOT.c.user_scope)
            .subquery()
        )
        turn = func.coalesce(usage.c.used, 0) + func.row_number().over(
            partition_by=WAIT.c.user_scope, order_by=WAIT.c.id
        )
        turns = (
            select(
                WAIT.c.id,
                WAIT.c.holder,
                WAIT.c.job_id,
                WAIT.c.user_scope,
                WAIT.c.community_scope,
                WAIT.c.lease_until,
                turn.label("turn"),
                usage.c.last,
            )
            .select_from(WAIT.outerjoin(usage, usage.c.user_scope == WAIT.c.user_scope))
            # a dead process's wait is never granted
            .where(WAIT.c.pool == pool, WAIT.c.lease_until >= now)
            .subquery()
        )
        place = func.row_number().over(
            order_by=(turns.c.turn, turns.c.last.asc().nulls_first(), turns.c.id)
        )
        return select(turns, place.label("place")).subquery()

    def _grant(self, tx: Tx, now: datetime, since: datetime, free: int, pool: str) -> int:
        ranked = self._ranked(now, since, pool)
        winners = (
            tx.execute(select(ranked).where(ranked.c.place <= free).order_by(ranked.c.place))
            .mappings()
            .all()
        )
        if not winners:
            return 0
        tx.execute(
            insert(SLOT),
            [
                {
                    "pool": pool,
                    "holder": w["holder"],
                    "job_id": w["job_id"],
                    "user_scope": w["user_scope"],
                    "community_scope": w["community_scope"],
                    "granted_at": now,
                    "lease_until": max(utc(w["lease_until"]), now),
                }
                for w in winners
            ],
        )
        tx.execute(delete(WAIT).where(WAIT.c.id.in_([w["id"] for w in winners])))
        return len(winners)
