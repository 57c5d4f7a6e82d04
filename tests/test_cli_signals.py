"""One-shot commands and signals: SIGINT/SIGTERM settle by the money rules, then exit 130/143.

The job in flight when the signal arrives has reached the gateway, so by the money rules it is
charged as unknown at its worst case (never left SUBMITTED, never re-sent), the process exits
with 128 + the signal number, and the next command works at once (nobody is locked out).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from core.store import Store
from core.types import JobState
from tests.conftest import TEST_KEY
from tests.fakes.gateway import Behavior, FakeGateway
from tests.test_cli import REPO, pixelsmith, write_config


async def start(cwd: Path, config: Path, *args: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXELSMITH_")}
    env.update(
        {
            "LANG": "en",
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
            "PIXELSMITH_CONFIG": str(config),
            "PIXELSMITH_API_KEY": TEST_KEY,
        }
    )
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots.cli",
        *args,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def until_called(gateway: FakeGateway, count: int = 1) -> None:
    while len(gateway.calls) < count:
        await asyncio.sleep(0.05)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
async def test_signal_during_the_call(
    tmp_path: Path, gateway: FakeGateway, sig: signal.Signals, code: int
) -> None:
    cfg = tmp_path / "cfg"
    config = write_config(cfg, gateway.base_url, "[quota]\nuser_concurrent_jobs = 1\n")
    gateway.script(Behavior(latency_s=120))
    proc = await start(tmp_path, config, "imagine", "a slow fox", "--as", "bob")
    await asyncio.wait_for(until_called(gateway), 60)
    proc.send_signal(sig)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == code, err.decode()
    assert b"Traceback" not in err and out == b""
    assert "Interrupted" in err.decode()

    store = await Store.open(f"sqlite:///{(cfg / 'px.db').as_posix()}")
    try:
        (job,) = await store.history("user:cli:bob")
        assert job.state == JobState.UNKNOWN_CHARGED  # it reached the gateway: maybe billed
        assert job.cost_micros == job.worst_cost_micros and job.error == "cancelled"
        assert await store.check() == []
    finally:
        await store.close()

    gateway.script(Behavior())
    again = await pixelsmith(tmp_path, "imagine", "a quick fox", "--as", "bob", config=config)
    assert again.code == 0, again.err  # the concurrency slot is free again
    assert len(gateway.calls) == 2  # one call per job: the interrupted one was not re-sent


async def test_sigkill_then_a_second_command(tmp_path: Path, gateway: FakeGateway) -> None:
    """``kill -9`` mid-call: nothing runs in the dead process, so its job stays SUBMITTED until
    its lease runs out; the next command (any that opens the database) reaps it first, charges
    it as unknown at its worst case, tells its user once, and works at once."""
    cfg = tmp_path / "cfg"
    config = write_config(cfg, gateway.base_url, "lease_s = 1\n[quota]\nuser_concurrent_jobs = 1\n")
    arrived, never = asyncio.Event(), asyncio.Event()
    gateway.script(Behavior(arrived=arrived, hold=never))
    proc = await start(tmp_path, config, "imagine", "a slow fox", "--as", "bob")
    await asyncio.wait_for(arrived.wait(), 60)
    proc.kill()
    await asyncio.wait_for(proc.wait(), 60)
    assert proc.returncode == -signal.SIGKILL

    store = await Store.open(f"sqlite:///{(cfg / 'px.db').as_posix()}")
    try:
        (job,) = await store.history("user:cli:bob")
        assert job.state == JobState.SUBMITTED  # the dead process settled nothing
        while not await store.check():  # until its lease has run out (wall clock, no guess)
            await asyncio.sleep(0.05)
        assert "SUBMITTED past its lease" in (await store.check())[0]
    finally:
        await store.close()

    gateway.script(Behavior())
    again = await pixelsmith(tmp_path, "imagine", "a quick fox", "--as", "bob", config=config)
    assert again.code == 0, again.err
    assert f"(job {job.id}) did not finish" in again.err and "a slow fox" in again.err
    assert "Traceback" not in again.err
    third = await pixelsmith(tmp_path, "imagine", "a third fox", "--as", "bob", config=config)
    assert third.code == 0 and "did not finish" not in third.err  # told exactly once

    store = await Store.open(f"sqlite:///{(cfg / 'px.db').as_posix()}")
    try:
        reaped = await store.get_job(job.id)
        assert reaped is not None and reaped.state == JobState.UNKNOWN_CHARGED
        assert reaped.cost_micros == reaped.worst_cost_micros and reaped.notified
        assert await store.check() == []
    finally:
        await store.close()
    assert len(gateway.calls) == 3  # one call per job: the killed one was not re-sent
