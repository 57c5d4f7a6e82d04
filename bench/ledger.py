"""Ledger throughput: reserve+settle pairs per second on SQLite and PostgreSQL, 1 and 4 processes.

A pair is ``begin_job`` (claim the key, reserve on 4 buckets, ledger rows) then ``settle``
(release + capture on each bucket, ledger rows): two transactions through the public async API,
each hopping to the store's worker thread. The "+submit" row adds ``mark_submitted`` in between,
the exact path ImageService takes (three transactions). Each process is one user of one shared
community, so the community budget row is contended. Goal: >= 1,000 pairs/s in one process on
SQLite.

    python bench/ledger.py [--seconds 3] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL = 1_000.0
PG_URL = os.environ.get(
    "PIXELSMITH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _worker(args: tuple[str, int, float, bool, Any]) -> tuple[int, float, float]:
    url, index, seconds, submit, barrier = args
    return asyncio.run(_run(url, index, seconds, submit, barrier))


async def _run(
    url: str, index: int, seconds: float, submit: bool, barrier: Any
) -> tuple[int, float, float]:
    from core.store import EffectiveLimits, Store
    from core.types import Identity, JobState

    limits = EffectiveLimits(
        user_daily_images=10**9,
        user_daily_micros=10**15,
        community_monthly_micros=10**15,
        user_concurrent_jobs=10,
    )
    store = await Store.open(url, migrate=False)
    identity = Identity("discord", f"bench{index}", "guild")
    tag = uuid.uuid4().hex[:8]
    for i in range(20):  # warm up: statement caches, connection
        claim = await store.begin_job(
            idem_key=f"warm:{tag}:{i}", identity=identity, request={"prompt": "warm"},
            model="m", images=1, worst_cost_micros=40_000, limits=limits,
        )  # fmt: skip
        await store.settle(
            claim.job.id, state=JobState.SUCCEEDED, cost_micros=1, images_delivered=1
        )
    barrier.wait()
    start = time.perf_counter()
    deadline = start + seconds
    pairs = 0
    while time.perf_counter() < deadline:
        claim = await store.begin_job(
            idem_key=f"bench:{tag}:{pairs}", identity=identity, request={"prompt": "a cat"},
            model="m", images=1, worst_cost_micros=40_000, limits=limits,
        )  # fmt: skip
        if submit:
            await store.mark_submitted(claim.job.id)
        await store.settle(
            claim.job.id, state=JobState.SUCCEEDED, cost_micros=33_000, images_delivered=1
        )
        pairs += 1
    end = time.perf_counter()
    problems = await store.check() if index == 0 else []
    await store.close()
    if problems:
        raise SystemExit(f"ledger inconsistent after the run: {problems[:3]}")
    return pairs, start, end


def measure(url: str, procs: int, seconds: float, submit: bool) -> float:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(procs)
        with ctx.Pool(procs) as pool:
            results = pool.map(
                _worker, [(url, i, seconds, submit, barrier) for i in range(procs)], chunksize=1
            )
    pairs = sum(r[0] for r in results)
    wall = max(r[2] for r in results) - min(r[1] for r in results)
    return pairs / wall


def _prepare_pg(url: str) -> tuple[str | None, str, str]:
    """(reason it is unusable or None, URL with a fresh schema, schema)."""
    try:
        import psycopg
        from sqlalchemy.engine import make_url

        base = make_url(url)
        libpq = base.set(drivername="postgresql").render_as_string(hide_password=False)
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(libpq, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        scoped = base.update_query_dict({"options": f"-csearch_path={schema}"})
        return None, scoped.render_as_string(hide_password=False), schema
    except Exception as exc:  # any failure: report it as the reason to skip
        return f"{type(exc).__name__}: {exc}".strip(), "", ""


def _drop_pg(url: str, schema: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _migrate(url: str) -> None:
    from core.store import Store

    async def go() -> None:
        await (await Store.open(url)).close()

    asyncio.run(go())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per row")
    parser.add_argument("--pg-url", default=PG_URL)
    args = parser.parse_args()

    rows: list[tuple[str, int, str, str, str]] = []
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        configs: list[tuple[str, str, int, bool]] = []
        sqlite_url = f"sqlite:///{tmp}/bench.db"
        _migrate(sqlite_url)
        configs += [("sqlite", sqlite_url, 1, False), ("sqlite", sqlite_url, 4, False)]
        configs += [("sqlite +submit", sqlite_url, 1, True)]
        reason, pg_url, schema = _prepare_pg(args.pg_url)
        if reason is None:
            _migrate(pg_url)
            configs += [("postgresql", pg_url, 1, False), ("postgresql", pg_url, 4, False)]
        try:
            for name, url, procs, submit in configs:
                rate = measure(url, procs, args.seconds, submit)
                if name == "sqlite" and procs == 1:
                    verdict = "PASS" if rate >= GOAL else "FAIL"
                    ok = ok and rate >= GOAL
                    goal = f">= {GOAL:,.0f}"
                else:
                    verdict, goal = "-", "-"
                rows.append((name, procs, f"{rate:,.0f}", goal, verdict))
        finally:
            if reason is None:
                _drop_pg(args.pg_url, schema)
    header = ("database", "procs", "pairs/s", "goal", "result")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    if reason is not None:
        print(f"postgresql: skipped: {reason}")
    print(f"cpus: {os.cpu_count()}, {args.seconds:g} s per row; pairs/s = pairs / wall time")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
