"""Alembic: an empty database goes to head, a second open is a no-op, data survives."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from core.migrations import HEAD, current
from core.store import EffectiveLimits, Store
from core.store.models import metadata
from core.types import Identity


async def test_empty_to_head_then_noop_and_data_survives(db_url: str) -> None:
    store = await Store.open(db_url)
    with store.engine.connect() as conn:
        assert current(conn) == HEAD
        tables = set(inspect(conn).get_table_names())
        # the schema created by the migration is exactly what the models declare
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    assert {
        "job",
        "quota_bucket",
        "ledger_entry",
        "quota_grant",
        "ban",
        "user_state",
        "quota_override",
    } <= tables
    claim = await store.begin_job(
        idem_key="keep-me",
        identity=Identity("cli", "me"),
        request={"prompt": "survive"},
        model="m",
        images=1,
        worst_cost_micros=1,
        limits=EffectiveLimits(user_daily_images=3),
    )
    await store.close()

    again = await Store.open(db_url)  # upgrade again: nothing to do, nothing lost
    try:
        with again.engine.connect() as conn:
            assert current(conn) == HEAD
        job = await again.get_job_by_key("keep-me")
        assert job is not None and job.id == claim.job.id and job.prompt == "survive"
        assert await again.check() == []
    finally:
        await again.close()


async def test_open_without_migrate_on_empty_db_does_not_create(db_url: str) -> None:
    store = await Store.open(db_url, migrate=False)
    try:
        with store.engine.connect() as conn:
            assert "job" not in inspect(conn).get_table_names()
    finally:
        await store.close()


def test_head_constant_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from core.migrations import alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD


async def test_a_database_at_head_opens_without_loading_alembic(db_url: str) -> None:
    store = await Store.open(db_url)  # migrated to head here
    await store.close()
    code = (
        "import asyncio, sys\n"
        "from core.store import Store\n"
        "async def main():\n"
        f"    store = await Store.open({db_url!r})\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if m == 'alembic' or m.startswith('alembic.')))\n"
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


async def test_0003_keeps_old_community_written_limits_restrict_only(db_url: str) -> None:
    """Old ``user:discord:``/``community:`` overrides could be any community admin's: after the
    upgrade they only restrict; operator-only rows, bans and jobs survive; jobs get public ids."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from core.migrations import upgrade

    store = await Store.open(db_url, migrate=False)
    try:
        with store.engine.begin() as conn:
            upgrade(conn, "0002")
        with store.engine.begin() as conn:
            now = datetime(2026, 12, 1, tzinfo=UTC)
            for scope, limits in (
                ("user:discord:111", '{"user_daily_images": null}'),  # an attacker's "unlimited"
                ("user:slack:U1", '{"user_daily_images": 1}'),  # someone's real restriction
                ("community:discord:A", '{"user_daily_images": 99}'),
                ("user:cli:me", '{"user_daily_images": 50}'),  # only the operator wrote these
            ):
                conn.execute(
                    text(
                        "INSERT INTO quota_override (scope, limits, updated_at) VALUES (:s, :l, :t)"
                    ),
                    {"s": scope, "l": limits, "t": now},
                )
            conn.execute(
                text(
                    "INSERT INTO ban (scope, reason, created_at) VALUES ('user:discord:222', 'x', :t)"
                ),
                {"t": now},
            )
            conn.execute(
                text(
                    "INSERT INTO job (idem_key, platform, user_scope, model, request, state,"
                    " worst_cost_micros, cost_micros, images_requested, images_delivered, attempts,"
                    " notified, created_at, updated_at) VALUES ('old', 'discord', 'user:discord:1',"
                    " 'm', '{}', 'SUCCEEDED', 0, 0, 1, 1, 1, true, :t, :t)"
                ),
                {"t": now},
            )
        with store.engine.begin() as conn:
            upgrade(conn)
            assert current(conn) == HEAD
            rows: dict[str, Any] = dict(
                conn.execute(text("SELECT scope, limits FROM quota_override")).all()
            )
        scopes = set(rows)
        assert scopes == {
            "member:discord:*:111",
            "member:slack:*:U1",
            "member:discord:A:*",
            "user:cli:me",
        }
        old = await store.get_job_by_key("old")
        assert old is not None and 16 <= len(old.public_id) <= 32
        assert await store.get_job_by_public_id(old.public_id) == old
        base = EffectiveLimits(user_daily_images=5)
        attacker = Identity("discord", "111", "A")
        assert (await store.effective_limits_of(attacker, base)).user_daily_images == 5
        restricted = Identity("slack", "U1", "T")
        assert (await store.effective_limits_of(restricted, base)).user_daily_images == 1
        operator_row = Identity("cli", "me")
        assert (await store.effective_limits_of(operator_row, base)).user_daily_images == 50
        assert [b[0] for b in await store.bans()] == ["user:discord:222"]
        assert await store.check() == []
    finally:
        await store.close()
