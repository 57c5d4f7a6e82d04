"""Shared fixtures: every store test runs on SQLite and on PostgreSQL.

PostgreSQL: ``PIXELSMITH_TEST_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``);
each test gets a fresh schema (``search_path`` in the URL), dropped afterwards. Unreachable server:
the PostgreSQL half is skipped with the reason.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from core.store import Store

PG_URL = os.environ.get(
    "PIXELSMITH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
WORKERS = 8


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@functools.cache
def pg_unreachable() -> str | None:
    """None when the test server answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(_libpq(PG_URL), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure means: skip, and say why
        return f"PostgreSQL unreachable at {make_url(PG_URL).render_as_string()}: {type(exc).__name__}: {exc}".strip()
    return None


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(_libpq(PG_URL), autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A fresh, empty database URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/db/pixelsmith.db"
        return
    yield from _fresh_pg_schema()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database URL (its own schema), for PostgreSQL-only tests."""
    yield from _fresh_pg_schema()


def _fresh_pg_schema(prefix: str = "t") -> Iterator[str]:
    """A fresh schema's URL (skipping the test, naming why, without a server), dropped after."""
    reason = pg_unreachable()
    if reason:
        pytest.skip(reason)
    schema = f"{prefix}_{uuid.uuid4().hex[:16]}"
    _admin(f'CREATE SCHEMA "{schema}"')
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        _admin(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    s = await Store.open(db_url)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture(scope="session")
def proc_pool() -> Iterator[Any]:
    """8 spawned worker processes sharing a barrier, reused by every multi-process test."""
    from tests.store import workers

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    pool = ctx.Pool(WORKERS, initializer=workers.init, initargs=(barrier,))
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()
