"""kill -9 at every point of the state machine, restart, reap: nothing left open, books agree."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.store import Store
from core.types import JobState
from tests.store.crasher import COST, POINTS, WORST

ROOT = Path(__file__).resolve().parents[2]

EXPECTED = {
    "before_reserve": None,
    "in_reserve": None,  # the transaction died with the process
    "after_reserve": (JobState.RELEASED, 0, "job.expired"),
    "after_submit": (JobState.UNKNOWN_CHARGED, WORST, "job.unknown"),
    "in_settle": (JobState.UNKNOWN_CHARGED, WORST, "job.unknown"),
    "after_settle": (JobState.SUCCEEDED, COST, None),
}


def _kill_when_there(proc: subprocess.Popen[str], point: str, seen: dict[str, str]) -> None:
    assert proc.stdout is not None
    seen[point] = proc.stdout.readline().strip()
    proc.send_signal(signal.SIGKILL)


async def test_kill_9_at_each_point_then_reap(db_url: str) -> None:
    await (await Store.open(db_url)).close()  # schema first, so the children race only on jobs
    procs = {
        point: subprocess.Popen(
            [sys.executable, "-m", "tests.store.crasher", db_url, point],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for point in POINTS
    }
    # kill each one the moment it reports, in whatever order they get there
    seen: dict[str, str] = {}
    killers = [
        threading.Thread(target=_kill_when_there, args=(p, point, seen))
        for point, p in procs.items()
    ]
    for t in killers:
        t.start()
    for t in killers:
        t.join(timeout=120)
    for p in procs.values():
        assert p.wait(timeout=60) == -signal.SIGKILL
    assert seen == {point: f"AT {point}" for point in POINTS}

    store = await Store.open(db_url)  # the restart
    try:
        reaped = await store.reap(now=datetime.now(UTC) + timedelta(hours=1))
        assert {j.idem_key for j in reaped} == {
            f"crash:{p}" for p, e in EXPECTED.items() if e is not None and e[2] is not None
        }
        assert {j.id for j in await store.unnotified()} == {j.id for j in reaped}
        for point, expected in EXPECTED.items():
            job = await store.get_job_by_key(f"crash:{point}")
            if expected is None:
                assert job is None, point
                continue
            assert job is not None, point
            assert (job.state, job.cost_micros, job.error) == expected, point
            assert job.state.terminal
        assert await store.check() == []
        assert await store.reap(now=datetime.now(UTC) + timedelta(hours=2)) == []
    finally:
        await store.close()
