"""The shared upstream budget's transaction (core/store/slots.py), on SQLite and PostgreSQL.

Two holders stand for two processes; every tick gets a pinned ``now``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from core.store import Store
from core.store.slots import Waiting

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
LEASE = 30.0


async def tick(
    store: Store,
    holder: str,
    *,
    at: float = 0.0,
    limit: int = 2,
    per_minute: int | None = None,
    enter: list[Waiting] | None = None,
    release: list[int] | None = None,
    leave: list[int] | None = None,
    positions: bool = False,
    lease: float = LEASE,
    tidy: bool = True,
) -> tuple[set[int], dict[int, int]]:
    done = await store.upstream_tick(
        holder,
        now=T0 + timedelta(seconds=at),
        lease_s=lease,
        limit=limit,
        per_minute=per_minute,
        enter=enter or [],
        leave=leave or [],
        release=release or [],
        positions=positions,
        tidy=tidy,
    )
    return set(done.held), done.positions


async def test_a_user_waiting_in_another_process_goes_before_a_burst(store: Store) -> None:
    burst = [Waiting(i, "user:x:a") for i in range(1, 21)]
    held, _ = await tick(store, "p1", enter=burst)
    assert held == {1, 2}  # the limit, not the burst
    held, places = await tick(store, "p2", enter=[Waiting(101, "user:x:b")], positions=True)
    assert held == set() and places == {101: 1}  # next, ahead of a's 18 waiting jobs
    _, places = await tick(store, "p1", positions=True)
    assert places[3] == 2 and places[20] == 19

    # a's first job ends in p1: the freed slot goes to b, whose job waits in p2
    held, _ = await tick(store, "p1", release=[1])
    assert held == {2}
    held, _ = await tick(store, "p2")
    assert held == {101}
    held, _ = await tick(store, "p1", release=[2])
    assert held == {3}


async def test_never_more_than_the_limit_held_across_holders(store: Store) -> None:
    await tick(store, "p1", limit=3, enter=[Waiting(i, f"user:x:{i % 2}") for i in range(10)])
    await tick(store, "p2", limit=3, enter=[Waiting(i, f"user:y:{i}") for i in range(10)])
    usage = await store.upstream_usage(now=T0)
    assert usage == {"held": 3, "recent": 3, "waiting": 17}


async def test_requests_per_minute_is_a_sliding_window(store: Store) -> None:
    jobs = [Waiting(i, f"user:x:{i}") for i in range(6)]
    held, _ = await tick(store, "p1", limit=10, per_minute=2, enter=jobs, lease=600)
    assert len(held) == 2
    held, _ = await tick(store, "p1", limit=10, per_minute=2, release=sorted(held), at=1)
    assert held == set()  # both slots are free, but two calls started in this minute
    done = await store.upstream_tick(
        "p1", now=T0 + timedelta(seconds=59), lease_s=LEASE, limit=10, per_minute=2
    )
    assert done.held == frozenset() and done.next_free_at == T0 + timedelta(seconds=60)
    held, _ = await tick(store, "p2", limit=10, per_minute=2, at=60)
    assert held == set()  # p2 holds nothing: the grants went to p1's waits
    held, _ = await tick(store, "p1", limit=10, per_minute=2, at=60)
    assert len(held) == 2


async def test_a_dead_holders_slots_and_waits_end_with_their_lease(store: Store) -> None:
    held, _ = await tick(store, "dead", enter=[Waiting(1, "user:x:a"), Waiting(2, "user:x:a")])
    assert held == {1, 2}
    await tick(store, "dead", enter=[Waiting(3, "user:x:a")])  # waits too, then dies
    held, _ = await tick(store, "alive", enter=[Waiting(9, "user:x:b")], at=LEASE - 1)
    assert held == set()  # the dead holder's lease has not run out yet

    # "alive" ticked at LEASE - 1, which renewed its own wait; nobody renews the dead one's.
    # A tick that does not tidy already counts the dead slots as free (and ignores the wait).
    held, _ = await tick(store, "alive", at=LEASE + 1, tidy=False)
    assert held == {9}
    await tick(store, "alive", at=LEASE + 1)
    usage = await store.upstream_usage(now=T0 + timedelta(seconds=LEASE + 1))
    assert usage["held"] == 1 and usage["waiting"] == 0  # the dead one's wait is gone too


async def test_a_live_holder_renews_and_keeps_its_slots(store: Store) -> None:
    held, _ = await tick(store, "p1", enter=[Waiting(1, "user:x:a")])
    assert held == {1}
    for at in (20, 40, 60):
        renewed = await store.upstream_renew("p1", now=T0 + timedelta(seconds=at), lease_s=LEASE)
        assert renewed == 1
    held, _ = await tick(store, "p2", enter=[Waiting(1, "user:x:b")], limit=1, at=70)
    assert held == set()
    held, _ = await tick(store, "p1", limit=1, at=70)
    assert held == {1}


async def test_cancelled_wait_is_never_granted(store: Store) -> None:
    await tick(store, "p1", limit=1, enter=[Waiting(1, "user:x:a"), Waiting(2, "user:x:b")])
    held, _ = await tick(store, "p1", limit=1, leave=[2], release=[1])
    assert held == set()
    assert (await store.upstream_usage(now=T0))["waiting"] == 0


async def test_each_gateway_key_is_a_budget_of_its_own(store: Store) -> None:
    """A community's own key (its pool) neither takes the operator's slots nor waits for them,
    and its limit counts its own slots only."""

    async def pool_tick(
        holder: str, pool: str, enter: Sequence[Waiting] = (), release: Sequence[int] = ()
    ) -> set[int]:
        done = await store.upstream_tick(
            holder,
            now=T0,
            lease_s=LEASE,
            limit=2,
            per_minute=None,
            pool=pool,
            enter=enter,
            release=release,
        )
        return set(done.held)

    operator = [Waiting(i, f"user:x:{i}") for i in range(1, 6)]
    assert await pool_tick("p1", "operator", enter=operator) == {1, 2}
    own = [Waiting(i, f"user:y:{i}") for i in range(11, 16)]
    assert await pool_tick("p2", "key:sha256:abc", enter=own) == {11, 12}
    other = [Waiting(21, "user:z:1")]
    assert await pool_tick("p3", "key:sha256:def", enter=other) == {21}
    assert await pool_tick("p1", "operator", release=[1]) == {2, 3}
    assert await pool_tick("p2", "key:sha256:abc") == {11, 12}  # its limit: its own two
