"""Quota buckets, jobs and the ledger: every money transition in one short transaction.

The money rules:

* :meth:`Store.begin_job` claims the idempotency key and reserves the worst case on every
  applicable bucket in ONE transaction. A second claim of the same key does nothing and returns the
  first job. A refusal (over quota, banned, cooldown) keeps the job row, RELEASED, with the reason,
  so a duplicate delivery sees the same outcome.
* :meth:`Store.mark_submitted` is committed before the single upstream call.
* :meth:`Store.settle` records what the gateway billed (even above the reservation);
  :meth:`Store.release` returns the reservation only when nothing reached the gateway.
* :meth:`Store.reap` ends jobs whose process died: RESERVED -> RELEASED, SUBMITTED ->
  UNKNOWN_CHARGED at the worst-case cost; :meth:`Store.unnotified` lists them for telling users.

Every transition is a compare-and-set on ``job.state`` with its bucket changes and ledger rows in
the same transaction; buckets are always touched in sorted (scope, period, unit) order, so
PostgreSQL never deadlocks. On SQLite every writing transaction is ``BEGIN IMMEDIATE`` (WAL,
30 s busy timeout). All database work runs on the store's own worker threads, never on the
event loop.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import itertools
import json
import queue
import secrets
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    event,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from core.errors import PixelsmithError, QuotaExceeded
from core.store.policy import (
    EffectiveLimits,
    QuotaSettings,
    apply_overrides,
    effective_limits,
    micros_to_usd,
    usd_to_micros,
)
from core.store.tables import (
    Ban,
    Job,
    LedgerEntry,
    QuotaBucket,
    QuotaGrant,
    QuotaOverride,
    Setting,
    UserState,
)
from core.types import Identity, QuotaLeft

P = ParamSpec("P")
T = TypeVar("T")

JOB = Job.__table__  # type: ignore[attr-defined]
BUCKET = QuotaBucket.__table__  # type: ignore[attr-defined]
LEDGER = LedgerEntry.__table__  # type: ignore[attr-defined]
GRANT = QuotaGrant.__table__  # type: ignore[attr-defined]
BAN = Ban.__table__  # type: ignore[attr-defined]
USER_STATE = UserState.__table__  # type: ignore[attr-defined]
SETTING = Setting.__table__  # type: ignore[attr-defined]
OVERRIDE = QuotaOverride.__table__  # type: ignore[attr-defined]

DEFAULT_URL = "sqlite:///pixelsmith.db"
BUSY_TIMEOUT_S = 30


class JobState(enum.StrEnum):
    RESERVED = "RESERVED"
    SUBMITTED = "SUBMITTED"
    SUCCEEDED = "SUCCEEDED"
    FAILED_CHARGED = "FAILED_CHARGED"
    UNKNOWN_CHARGED = "UNKNOWN_CHARGED"
    RELEASED = "RELEASED"

    @property
    def terminal(self) -> bool:
        return self not in (JobState.RESERVED, JobState.SUBMITTED)


CHARGED_STATES = (JobState.SUCCEEDED, JobState.FAILED_CHARGED, JobState.UNKNOWN_CHARGED)
LIVE_STATES = (JobState.RESERVED, JobState.SUBMITTED)

# error keys the store itself writes into job.error
ERROR_EXPIRED = "job.expired"  # reaped while RESERVED: nothing was sent, nothing charged
ERROR_UNKNOWN = "job.unknown"  # reaped while SUBMITTED: outcome unknown, charged at worst cost
QUOTA_KEYS = ("quota.exceeded", "quota.banned", "quota.cooldown")


class JobConflict(PixelsmithError):
    """A transition was asked of a job in the wrong state (or of no job).

    ``params``: ``job_id``, ``state`` (the state found, None if no such job), ``wanted``.
    Raised by :meth:`Store.mark_submitted` when the job was already released (reaped): the
    caller must NOT send the request upstream.
    """

    key = "job.conflict"
    exit_code = 5


# ---------------------------------------------------------------------------------------------
# values crossing the API


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _naive(value: datetime) -> datetime:
    """Aware UTC (SQLModel's UTCDateTime columns want aware values); naive input is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _now(now: datetime | None) -> datetime:
    return _aware(now) if now is not None else datetime.now(UTC)  # type: ignore[return-value]


@dataclass(frozen=True)
class JobView:
    """A job as the service and the CLI see it. Times are aware UTC; money in micro-USD."""

    id: int
    idem_key: str
    state: JobState
    user_scope: str
    community_scope: str | None
    model: str
    prompt: str
    cost_micros: int
    worst_cost_micros: int
    images_requested: int
    images_delivered: int
    error: str | None
    result: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    request: dict[str, Any] = field(default_factory=dict, compare=False)
    notified: bool = True

    @property
    def cost_usd(self) -> float:
        return micros_to_usd(self.cost_micros)

    def failure(self) -> PixelsmithError | None:
        """The QuotaExceeded this job was refused with (for a duplicate delivery), else None."""
        if self.error not in QUOTA_KEYS or not self.result:
            return None
        params = dict(self.result.get("params") or {})
        if isinstance(params.get("resets_at"), str):
            params["resets_at"] = datetime.fromisoformat(params["resets_at"])
        return QuotaExceeded(self.error, **params)

    @classmethod
    def from_row(cls, row: Any) -> JobView:
        request = _json(row["request"]) or {}
        return cls(
            id=row["id"],
            idem_key=row["idem_key"],
            state=JobState(row["state"]),
            user_scope=row["user_scope"],
            community_scope=row["community_scope"],
            model=row["model"],
            prompt=str(request.get("prompt", "")),
            cost_micros=row["cost_micros"],
            worst_cost_micros=row["worst_cost_micros"],
            images_requested=row["images_requested"],
            images_delivered=row["images_delivered"],
            error=row["error"],
            result=_json(row["result"]),
            created_at=_naive(_parse_dt(row["created_at"])),
            updated_at=_naive(_parse_dt(row["updated_at"])),
            request=request,
            notified=bool(row["notified"]),
        )


@dataclass(frozen=True)
class JobClaim:
    """``new`` is False when the key was already claimed: ``job`` is the first claimant's job."""

    job: JobView
    new: bool


@dataclass(frozen=True)
class LimitStatus:
    """One limit: ``unit`` images|usd|jobs; ``limit`` None = unlimited (then ``remaining`` None)."""

    name: str
    unit: str
    limit: float | int | None
    used: float | int
    reserved: float | int
    remaining: float | int | None
    resets_at: datetime | None
    granted: float | int = 0


@dataclass(frozen=True)
class QuotaStatus:
    user_scope: str
    community_scope: str | None
    limits: tuple[LimitStatus, ...]
    banned: bool = False
    ban_reason: str | None = None
    cooldown_until: datetime | None = None

    def get(self, name: str) -> LimitStatus | None:
        return next((s for s in self.limits if s.name == name), None)

    def quota_left(self) -> QuotaLeft:
        def left(name: str) -> Any:
            found = self.get(name)
            return None if found is None else found.remaining

        return QuotaLeft(
            images_today=left("user_daily_images"),
            images_month=left("user_monthly_images"),
            usd_today=left("user_daily_usd"),
            usd_month=left("user_monthly_usd"),
            community_usd_month=left("community_monthly_usd"),
        )


@dataclass(frozen=True)
class UsageRow:
    group: str
    jobs: int
    images: int
    cost_micros: int

    @property
    def cost_usd(self) -> float:
        return micros_to_usd(self.cost_micros)


@dataclass(frozen=True)
class DailySpend:
    day: date
    group: str
    jobs: int
    cost_micros: int

    @property
    def cost_usd(self) -> float:
        return micros_to_usd(self.cost_micros)


# ---------------------------------------------------------------------------------------------
# periods


def day_period(now: datetime) -> str:
    return f"day:{now:%Y-%m-%d}"


def month_period(now: datetime) -> str:
    return f"month:{now:%Y-%m}"


def next_day(now: datetime) -> datetime:
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start + timedelta(days=1)


def next_month(now: datetime) -> datetime:
    now = now.astimezone(UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def period_key(period: str, now: datetime) -> str:
    """``"day"`` / ``"month"`` / ``"live"`` (or an explicit key) -> the bucket's period key."""
    if period == "day":
        return day_period(now)
    if period == "month":
        return month_period(now)
    return period


@dataclass(frozen=True)
class _Spec:
    """One bucket a job reserves on."""

    policy: str
    scope: str
    period: str
    unit: str  # images | micro_usd | jobs
    limit: int
    amount: int
    resets_at: datetime | None


# policy name, scope ("user" | "community"), period ("day" | "month" | "live"), bucket unit,
# EffectiveLimits attribute, what is reserved ("images" | "worst" | "one")
POLICIES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("user_daily_images", "user", "day", "images", "user_daily_images", "images"),
    ("user_monthly_images", "user", "month", "images", "user_monthly_images", "images"),
    ("user_daily_usd", "user", "day", "micro_usd", "user_daily_micros", "worst"),
    ("user_monthly_usd", "user", "month", "micro_usd", "user_monthly_micros", "worst"),
    (
        "community_monthly_usd",
        "community",
        "month",
        "micro_usd",
        "community_monthly_micros",
        "worst",
    ),
    ("user_concurrent_jobs", "user", "live", "jobs", "user_concurrent_jobs", "one"),
)


def _all_specs(
    identity: Identity, limits: EffectiveLimits, images: int, worst: int, now: datetime
) -> list[tuple[_Spec, bool]]:
    """Every policy that has a scope for ``identity``, with whether it is limited."""
    scopes = {"user": identity.user_scope, "community": identity.community_scope}
    periods = {"day": day_period(now), "month": month_period(now), "live": "live"}
    resets = {"day": next_day(now), "month": next_month(now), "live": None}
    amounts = {"images": images, "worst": worst, "one": 1}
    out = []
    for policy, scope_kind, period, unit, attr, amount in POLICIES:
        scope = scopes[scope_kind]
        if scope is None:
            continue
        limit = getattr(limits, attr)
        spec = _Spec(
            policy, scope, periods[period], unit, limit or 0, amounts[amount], resets[period]
        )
        out.append((spec, limit is not None))
    return out


def _specs(
    identity: Identity, limits: EffectiveLimits, images: int, worst: int, now: datetime
) -> list[_Spec]:
    """The buckets a job reserves on, in lock order."""
    specs = [s for s, limited in _all_specs(identity, limits, images, worst, now) if limited]
    specs.sort(key=lambda s: (s.scope, s.period, s.unit))
    return specs


def _in_unit(unit: str, amount: int) -> float | int:
    return round(micros_to_usd(amount), 6) if unit == "micro_usd" else amount


def _public_unit(unit: str) -> str:
    return "usd" if unit == "micro_usd" else unit


JOB_COLUMNS = tuple(c.name for c in JOB.c)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _parse_dt(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


class _Db:
    """One raw transaction: runs the pre-compiled statements of :meth:`Store._prepare`."""

    def __init__(self, cur: Any, sql: dict[str, tuple[str, dict[str, Any]]], sqlite: bool):
        self.cur, self.sql, self.sqlite = cur, sql, sqlite

    def execute_sql(self, text: str) -> None:
        self.cur.execute(text)

    def _params(self, name: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        text, defaults = self.sql[name]
        return text, {**defaults, **params}

    def one(self, name: str, params: dict[str, Any]) -> Any:
        self.cur.execute(*self._params(name, params))
        row = self.cur.fetchone()
        if row is not None:
            self.cur.fetchall()  # drain, so the statement is finished (RETURNING on SQLite)
        return row

    def all(self, name: str, params: dict[str, Any]) -> list[Any]:
        self.cur.execute(*self._params(name, params))
        return list(self.cur.fetchall())

    def many(self, name: str, rows: list[dict[str, Any]]) -> None:
        text, defaults = self.sql[name]
        self.cur.executemany(text, [{**defaults, **r} for r in rows])


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}


# ---------------------------------------------------------------------------------------------
# the store


# Work waiting for the database thread(s) is served by urgency: a job holding an upstream slot
# (mark_submitted) first, then settling finished jobs, then new claims, then reports. Under a
# burst, a FIFO would make the first jobs' SUBMITTED wait behind hundreds of new claims.
PRIORITY_SUBMIT, PRIORITY_FINISH, PRIORITY_CLAIM, PRIORITY_OTHER = range(4)


class _PriorityExecutor:
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


class Store:
    """The persistence API. Create with :meth:`open`; every method is a coroutine."""

    def __init__(self, engine: Engine, *, workers: int, persistent: bool) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._executor = _PriorityExecutor(workers)
        self._persistent = persistent
        self._local = threading.local()
        self._conns: list[Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        ins = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        self._prepare(ins)

    # -- lifecycle --------------------------------------------------------------------------

    @classmethod
    async def open(
        cls, url: str = DEFAULT_URL, *, migrate: bool = True, workers: int | None = None
    ) -> Store:
        """Open (and by default migrate to head) the database at ``url``.

        SQLite (a file path; its directory is created) or ``postgresql+psycopg://...``.
        """
        store = await asyncio.to_thread(cls._create, url, workers)
        try:
            if migrate:
                await store._call(store._migrate_sync)
        except BaseException:
            await store.close()
            raise
        return store

    @classmethod
    def _create(cls, url: str, workers: int | None) -> Store:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            memory = parsed.database in (None, "", ":memory:")
            if not memory:
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)  # type: ignore[arg-type]
            kwargs: dict[str, Any] = {
                "connect_args": {"check_same_thread": False, "timeout": BUSY_TIMEOUT_S}
            }
            if memory:
                kwargs["poolclass"] = StaticPool
            engine = create_engine(parsed, **kwargs)
            _sqlite_recipe(engine)
            # one writer at a time anyway; one thread keeps one warm connection
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

    async def close(self) -> None:
        """Finish queued work, close connections and the engine. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._executor.shutdown)
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()
        self.engine.dispose()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _migrate_sync(self) -> None:
        from core.migrations import upgrade

        with self.engine.begin() as conn:
            upgrade(conn)

    async def _call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._call_at(PRIORITY_OTHER, functools.partial(fn, *args, **kwargs))

    async def _call_at(self, priority: int, work: Callable[[], T]) -> T:
        if self._closed:
            raise RuntimeError("store is closed")
        return await asyncio.wrap_future(self._executor.submit(priority, work))

    async def _call_finish(self, *args: Any) -> JobView:
        return await self._call_at(PRIORITY_FINISH, functools.partial(self._finish_sync, *args))

    async def _call_claim(self, *args: Any) -> JobClaim:
        return await self._call_at(PRIORITY_CLAIM, functools.partial(self._begin_job_sync, *args))

    def _thread_conn(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self.engine.connect()
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    @contextmanager
    def _tx(self, *, write: bool = True) -> Iterator[Connection]:
        """A SQLAlchemy transaction (reports, admin): BEGIN IMMEDIATE on SQLite when writing."""
        if self._persistent:
            conn = self._thread_conn()
            if not write:
                conn.info["pixelsmith_begin"] = "DEFERRED"
            with conn.begin():
                yield conn
        else:
            with self.engine.connect() as conn:
                if not write:  # reports and check() read several tables: one snapshot
                    conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    yield conn

    @contextmanager
    def _raw(self) -> Iterator[_Db]:
        """The lean path for the money transitions: pre-compiled statements on the DBAPI cursor.

        SQLAlchemy's per-statement overhead is ~15x SQLite's own; the statements are still built
        with SQLAlchemy Core (see :meth:`_prepare`) and compiled once per dialect.
        """
        if self._persistent:
            dbapi = self._thread_conn().connection.dbapi_connection
            assert dbapi is not None
            cur = dbapi.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
                yield _Db(cur, self._sql, True)
                cur.execute("COMMIT")
            except BaseException:
                if dbapi.in_transaction:
                    cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()
        else:
            fairy = self.engine.raw_connection()
            try:
                cur = fairy.cursor()
                yield _Db(cur, self._sql, False)
                fairy.commit()
            except BaseException:
                fairy.rollback()
                raise
            finally:
                fairy.close()

    def _dt(self, value: datetime) -> Any:
        if self._persistent:  # SQLite: SQLAlchemy's DATETIME storage format, UTC
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def _view(self, row: Any) -> JobView:
        return JobView.from_row(dict(zip(JOB_COLUMNS, row, strict=True)))

    # -- prepared statements ----------------------------------------------------------------

    def _prepare(self, ins: Any) -> None:
        b = BUCKET.c
        claim = ins(JOB).values(
            idem_key=bindparam("idem_key"),
            platform=bindparam("platform"),
            user_scope=bindparam("user_scope"),
            community_scope=bindparam("community_scope"),
            model=bindparam("model"),
            request=bindparam("request"),
            state=JobState.RESERVED.value,
            worst_cost_micros=bindparam("worst"),
            cost_micros=0,
            images_requested=bindparam("images"),
            images_delivered=0,
            lease_until=bindparam("lease_until"),
            attempts=0,
            notified=False,
            created_at=bindparam("now"),
            updated_at=bindparam("now2"),
        )
        upsert = ins(BUCKET).values(
            scope=bindparam("scope"),
            period=bindparam("period"),
            unit=bindparam("unit"),
            limit=bindparam("lim"),
            granted=0,
            reserved=bindparam("amount"),
            spent=0,
        )
        ex = upsert.excluded
        cool = ins(USER_STATE).values(scope=bindparam("scope"), last_job_at=bindparam("now"))
        two_scopes: tuple[Any, Any] = (bindparam("s1"), bindparam("s2"))
        raw: dict[str, Any] = {
            "claim": claim.on_conflict_do_nothing(index_elements=["idem_key"]).returning(
                JOB.c.id, JOB.c.created_at
            ),
            "job_by_key": select(JOB).where(JOB.c.idem_key == bindparam("key")),
            "job_by_id": select(JOB).where(JOB.c.id == bindparam("jid")),
            "overrides": select(OVERRIDE.c.scope, OVERRIDE.c.limits).where(
                or_(*(OVERRIDE.c.scope == s for s in two_scopes))
            ),
            "bans": select(BAN.c.scope).where(or_(*(BAN.c.scope == s for s in two_scopes))),
            "cooldown": cool.on_conflict_do_update(
                index_elements=["scope"],
                set_={"last_job_at": cool.excluded.last_job_at},
                where=or_(
                    USER_STATE.c.last_job_at.is_(None),
                    USER_STATE.c.last_job_at <= bindparam("threshold"),
                ),
            ).returning(USER_STATE.c.scope),
            "last_job": select(USER_STATE.c.last_job_at).where(
                USER_STATE.c.scope == bindparam("scope")
            ),
            "reserve": upsert.on_conflict_do_update(
                index_elements=["scope", "period", "unit"],
                set_={"limit": ex["limit"], "reserved": b.reserved + ex.reserved},
                where=(b.reserved + b.spent + ex.reserved <= ex["limit"] + b.granted),
            ).returning(b.id, b.reserved, b.spent, b.granted),
            "bucket": select(b.reserved, b.spent, b.granted).where(
                b.scope == bindparam("scope"),
                b.period == bindparam("period"),
                b.unit == bindparam("unit"),
            ),
            "ledger": LEDGER.insert().values(
                job_id=bindparam("job_id"),
                bucket_id=bindparam("bucket_id"),
                scope=bindparam("scope"),
                period=bindparam("period"),
                unit=bindparam("unit"),
                kind=bindparam("kind"),
                amount=bindparam("amount"),
                created_at=bindparam("now"),
            ),
            "refuse": update(JOB)
            .where(JOB.c.id == bindparam("jid"))
            .values(
                state=JobState.RELEASED.value,
                error=bindparam("error"),
                result=bindparam("result"),
                lease_until=None,
                notified=True,
            )
            .returning(*JOB.c),
            "submit": update(JOB)
            .where(JOB.c.id == bindparam("jid"), JOB.c.state == JobState.RESERVED.value)
            .values(
                state=JobState.SUBMITTED.value,
                lease_until=bindparam("lease_until"),
                attempts=JOB.c.attempts + 1,
                updated_at=bindparam("now"),
            )
            .returning(*JOB.c),
            "finish": update(JOB)
            .where(
                JOB.c.id == bindparam("jid"),
                or_(JOB.c.state == bindparam("from1"), JOB.c.state == bindparam("from2")),
            )
            .values(
                state=bindparam("new"),
                cost_micros=bindparam("cost"),
                images_delivered=bindparam("images"),
                error=bindparam("error"),
                result=bindparam("result"),
                lease_until=None,
                notified=bindparam("notified"),
                updated_at=bindparam("now"),
            )
            .returning(*JOB.c),
            "reserves_of": select(
                LEDGER.c.bucket_id, LEDGER.c.scope, LEDGER.c.period, LEDGER.c.unit, LEDGER.c.amount
            )
            .where(LEDGER.c.job_id == bindparam("jid"), LEDGER.c.kind == "reserve")
            .order_by(LEDGER.c.scope, LEDGER.c.period, LEDGER.c.unit),
            "bucket_move": update(BUCKET)
            .where(b.id == bindparam("bid"))
            .values(reserved=b.reserved - bindparam("rel"), spent=b.spent + bindparam("cap")),
        }
        dialect = (
            sqlite.dialect(paramstyle="named") if self.dialect == "sqlite" else self.engine.dialect
        )
        self._sql: dict[str, tuple[str, dict[str, Any]]] = {}
        for name, stmt in raw.items():
            compiled = stmt.compile(dialect=dialect)
            self._sql[name] = (str(compiled), dict(compiled.params))
        # statements that stay on the SQLAlchemy path (admin and reports)
        self._overrides_of = select(OVERRIDE.c.scope, OVERRIDE.c.limits).where(
            OVERRIDE.c.scope.in_(bindparam("scopes", expanding=True))
        )
        self._bans_of = select(BAN.c.scope, BAN.c.reason).where(
            BAN.c.scope.in_(bindparam("scopes", expanding=True))
        )
        self._job_by_id = select(JOB).where(JOB.c.id == bindparam("id"))
        self._job_by_key = select(JOB).where(JOB.c.idem_key == bindparam("key"))
        grant = ins(BUCKET).values(
            scope=bindparam("scope"),
            period=bindparam("period"),
            unit=bindparam("unit"),
            limit=0,
            granted=bindparam("amount"),
            reserved=0,
            spent=0,
        )
        self._grant_bucket = grant.on_conflict_do_update(
            index_elements=["scope", "period", "unit"],
            set_={"granted": b.granted + grant.excluded.granted},
        )

    # -- begin_job ----------------------------------------------------------------------------

    async def begin_job(
        self,
        *,
        idem_key: str,
        identity: Identity,
        request: dict[str, Any],
        model: str,
        images: int,
        worst_cost_micros: int,
        limits: EffectiveLimits,
        lease_s: float = 900,
        now: datetime | None = None,
    ) -> JobClaim:
        """Claim ``idem_key`` and reserve the worst case on every applicable bucket, atomically.

        Returns ``JobClaim(job, new=True)`` with the job RESERVED (lease ``lease_s``), or
        ``JobClaim(first_job, new=False)`` when the key was claimed before (nothing else done).
        Raises :class:`QuotaExceeded` (``quota.exceeded`` with ``limit``, ``remaining``,
        ``unit``, ``resets_at``; ``quota.banned``; ``quota.cooldown``): nothing is reserved, and
        the job row is kept RELEASED with that error so a duplicate sees the same outcome
        (``claim.job.failure()`` rebuilds the exception). ``limits`` come from
        :func:`core.store.policy.effective_limits`; overrides set with ``quota set`` are applied
        on top here, inside the transaction.
        """
        if images < 0 or worst_cost_micros < 0:
            raise ValueError("images and worst_cost_micros must be >= 0")
        return await self._call_claim(
            idem_key,
            identity,
            request,
            model,
            images,
            worst_cost_micros,
            limits,
            lease_s,
            _now(now),
        )

    def _begin_job_sync(
        self,
        idem_key: str,
        identity: Identity,
        request: dict[str, Any],
        model: str,
        images: int,
        worst: int,
        limits: EffectiveLimits,
        lease_s: float,
        now: datetime,
    ) -> JobClaim:
        user, community = identity.user_scope, identity.community_scope
        scopes = {"s1": community or user, "s2": user}
        at = self._dt(now)
        request_json = json.dumps(request)
        failure: tuple[str, dict[str, Any]] | None = None
        with self._raw() as db:
            row = db.one(
                "claim",
                {
                    "idem_key": idem_key,
                    "platform": identity.platform,
                    "user_scope": user,
                    "community_scope": community,
                    "model": model,
                    "request": request_json,
                    "worst": worst,
                    "images": images,
                    "lease_until": self._dt(now + timedelta(seconds=lease_s)),
                    "now": at,
                    "now2": at,
                },
            )
            if row is None:
                return JobClaim(self._view(db.one("job_by_key", {"key": idem_key})), new=False)
            job_id = row[0]
            overrides = {s: _json(v) for s, v in db.all("overrides", scopes)}
            for scope in (community, user):  # community first, then the user's own wins
                if scope is not None:
                    limits = apply_overrides(limits, overrides.get(scope) or {})
            if db.one("bans", scopes) is not None:
                failure = (
                    "quota.banned",
                    {"limit": "ban", "remaining": 0, "unit": None, "resets_at": None},
                )
            else:
                db.execute_sql("SAVEPOINT reserve")
                failure = self._cooldown_sync(db, user, limits.cooldown_s, now)
                entries: list[tuple[int, _Spec]] = []
                if failure is None:
                    failure, entries = self._reserve_sync(
                        db, _specs(identity, limits, images, worst, now)
                    )
                if failure is None:
                    db.execute_sql("RELEASE SAVEPOINT reserve")
                    if entries:
                        db.many(
                            "ledger",
                            [
                                {
                                    "job_id": job_id,
                                    "bucket_id": bid,
                                    "scope": s.scope,
                                    "period": s.period,
                                    "unit": s.unit,
                                    "kind": "reserve",
                                    "amount": s.amount,
                                    "now": at,
                                }
                                for bid, s in entries
                            ],
                        )
                else:
                    db.execute_sql("ROLLBACK TO SAVEPOINT reserve")
                    db.execute_sql("RELEASE SAVEPOINT reserve")
            if failure is None:
                created = _naive(_parse_dt(row[1]))
                view = JobView(
                    id=job_id,
                    idem_key=idem_key,
                    state=JobState.RESERVED,
                    user_scope=user,
                    community_scope=community,
                    model=model,
                    prompt=str(request.get("prompt", "")),
                    cost_micros=0,
                    worst_cost_micros=worst,
                    images_requested=images,
                    images_delivered=0,
                    error=None,
                    result=None,
                    created_at=created,
                    updated_at=created,
                    request=request,
                    notified=False,
                )
                return JobClaim(view, new=True)
            key, params = failure
            db.one(
                "refuse",
                {
                    "jid": job_id,
                    "error": key,
                    "result": json.dumps({"key": key, "params": _jsonable(params)}),
                },
            )
        raise QuotaExceeded(key, **params)

    def _cooldown_sync(
        self, db: _Db, user: str, cooldown_s: float, now: datetime
    ) -> tuple[str, dict[str, Any]] | None:
        if cooldown_s <= 0:
            return None
        threshold = self._dt(now - timedelta(seconds=cooldown_s))
        if db.one("cooldown", {"scope": user, "now": self._dt(now), "threshold": threshold}):
            return None
        last = db.one("last_job", {"scope": user})
        assert last is not None
        until = _naive(_parse_dt(last[0])) + timedelta(seconds=cooldown_s)
        wait = max(0.0, (until - now).total_seconds())
        return (
            "quota.cooldown",
            {
                "limit": "cooldown",
                "remaining": round(wait, 3),
                "unit": "seconds",
                "resets_at": until,
            },
        )

    def _reserve_sync(
        self, db: _Db, specs: list[_Spec]
    ) -> tuple[tuple[str, dict[str, Any]] | None, list[tuple[int, _Spec]]]:
        entries: list[tuple[int, _Spec]] = []
        for spec in specs:
            key = {"scope": spec.scope, "period": spec.period, "unit": spec.unit}
            row = db.one("reserve", {**key, "lim": spec.limit, "amount": spec.amount})
            if row is not None and row[1] + row[2] <= spec.limit + row[3]:
                entries.append((row[0], spec))
                continue
            if row is not None:  # freshly inserted and already over: nothing was there before
                left = spec.limit
            else:
                reserved, spent, granted = db.one("bucket", key)
                left = spec.limit + granted - reserved - spent
            params = {
                "limit": spec.policy,
                "remaining": _in_unit(spec.unit, max(0, left)),
                "unit": _public_unit(spec.unit),
                "resets_at": spec.resets_at,
            }
            return ("quota.exceeded", params), []
        return None, entries

    # -- transitions --------------------------------------------------------------------------

    async def mark_submitted(
        self, job_id: int, *, lease_s: float = 900, now: datetime | None = None
    ) -> JobView:
        """RESERVED -> SUBMITTED, committed before the upstream call; renews the lease.

        Idempotent on a SUBMITTED job. Raises :class:`JobConflict` in any other state (e.g. the
        reaper released it): then the request must not be sent.
        """
        return await self._call_at(
            PRIORITY_SUBMIT,
            functools.partial(self._mark_submitted_sync, job_id, lease_s, _now(now)),
        )

    def _mark_submitted_sync(self, job_id: int, lease_s: float, now: datetime) -> JobView:
        with self._raw() as db:
            row = db.one(
                "submit",
                {
                    "jid": job_id,
                    "lease_until": self._dt(now + timedelta(seconds=lease_s)),
                    "now": self._dt(now),
                },
            )
            if row is None:
                row = db.one("job_by_id", {"jid": job_id})
        view = None if row is None else self._view(row)
        if view is None or view.state != JobState.SUBMITTED:
            raise JobConflict(
                job_id=job_id, state=None if view is None else view.state.value, wanted="SUBMITTED"
            )
        return view

    async def settle(
        self,
        job_id: int,
        *,
        state: JobState,
        cost_micros: int,
        images_delivered: int,
        error: str | None = None,
        result: dict[str, Any] | None = None,
        charge_user: bool = True,
        now: datetime | None = None,
    ) -> JobView:
        """SUBMITTED (or RESERVED) -> ``state`` with the real cost the gateway billed.

        ``state`` is SUCCEEDED, FAILED_CHARGED or UNKNOWN_CHARGED. Every reservation is released
        and the actual amounts captured: images = ``images_delivered`` for SUCCEEDED (0
        otherwise), money = ``cost_micros`` (may exceed the reservation: the ledger records what
        was billed). ``charge_user=False`` (a refusal with ``count_refused = false``) captures
        nothing on the user's buckets; the community budget is always charged. A second settle of
        a finished job is a no-op returning it. Raises :class:`JobConflict` for an unknown job.
        """
        if state not in CHARGED_STATES:
            raise ValueError(f"settle needs a charged state, not {state}")
        if cost_micros < 0 or images_delivered < 0:
            raise ValueError("cost_micros and images_delivered must be >= 0")
        return await self._call_finish(
            job_id,
            LIVE_STATES,
            JobState(state),
            cost_micros,
            images_delivered,
            error,
            result,
            charge_user,
            True,
            _now(now),
        )

    async def release(self, job_id: int, *, error: str, now: datetime | None = None) -> JobView:
        """RESERVED -> RELEASED: only when it is certain nothing reached the gateway.

        Idempotent on a job already finished (returns it unchanged). Raises
        :class:`JobConflict` on a SUBMITTED job (it may have been billed: settle it instead).
        """
        return await self._call_finish(
            job_id,
            (JobState.RESERVED,),
            JobState.RELEASED,
            0,
            0,
            error,
            None,
            False,
            True,
            _now(now),
        )

    def _finish_sync(
        self,
        job_id: int,
        from_states: tuple[JobState, ...],
        state: JobState,
        cost: int,
        images: int,
        error: str | None,
        result: dict[str, Any] | None,
        charge_user: bool,
        notified: bool,
        now: datetime,
    ) -> JobView:
        at = self._dt(now)
        with self._raw() as db:
            row = db.one(
                "finish",
                {
                    "jid": job_id,
                    "from1": from_states[0].value,
                    "from2": from_states[-1].value,
                    "new": state.value,
                    "cost": cost,
                    "images": images,
                    "error": error,
                    "result": None if result is None else json.dumps(result),
                    "notified": notified,
                    "now": at,
                },
            )
            if row is None:
                found = db.one("job_by_id", {"jid": job_id})
                view = None if found is None else self._view(found)
                if view is None or not view.state.terminal:
                    raise JobConflict(
                        job_id=job_id,
                        state=None if view is None else view.state.value,
                        wanted=state.value,
                    )
                return view
            view = self._view(row)
            reserves = db.all("reserves_of", {"jid": job_id})
            if reserves:
                moves, ledger = [], []
                for bucket_id, scope, period, unit, amount in reserves:
                    is_community = scope == view.community_scope
                    capture = _capture(unit, is_community, state, cost, images, charge_user)
                    moves.append({"bid": bucket_id, "rel": amount, "cap": capture})
                    base = {
                        "job_id": job_id,
                        "bucket_id": bucket_id,
                        "scope": scope,
                        "period": period,
                        "unit": unit,
                        "now": at,
                    }
                    ledger.append({**base, "kind": "release", "amount": amount})
                    if state != JobState.RELEASED and unit != "jobs":  # a slot is never spent
                        ledger.append({**base, "kind": "capture", "amount": capture})
                db.many("bucket_move", moves)
                db.many("ledger", ledger)
        return view

    # -- reaper -------------------------------------------------------------------------------

    async def reap(self, *, now: datetime | None = None, limit: int = 500) -> list[JobView]:
        """End jobs whose lease ran out (their process died or hung).

        RESERVED -> RELEASED (``job.expired``; nothing was sent). SUBMITTED -> UNKNOWN_CHARGED
        (``job.unknown``; the call may have been billed, so the worst-case cost is captured).
        Reaped jobs are left un-notified: see :meth:`unnotified`. Returns them.
        """
        return await self._call(self._reap_sync, _now(now), limit)

    def _reap_sync(self, now: datetime, limit: int) -> list[JobView]:
        with self._tx(write=False) as conn:
            due = conn.execute(
                select(JOB.c.id, JOB.c.state, JOB.c.worst_cost_micros)
                .where(
                    JOB.c.state.in_([s.value for s in LIVE_STATES]),
                    JOB.c.lease_until < _naive(now),
                )
                .order_by(JOB.c.id)
                .limit(limit)
            ).all()
        reaped = []
        for job_id, state, worst in due:
            if state == JobState.RESERVED:
                view = self._finish_sync(
                    job_id, LIVE_STATES[:1], JobState.RELEASED, 0, 0, ERROR_EXPIRED,
                    None, True, False, now,
                )  # fmt: skip
            else:
                view = self._finish_sync(
                    job_id, LIVE_STATES[1:], JobState.UNKNOWN_CHARGED, worst, 0, ERROR_UNKNOWN,
                    None, True, False, now,
                )  # fmt: skip
            if view.error in (ERROR_EXPIRED, ERROR_UNKNOWN) and not view.notified:
                reaped.append(view)
        return reaped

    async def secret(self, name: str) -> str:
        """A random value generated once per database and kept (get or create, race-free)."""
        return await self._call(self._secret_sync, name, secrets.token_hex(32), _now(None))

    def _secret_sync(self, name: str, candidate: str, now: datetime) -> str:
        ins = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        with self._tx() as conn:
            conn.execute(
                ins(SETTING)
                .values(key=name, value=candidate, created_at=_naive(now))
                .on_conflict_do_nothing(index_elements=["key"])
            )
            value = conn.execute(select(SETTING.c.value).where(SETTING.c.key == name)).scalar_one()
        return str(value)

    async def abandon(self, job_id: int, *, now: datetime | None = None) -> bool:
        """Expire a live job's lease now, so the next reap ends it (graceful shutdown).

        Used for jobs a stopping process could not finish: the reaper of the restarted process
        (or of any other process on PostgreSQL) ends them and their users are told.
        """
        return await self._call(self._abandon_sync, job_id, _now(now))

    def _abandon_sync(self, job_id: int, now: datetime) -> bool:
        with self._tx() as conn:
            done = conn.execute(
                update(JOB)
                .where(JOB.c.id == job_id, JOB.c.state.in_([s.value for s in LIVE_STATES]))
                .values(lease_until=_naive(now - timedelta(seconds=1)))
            )
            return bool(done.rowcount)

    async def unnotified(self, limit: int = 100) -> list[JobView]:
        """Finished jobs whose users have not been told (the reaper's), oldest first."""
        return await self._call(self._unnotified_sync, limit)

    def _unnotified_sync(self, limit: int) -> list[JobView]:
        with self._tx(write=False) as conn:
            rows = conn.execute(
                select(JOB)
                .where(
                    JOB.c.notified.is_(False), JOB.c.state.notin_([s.value for s in LIVE_STATES])
                )
                .order_by(JOB.c.id)
                .limit(limit)
            ).mappings()
            return [JobView.from_row(r) for r in rows]

    async def mark_notified(self, job_id: int) -> None:
        await self._call(self._mark_notified_sync, job_id)

    def _mark_notified_sync(self, job_id: int) -> None:
        with self._tx() as conn:
            conn.execute(update(JOB).where(JOB.c.id == job_id).values(notified=True))

    # -- queries ------------------------------------------------------------------------------

    async def get_job(self, job_id: int) -> JobView | None:
        return await self._call(self._get_sync, self._job_by_id, {"id": job_id})

    async def get_job_by_key(self, idem_key: str) -> JobView | None:
        return await self._call(self._get_sync, self._job_by_key, {"key": idem_key})

    def _get_sync(self, stmt: Any, params: dict[str, Any]) -> JobView | None:
        with self._tx(write=False) as conn:
            row = conn.execute(stmt, params).mappings().first()
            return None if row is None else JobView.from_row(row)

    async def history(self, user_scope: str, limit: int = 10) -> list[JobView]:
        """The user's most recent jobs, newest first."""
        return await self._call(self._history_sync, user_scope, limit)

    def _history_sync(self, user_scope: str, limit: int) -> list[JobView]:
        with self._tx(write=False) as conn:
            rows = conn.execute(
                select(JOB)
                .where(JOB.c.user_scope == user_scope)
                .order_by(JOB.c.created_at.desc(), JOB.c.id.desc())
                .limit(limit)
            ).mappings()
            return [JobView.from_row(r) for r in rows]

    async def effective_limits(
        self, settings: QuotaSettings, identity: Identity
    ) -> EffectiveLimits:
        """Config limits for ``identity`` with the ``quota set`` overrides of the database on top."""
        base = effective_limits(settings, identity)
        return await self._call(self._with_overrides_sync, identity, base)

    def _with_overrides_sync(self, identity: Identity, limits: EffectiveLimits) -> EffectiveLimits:
        scopes = [s for s in (identity.community_scope, identity.user_scope) if s is not None]
        with self._tx(write=False) as conn:
            found: dict[str, Any] = {
                r.scope: r.limits for r in conn.execute(self._overrides_of, {"scopes": scopes})
            }
        for scope in scopes:
            limits = apply_overrides(limits, found.get(scope) or {})
        return limits

    async def quota_status(
        self, identity: Identity, limits: EffectiveLimits, now: datetime | None = None
    ) -> QuotaStatus:
        """Every limit for ``identity`` (DB overrides applied): used, reserved, remaining, reset.

        For an unlimited limit, ``used`` is still reported (from the jobs of the period).
        """
        return await self._call(self._quota_status_sync, identity, limits, _now(now))

    def _quota_status_sync(
        self, identity: Identity, limits: EffectiveLimits, now: datetime
    ) -> QuotaStatus:
        limits = self._with_overrides_sync(identity, limits)
        user, community = identity.user_scope, identity.community_scope
        scopes = [s for s in (user, community) if s is not None]
        with self._tx(write=False) as conn:
            buckets = {
                (r.scope, r.period, r.unit): r
                for r in conn.execute(
                    select(BUCKET).where(
                        BUCKET.c.scope.in_(scopes),
                        BUCKET.c.period.in_([day_period(now), month_period(now), "live"]),
                    )
                )
            }
            ban = conn.execute(self._bans_of, {"scopes": scopes}).first()
            last = conn.execute(
                select(USER_STATE.c.last_job_at).where(USER_STATE.c.scope == user)
            ).scalar()
            used_jobs = self._used_from_jobs(conn, user, community, now)
        items = []
        for spec, limited in _all_specs(identity, limits, 0, 0, now):
            bucket = buckets.get((spec.scope, spec.period, spec.unit))
            granted = bucket.granted if bucket is not None else 0
            if bucket is not None and limited:
                used, reserved = bucket.spent, bucket.reserved
            else:
                used, reserved = used_jobs.get(spec.policy, 0), 0
            remaining = max(0, spec.limit + granted - used - reserved) if limited else None
            items.append(
                LimitStatus(
                    name=spec.policy,
                    unit=_public_unit(spec.unit),
                    limit=_in_unit(spec.unit, spec.limit) if limited else None,
                    used=_in_unit(spec.unit, used),
                    reserved=_in_unit(spec.unit, reserved),
                    remaining=None if remaining is None else _in_unit(spec.unit, remaining),
                    resets_at=spec.resets_at,
                    granted=_in_unit(spec.unit, granted),
                )
            )
        cooldown_until = None
        if last is not None and limits.cooldown_s > 0:
            until = _naive(last) + timedelta(seconds=limits.cooldown_s)
            cooldown_until = until if until > now else None
        return QuotaStatus(
            user_scope=user,
            community_scope=community,
            limits=tuple(items),
            banned=ban is not None,
            ban_reason=None if ban is None else ban.reason,
            cooldown_until=cooldown_until,
        )

    def _used_from_jobs(
        self, conn: Connection, user: str, community: str | None, now: datetime
    ) -> dict[str, int]:
        day_start = _naive(next_day(now) - timedelta(days=1))
        month_start = _naive(
            now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        )
        charged = [s.value for s in CHARGED_STATES]
        live = [s.value for s in LIVE_STATES]

        def sums(scope_col: Any, scope: str, since: datetime) -> tuple[int, int]:
            row = conn.execute(
                select(
                    func.coalesce(func.sum(JOB.c.images_delivered), 0),
                    func.coalesce(func.sum(JOB.c.cost_micros), 0),
                ).where(scope_col == scope, JOB.c.created_at >= since, JOB.c.state.in_(charged))
            ).one()
            return int(row[0]), int(row[1])

        d_images, d_cost = sums(JOB.c.user_scope, user, day_start)
        m_images, m_cost = sums(JOB.c.user_scope, user, month_start)
        live_jobs = conn.execute(
            select(func.count()).where(JOB.c.user_scope == user, JOB.c.state.in_(live))
        ).scalar_one()
        used = {
            "user_daily_images": d_images,
            "user_monthly_images": m_images,
            "user_daily_usd": d_cost,
            "user_monthly_usd": m_cost,
            "user_concurrent_jobs": int(live_jobs),
        }
        if community is not None:
            used["community_monthly_usd"] = sums(JOB.c.community_scope, community, month_start)[1]
        return used

    # -- admin --------------------------------------------------------------------------------

    async def grant(
        self,
        scope: str,
        amount: float,
        unit: str,
        period: str = "month",
        *,
        reason: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """Give ``scope`` extra allowance for the current ``period`` (``day``/``month``).

        ``unit``: ``images`` (int), ``usd`` (float, stored as micro-USD) or ``jobs``. A negative
        amount takes a grant back (never below zero in total).
        """
        if unit == "usd":
            unit, value = "micro_usd", usd_to_micros(float(amount))
        elif unit in ("images", "jobs", "micro_usd"):
            value = int(amount)
            if value != amount:
                raise ValueError(f"{unit} must be a whole number")
        else:
            raise ValueError(f"unknown unit {unit!r}")
        key = "live" if unit == "jobs" else period_key(period, _now(now))
        await self._call(self._grant_sync, scope, key, unit, value, reason, _naive(_now(now)))

    def _grant_sync(
        self, scope: str, period: str, unit: str, amount: int, reason: str | None, now: datetime
    ) -> None:
        with self._tx() as conn:
            conn.execute(
                GRANT.insert().values(
                    scope=scope,
                    period=period,
                    unit=unit,
                    amount=amount,
                    reason=reason,
                    created_at=now,
                )
            )
            conn.execute(
                self._grant_bucket,
                {"scope": scope, "period": period, "unit": unit, "amount": amount},
            )

    async def ban(
        self, scope: str, reason: str | None = None, *, now: datetime | None = None
    ) -> bool:
        """Ban ``scope`` (a user or a community). Returns False if it was already banned."""
        return await self._call(self._ban_sync, scope, reason, _naive(_now(now)))

    def _ban_sync(self, scope: str, reason: str | None, now: datetime) -> bool:
        ins = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        with self._tx() as conn:
            done = conn.execute(
                ins(BAN)
                .values(scope=scope, reason=reason, created_at=now)
                .on_conflict_do_nothing(index_elements=["scope"])
                .returning(BAN.c.scope)
            ).first()
            return done is not None

    async def unban(self, scope: str) -> bool:
        """Lift a ban. Returns False if ``scope`` was not banned."""
        return await self._call(self._unban_sync, scope)

    def _unban_sync(self, scope: str) -> bool:
        with self._tx() as conn:
            return bool(conn.execute(BAN.delete().where(BAN.c.scope == scope)).rowcount)

    async def bans(self) -> list[tuple[str, str | None, datetime]]:
        return await self._call(self._bans_sync)

    def _bans_sync(self) -> list[tuple[str, str | None, datetime]]:
        with self._tx(write=False) as conn:
            return [
                (r.scope, r.reason, _aware(r.created_at))  # type: ignore[misc]
                for r in conn.execute(select(BAN).order_by(BAN.c.scope))
            ]

    async def set_override(
        self, scope: str, limits: dict[str, Any], *, now: datetime | None = None
    ) -> dict[str, Any]:
        """Merge config-style ``limits`` (``{"user_daily_images": 5, "user_daily_usd": None}``;
        None = unlimited) into the database override of ``scope``; they win over the config.
        Returns the override now in force."""
        return await self._call(self._set_override_sync, scope, limits, _naive(_now(now)))

    def _set_override_sync(
        self, scope: str, limits: dict[str, Any], now: datetime
    ) -> dict[str, Any]:
        ins = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        with self._tx() as conn:
            current = conn.execute(
                select(OVERRIDE.c.limits).where(OVERRIDE.c.scope == scope)
            ).scalar()
            merged = {**(current or {}), **limits}
            stmt = ins(OVERRIDE).values(scope=scope, limits=merged, updated_at=now)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["scope"],
                    set_={"limits": stmt.excluded.limits, "updated_at": stmt.excluded.updated_at},
                )
            )
            return merged

    async def clear_override(self, scope: str) -> bool:
        return await self._call(self._clear_override_sync, scope)

    def _clear_override_sync(self, scope: str) -> bool:
        with self._tx() as conn:
            return bool(conn.execute(OVERRIDE.delete().where(OVERRIDE.c.scope == scope)).rowcount)

    async def get_override(self, scope: str) -> dict[str, Any] | None:
        return await self._call(self._get_override_sync, scope)

    def _get_override_sync(self, scope: str) -> dict[str, Any] | None:
        with self._tx(write=False) as conn:
            return conn.execute(select(OVERRIDE.c.limits).where(OVERRIDE.c.scope == scope)).scalar()

    async def usage(
        self, since: date | None = None, by: Literal["user", "community", "model"] = "user"
    ) -> list[UsageRow]:
        """Charged jobs since ``since`` (UTC date, inclusive) grouped by user, community or model:
        job count, images delivered, cost. Most expensive first."""
        return await self._call(self._usage_sync, since, by)

    def _group_col(self, by: str) -> Any:
        cols = {"user": JOB.c.user_scope, "community": JOB.c.community_scope, "model": JOB.c.model}
        if by not in cols:
            raise ValueError(f"cannot group by {by!r}")
        return cols[by]

    def _usage_sync(self, since: date | None, by: str) -> list[UsageRow]:
        col = self._group_col(by)
        cost = func.sum(JOB.c.cost_micros)
        stmt = (
            select(col, func.count(), func.sum(JOB.c.images_delivered), cost)
            .where(JOB.c.state.in_([s.value for s in CHARGED_STATES]))
            .group_by(col)
            .order_by(cost.desc(), col)
        )
        if since is not None:
            stmt = stmt.where(
                JOB.c.created_at >= datetime(since.year, since.month, since.day, tzinfo=UTC)
            )
        with self._tx(write=False) as conn:
            return [
                UsageRow(group=g or "-", jobs=int(n), images=int(i or 0), cost_micros=int(c or 0))
                for g, n, i, c in conn.execute(stmt)
            ]

    async def daily_spend(
        self, since: date | None = None, by: Literal["community", "model", "user"] = "community"
    ) -> list[DailySpend]:
        """Cost per UTC day and group (for a chart), oldest day first."""
        return await self._call(self._daily_spend_sync, since, by)

    def _daily_spend_sync(self, since: date | None, by: str) -> list[DailySpend]:
        col = self._group_col(by)
        day = func.date(JOB.c.created_at)
        stmt = (
            select(day, col, func.count(), func.sum(JOB.c.cost_micros))
            .where(JOB.c.state.in_([s.value for s in CHARGED_STATES]))
            .group_by(day, col)
            .order_by(day, col)
        )
        if since is not None:
            stmt = stmt.where(
                JOB.c.created_at >= datetime(since.year, since.month, since.day, tzinfo=UTC)
            )
        with self._tx(write=False) as conn:
            out = []
            for d, g, n, c in conn.execute(stmt):
                d = date.fromisoformat(d) if isinstance(d, str) else d
                out.append(DailySpend(day=d, group=g or "-", jobs=int(n), cost_micros=int(c or 0)))
            return out

    async def check(self) -> list[str]:
        """Counters against the ledger; an empty list means consistent.

        For every bucket: reserved == sum(reserve) - sum(release), spent == sum(capture),
        granted == sum(quota_grant). For every job: a live job (RESERVED/SUBMITTED) has its
        reservations and nothing released or captured; a finished job has every reservation
        released; a capture is 0 or the job's cost (money) / images delivered (images).
        """
        return await self._call(self._check_sync)

    def _check_sync(self) -> list[str]:
        problems: list[str] = []
        with self._tx(write=False) as conn:
            sums: dict[tuple[int, str], int] = defaultdict(int)
            for bid, kind, total in conn.execute(
                select(LEDGER.c.bucket_id, LEDGER.c.kind, func.sum(LEDGER.c.amount)).group_by(
                    LEDGER.c.bucket_id, LEDGER.c.kind
                )
            ):
                sums[(bid, kind)] = int(total)
            grants: dict[tuple[str, str, str], int] = {
                (s, p, u): int(t)
                for s, p, u, t in conn.execute(
                    select(
                        GRANT.c.scope, GRANT.c.period, GRANT.c.unit, func.sum(GRANT.c.amount)
                    ).group_by(GRANT.c.scope, GRANT.c.period, GRANT.c.unit)
                )
            }
            for b in conn.execute(
                select(BUCKET).order_by(BUCKET.c.scope, BUCKET.c.period, BUCKET.c.unit)
            ):
                name = f"bucket {b.scope} {b.period} {b.unit}"
                want_reserved = sums[(b.id, "reserve")] - sums[(b.id, "release")]
                if b.reserved != want_reserved:
                    problems.append(
                        f"{name}: reserved {b.reserved} but ledger says {want_reserved}"
                    )
                if b.spent != sums[(b.id, "capture")]:
                    problems.append(
                        f"{name}: spent {b.spent} but ledger says {sums[(b.id, 'capture')]}"
                    )
                want_granted = grants.pop((b.scope, b.period, b.unit), 0)
                if b.granted != want_granted:
                    problems.append(f"{name}: granted {b.granted} but grants say {want_granted}")
            for (s, p, u), total in sorted(grants.items()):
                problems.append(f"grant {s} {p} {u}: {total} granted but no bucket carries it")
            per_job: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
            jobs: dict[int, Any] = {}
            rows = conn.execute(
                select(
                    LEDGER.c.job_id,
                    LEDGER.c.bucket_id,
                    LEDGER.c.unit,
                    LEDGER.c.kind,
                    LEDGER.c.amount,
                    JOB.c.state,
                    JOB.c.cost_micros,
                    JOB.c.images_delivered,
                ).join(JOB, JOB.c.id == LEDGER.c.job_id)
            )
            for job_id, bid, unit, kind, amount, state, cost, images in rows:
                per_job[(job_id, bid)][kind] = int(amount)
                per_job[(job_id, bid)]["unit:" + unit] = 1
                jobs[job_id] = (state, cost, images)
            for (job_id, bid), kinds in sorted(per_job.items()):
                state, cost, images = jobs[job_id]
                name = f"job {job_id} bucket {bid}"
                if "reserve" not in kinds:
                    problems.append(f"{name}: ledger rows without a reservation")
                    continue
                if state in LIVE_STATES:
                    if "release" in kinds or "capture" in kinds:
                        problems.append(f"{name}: {state} but already released or captured")
                    continue
                if kinds.get("release") != kinds["reserve"]:
                    problems.append(f"{name}: {state} but its reservation is not fully released")
                capture = kinds.get("capture", 0)
                if "unit:micro_usd" in kinds and capture not in (0, cost):
                    problems.append(f"{name}: captured {capture} micro-USD, job cost {cost}")
                if "unit:images" in kinds and capture not in (0, images):
                    problems.append(f"{name}: captured {capture} images, job delivered {images}")
            live_without = conn.execute(
                select(JOB.c.id, JOB.c.state).where(
                    JOB.c.state.in_([s.value for s in LIVE_STATES]), JOB.c.lease_until.is_(None)
                )
            ).all()
            for job_id, state in live_without:
                problems.append(f"job {job_id}: {state} without a lease")
        return problems


def _capture(
    unit: str, is_community: bool, state: JobState, cost: int, images: int, charge_user: bool
) -> int:
    if state == JobState.RELEASED or unit == "jobs":
        return 0
    if unit == "micro_usd":
        return cost if (is_community or charge_user) else 0
    if unit == "images":
        return images if (charge_user and state == JobState.SUCCEEDED) else 0
    return 0


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
        mode = conn.info.pop("pixelsmith_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


__all__ = [
    "DEFAULT_URL",
    "ERROR_EXPIRED",
    "ERROR_UNKNOWN",
    "DailySpend",
    "JobClaim",
    "JobConflict",
    "JobState",
    "JobView",
    "LimitStatus",
    "QuotaStatus",
    "Store",
    "UsageRow",
]
