"""The shared upstream budget: N jobs through several processes on one PostgreSQL database.

``--processes`` child processes each open their own ImageService (Store, budget holder) on one
fresh PostgreSQL schema, as separate ``pixelsmith run`` processes would, and run their share of
the jobs (round-robin, from ``--users`` users) at the same moment; the parent runs one fake
gateway answering every call after ``--latency`` seconds and recording its peak concurrency.
Every process is configured with the same global ``provider.max_concurrency``. Ideal total
time: every slot always busy, ceil(N / limit) * latency. Prints total / ideal, the peak (must
be <= the limit: per-process queues would allow processes x limit), and the budget's database
transactions per job. ``--sqlite``: the baseline, one process on SQLite (in-process queue).

    .venv/bin/python -m bench.budget [--jobs 640] [--processes 3] [--limit 64] [--latency 1.0]

Needs PostgreSQL (``PIXELSMITH_TEST_PG_URL``, default the test server); the schema is dropped
afterwards. ``BUDGET_WAVES=1`` also prints when each wave of ``limit`` calls started.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from core.budget import SharedBudget
from core.service import ImageService
from core.store import Store
from core.types import Identity
from tests.conftest import make_settings
from tests.fakes.gateway import Behavior, FakeGateway

PG_URL = os.environ.get(
    "PIXELSMITH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
GOAL_RATIO = 1.10


def _admin(sql: str) -> None:
    import psycopg

    libpq = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(sql)


def child(spec: dict[str, Any], barrier: Any) -> dict[str, Any]:
    """One process: its service, its share of the jobs; returns counts and its ticks."""
    return asyncio.run(_child(spec, barrier))


async def _child(spec: dict[str, Any], barrier: Any) -> dict[str, Any]:
    tmp = Path(spec["tmp"])
    settings = make_settings(
        tmp / f"p{spec['index']}",
        spec["base_url"],
        provider={"max_concurrency": spec["limit"]},
        database={"url": spec["url"]},
        results={"dir": str(tmp / f"results{spec['index']}"), "keep_days": 0},
    )
    service = await ImageService.create(settings)
    try:
        await service.start()
        users = [Identity("bench", f"u{i}", f"c{i % 7}") for i in range(spec["users"])]
        mine = range(spec["index"], spec["jobs"], spec["processes"])
        await asyncio.to_thread(barrier.wait)  # every process starts at once
        results = await asyncio.gather(
            *(service.run(service.build(f"bench {i}", users[i % spec["users"]])) for i in mine),
            return_exceptions=True,
        )
        done = time.time()
        ticks = 0
        if isinstance(service.queue, SharedBudget):
            await service.queue.idle()
            ticks = service.queue.ticks
    finally:
        await service.close()
    failed = sum(isinstance(r, BaseException) for r in results)
    return {"jobs": len(results), "failed": failed, "ticks": ticks, "done": done}


async def bench(args: argparse.Namespace, url: str, tmp: Path) -> int:
    async with await Store.open(url):
        pass  # migrated once here, not by every process at once
    ctx = multiprocessing.get_context("spawn")
    async with FakeGateway(default=Behavior(latency_s=args.latency)) as gw:
        with ctx.Manager() as manager:
            barrier = manager.Barrier(args.processes + 1)
            specs = [
                {"index": i, "processes": args.processes, "jobs": args.jobs, "limit": args.limit,
                 "users": args.users, "url": url, "base_url": gw.base_url, "tmp": str(tmp)}
                for i in range(args.processes)
            ]  # fmt: skip
            with ctx.Pool(args.processes) as pool:
                pending = [pool.apply_async(child, (spec, barrier)) for spec in specs]
                await asyncio.to_thread(barrier.wait)
                started = time.time()
                outs = [await asyncio.to_thread(p.get, 600) for p in pending]
        ats = sorted(c.at - started for c in gw.calls)
        if os.environ.get("BUDGET_WAVES"):
            for w in range(0, len(ats), args.limit):
                last = ats[min(w + args.limit, len(ats)) - 1]
                print(f"wave {w // args.limit}: calls start {ats[w]:.2f} .. {last:.2f} s")
        calls = len(gw.calls_to("/v1/images/generations"))
        peak = gw.peak_in_flight
    total = max(o["done"] for o in outs) - started
    failed = sum(o["failed"] for o in outs)
    ticks = sum(o["ticks"] for o in outs)
    ideal = math.ceil(args.jobs / args.limit) * args.latency
    ratio = total / ideal
    where = "SQLite (in-process queue)" if url.startswith("sqlite") else "one PostgreSQL"
    print(
        f"budget: {args.jobs} jobs over {args.processes} processes on {where}, "
        f"{args.users} users, global limit {args.limit}, upstream latency {args.latency:.1f}s"
    )
    print(
        f"total {total:.2f}s, ideal ceil({args.jobs}/{args.limit})*{args.latency:.1f}s = "
        f"{ideal:.1f}s, ratio {ratio:.3f}"
    )
    print(
        f"peak upstream concurrency {peak} (limit {args.limit}; per-process queues would allow "
        f"{args.limit * args.processes}); upstream calls {calls}; failed jobs {failed}"
    )
    print(f"budget transactions {ticks} ({ticks / args.jobs:.2f} per job)")
    ok = ratio <= GOAL_RATIO and peak <= args.limit and not failed and calls == args.jobs
    print(
        f"goal: ratio <= {GOAL_RATIO:.2f}, peak <= {args.limit}, 0 failed: "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=640)
    ap.add_argument("--processes", type=int, default=3)
    ap.add_argument("--limit", type=int, default=64)
    ap.add_argument("--latency", type=float, default=1.0)
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument(
        "--sqlite", action="store_true", help="baseline: one process on SQLite (in-process queue)"
    )
    args = ap.parse_args(argv)
    if args.sqlite:
        args.processes = 1
        with tempfile.TemporaryDirectory() as tmp:
            return asyncio.run(bench(args, f"sqlite:///{tmp}/bench.db", Path(tmp)))
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        _admin(f'CREATE SCHEMA "{schema}"')
    except Exception as exc:  # no server: say so, do not pretend
        print(f"budget: PostgreSQL unreachable ({type(exc).__name__}: {exc})")
        return 2
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return asyncio.run(bench(args, url.render_as_string(hide_password=False), Path(tmp)))
    finally:
        _admin(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    sys.exit(main())
