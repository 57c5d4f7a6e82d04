"""Platform installs and OAuth states in the store, on SQLite and PostgreSQL: a reinstall
replaces, a group finds its workspaces' installs only when asked, a state is consumed once
(two processes racing for the same state: exactly one wins), an expired state never."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from core.store import Store


def row(key: str, group: str | None = None, sealed: str = "gAAAAA-one") -> dict[str, object]:
    return {
        "platform": "slack",
        "key": key,
        "group_id": group,
        "details": {"team_id": key},
        "sealed": sealed,
        "installed_at": datetime.now(UTC),
    }


async def test_installs_are_saved_replaced_found_and_dropped(db_url: str) -> None:
    store = await Store.open(db_url)
    try:
        await store.save_install(row("T0ONE0001", "E0ORG0001"))
        await store.save_install(row("T0ONE0001", "E0ORG0001", sealed="gAAAAA-two"))
        await store.save_install(row("T0TWO0001"))
        found = await store.find_install("slack", "T0ONE0001")
        assert found is not None and found["sealed"] == "gAAAAA-two"
        assert await store.find_install("slack", "E0ORG0001") is None
        grouped = await store.find_install("slack", "E0ORG0001", group=True)
        assert grouped is not None and grouped["key"] == "T0ONE0001"
        assert await store.find_install("discord", "T0ONE0001") is None
        assert await store.install_keys("slack") == ["T0ONE0001", "T0TWO0001"]
        assert await store.count_installs("slack") == 2
        assert await store.drop_install("slack", "T0ONE0001")
        assert not await store.drop_install("slack", "T0ONE0001")
        assert await store.install_keys("slack") == ["T0TWO0001"]
    finally:
        await store.close()


async def test_a_state_is_consumed_once_and_never_after_it_expires(db_url: str) -> None:
    first = await Store.open(db_url)
    second = await Store.open(db_url)
    try:
        now = datetime.now(UTC)
        await first.issue_oauth_state("raced", now + timedelta(minutes=10))
        wins = await asyncio.gather(
            first.consume_oauth_state("raced"), second.consume_oauth_state("raced")
        )
        assert sorted(wins) == [False, True]
        await first.issue_oauth_state("late", now + timedelta(minutes=10))
        assert not await second.consume_oauth_state("late", now=now + timedelta(minutes=11))
        assert not await first.consume_oauth_state("late")  # swept with the late consume
        assert not await first.consume_oauth_state("never-issued")
        await first.issue_oauth_state("old", now + timedelta(minutes=10))
        await first.issue_oauth_state(
            "new", now + timedelta(minutes=30), now=now + timedelta(minutes=20)
        )
        assert not await second.consume_oauth_state("old", now=now)  # swept by the later issue
        assert await second.consume_oauth_state("new", now=now)
    finally:
        await first.close()
        await second.close()
