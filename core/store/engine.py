"""The engine, the store's worker threads, and its one way to run a transaction.

:meth:`Database.transaction` is the only place a transaction begins and ends. It is a SQLAlchemy
``Connection.begin()``; on SQLite the ``begin`` event emits ``BEGIN IMMEDIATE`` for writers
(``DEFERRED`` for readers), so a writer never upgrades a read lock and never meets
``SQLITE_BUSY`` mid-transaction. Inside it, :class:`Tx` offers two ways to talk, both in that same
transaction: the pre-compiled money statements on the DBAPI cursor (:meth:`Tx.one`,
:meth:`Tx.all`, :meth:`Tx.many`: SQLAlchemy's per-statement overhead is ~15x SQLite's own, and
these run several times per job), and :meth:`Tx.execute` for the SQLAlchemy Core statements of
admin and reports.

All database work runs on the store's own worker threads (:class:`PriorityExecutor`), never on
the event loop, served by urgency: a read that a platform's acknowledgement waits for (the
member's settings decide whether a Discord defer is private) first, then a job holding an
upstream slot (``mark_submitted``), then settling finished jobs, then new claims, then
everything else. Under a burst, a FIFO would make the first jobs' SUBMITTED wait behind hundreds
of new claims, and an acknowledgement behind the claims of requests already acknowledged.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, Executable, create_engine, event
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.pool import StaticPool
from sqlalchemy.util.typing import TupleAny

from core.store.statements import Statements

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_URL = "sqlite:///pixelsmith.db"
BUSY_TIMEOUT_S = 30

PRIORITY_ACK, PRIORITY_SUBMIT, PRIORITY_FINISH, PRIORITY_CLAIM, PRIORITY_OTHER = range(5)


class PriorityExecutor:
    """A fixed set of worker threads serving submitted callables by (priority, arrival)."""

    def __init__(self, workers: int) -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, Callable[[], Any] | None, Any]] = (
            queue.PriorityQueue()
        )
        self._seq = itertools.count()
        self._threads = [
            threading.Thread(target=self._work, name=f"store-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, priority: int, work: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put((priority, next(self._seq), work, future))
        return future

    def _work(self) -> None:
        while True:
            _, _, work, future = self._queue.get()
            if work is None:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(work())
            except BaseException as exc:  # handed to the awaiting coroutine
                future.set_exception(exc)

    def shutdown(self) -> None:
        """Finish everything queued, then stop the threads."""
        for _ in self._threads:
            self._queue.put((PRIORITY_OTHER + 1, next(self._seq), None, None))
        for thread in self._threads:
            thread.join()


class Tx:
    """One open transaction (see the module docstring)."""

    __slots__ = ("conn", "cur", "sql", "sqlite")

    def __init__(self, conn: Connection, cur: Any, sql: Statements, sqlite: bool) -> None:
        self.conn, self.cur, self.sql, self.sqlite = conn, cur, sql, sqlite

    def one(self, name: str, params: Mapping[str, Any]) -> Any:
        """First row of a pre-compiled statement (a tuple), or None."""
        self.cur.execute(*self.sql.bind(name, params))
        row = self.cur.fetchone()
        if row is not None:
            self.cur.fetchall()  # drain, so the statement is finished (RETURNING on SQLite)
        return row

    def all(self, name: str, params: Mapping[str, Any]) -> list[Any]:
        self.cur.execute(*self.sql.bind(name, params))
        return list(self.cur.fetchall())

    def many(self, name: str, rows: list[dict[str, Any]]) -> None:
        text, defaults = self.sql.compiled[name]
        self.cur.executemany(text, [{**defaults, **r} for r in rows])

    def raw(self, text: str) -> None:
        self.cur.execute(text)

    def execute(
        self,
        stmt: Executable,
        params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    ) -> CursorResult[*TupleAny]:
        """A SQLAlchemy Core statement (types processed by SQLAlchemy); a list of parameter
        sets runs it once per set (executemany)."""
        return self.conn.execute(stmt, params)


class Database:
    """The engine and its connections: SQLite keeps one warm connection per worker thread
    (one writer at a time anyway); PostgreSQL checks one out of the pool per transaction."""

    def __init__(self, engine: Engine, *, workers: int, persistent: bool) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.sqlite = self.dialect == "sqlite"
        self.sql = Statements(engine.dialect)
        self.executor = PriorityExecutor(workers)
        self._persistent = persistent
        self._local = threading.local()
        self._conns: list[Connection] = []
        self._conns_lock = threading.Lock()
        self.closed = False

    @classmethod
    def create(cls, url: str, workers: int | None) -> Database:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            memory = parsed.database in (None, "", ":memory:")
            if not memory and parsed.database is not None:
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            kwargs: dict[str, Any] = {
                "connect_args": {"check_same_thread": False, "timeout": BUSY_TIMEOUT_S}
            }
            if memory:
                kwargs["poolclass"] = StaticPool
            engine = create_engine(parsed, **kwargs)
            _sqlite_recipe(engine)
            return cls(engine, workers=workers or 1, persistent=True)
        if backend == "postgresql":
            n = workers or 4
            engine = create_engine(
                parsed,
                isolation_level="READ COMMITTED",
                pool_size=n,
                max_overflow=n,
                pool_pre_ping=True,
            )
            return cls(engine, workers=n, persistent=False)
        raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}")

    async def run(self, priority: int, work: Callable[[], T]) -> T:
        if self.closed:
            raise RuntimeError("store is closed")
        return await asyncio.wrap_future(self.executor.submit(priority, work))

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        await asyncio.to_thread(self.executor.shutdown)
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()
        self.engine.dispose()

    def _thread_conn(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self.engine.connect()
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Tx]:
        """The one transaction path: commit on success, roll back on any exception.

        The transaction is begun on the DBAPI connection (SQLite: ``BEGIN IMMEDIATE`` for a
        writer, ``BEGIN DEFERRED`` for a reader; psycopg begins implicitly). A Core statement
        run through :meth:`Tx.execute` joins it: SQLAlchemy's autobegin finds the connection
        already in a transaction (the ``begin`` event then emits nothing), and the end of the
        transaction goes through SQLAlchemy so that it forgets it too.
        """
        if self._persistent:
            conn = self._thread_conn()
            self._begin_sqlite(conn, "IMMEDIATE" if write else "DEFERRED")
            yield from self._run_tx(conn)
            return
        with self.engine.connect() as conn:
            if not write:  # reports and check() read several tables: one snapshot
                conn.execution_options(isolation_level="REPEATABLE READ")
            yield from self._run_tx(conn)

    def _begin_sqlite(self, conn: Connection, mode: str) -> None:
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        cur = dbapi.cursor()
        cur.execute(f"BEGIN {mode}")
        cur.close()

    def _run_tx(self, conn: Connection) -> Iterator[Tx]:
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        cur = dbapi.cursor()
        try:
            yield Tx(conn, cur, self.sql, self.sqlite)
        except BaseException:
            if conn.in_transaction():
                conn.rollback()
            else:
                dbapi.rollback()
            raise
        else:
            if conn.in_transaction():
                conn.commit()
            else:
                dbapi.commit()
        finally:
            cur.close()


def _sqlite_recipe(engine: Engine) -> None:
    """SQLAlchemy's pysqlite recipe: the driver emits no BEGIN, we emit ``BEGIN IMMEDIATE``."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        cur.execute("PRAGMA journal_mode = WAL")
        # WAL + NORMAL survives a killed process; only an OS crash may lose the last commits
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        if isinstance(dbapi, sqlite3.Connection) and dbapi.in_transaction:
            return  # begun by Database.transaction
        cur = dbapi.cursor()
        cur.execute("BEGIN IMMEDIATE")
        cur.close()


class Room:
    """Base of the store's rooms (the mixins :class:`~core.store.Store` is made of)."""

    _db: Database

    async def _run(self, priority: int, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._db.run(priority, functools.partial(fn, *args, **kwargs))

    async def _call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._db.run(PRIORITY_OTHER, functools.partial(fn, *args, **kwargs))
