"""200 /imagine interactions from 200 users through the Discord adapter, against loopback fakes.

Run: .venv/bin/python bench/discord_load.py [--users 200] [--latency 1.0] [--concurrency 32]

The fake Discord and the fake gateway (1 s latency per image call) each run in a child process,
like the remote services they stand for, so the event-loop lag measured by a 10 ms ticker is the
bot's own (in one process they would compete for the GIL and inflate it). The bot is the
real thing: discord.py over the fake gateway websocket, ``ImageService`` with
``provider.max_concurrency`` slots, SQLite, the openai SDK, production progress throttling.

Goals: total time <= 1.15 x the ideal ceil(users / concurrency) x latency; 0 interactions
without a final message; event-loop max lag <= 50 ms. Peak RSS is the bot process.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bots.discord.app import DiscordAdapter
from bots.runner import settle_heap
from core.config import Settings
from core.service import ImageService
from tests.fakes import discord_payloads as P
from tests.fakes.discord import FakeDiscord, MessageEvent
from tests.fakes.gateway import Behavior, FakeGateway

TICK_S = 0.010
IDLE_S = 3.0
RATIO_GOAL, LAG_GOAL_MS = 1.15, 50.0


class FakesProcess:
    """One fake (``discord`` or ``gateway``) in a child process: a remote service with its own
    CPU and GIL, so the ticker measures the bot alone. Commands and answers go over a pipe;
    arrival times are ``time.monotonic()`` (system-wide on Linux: comparable across processes)."""

    def __init__(self, kind: str, args: argparse.Namespace) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_child, args=(child, kind, vars(args)), daemon=True)

    def __enter__(self) -> FakesProcess:
        self.proc.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.send(("stop",))
        self.proc.join(10)

    async def recv(self) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)

    async def ask(self, *command: Any) -> Any:
        self.conn.send(command)
        return await self.recv()


def _child(conn: Connection, kind: str, args: dict[str, Any]) -> None:
    asyncio.run(_serve_discord(conn, args) if kind == "discord" else _serve_gateway(conn, args))


async def _commands(conn: Connection) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, conn.recv)


async def _serve_gateway(conn: Connection, args: dict[str, Any]) -> None:
    async with FakeGateway(default=Behavior(latency_s=args["latency"])) as gw:
        conn.send({"gateway": gw.base_url})
        while (await _commands(conn))[0] != "stop":
            conn.send({"calls": len(gw.calls)})


async def _serve_discord(conn: Connection, args: dict[str, Any]) -> None:
    async with FakeDiscord() as fake:
        conn.send({"token": fake.token, "api_base": fake.api_base, "guild_id": fake.guild_id})
        while (command := await _commands(conn))[0] != "stop":
            conn.send(await _run_load(fake, args, users=command[1], first_user=command[2]))


async def _run_load(
    fake: FakeDiscord, args: dict[str, Any], *, users: int, first_user: int
) -> dict[str, Any]:
    base = fake.context()
    payloads = [
        P.slash_command(
            base.with_user(300000000000000000 + first_user + i, f"user{first_user + i}"),
            "imagine",
            options={"prompt": f"a lighthouse at dusk, variant {i}"},
        )
        for i in range(users)
    ]
    edits_before = sum(1 for m in fake.messages if m.kind == "original_edit")
    deadline = math.ceil(args["users"] / args["concurrency"]) * args["latency"] * 3 + 30
    waits = [asyncio.create_task(arrival(fake, p["token"], deadline)) for p in payloads]
    for p in payloads:
        await fake.dispatch("INTERACTION_CREATE", p)
    arrivals = await asyncio.gather(*waits)
    return {
        "arrivals": arrivals,
        "edits": sum(1 for m in fake.messages if m.kind == "original_edit") - edits_before,
        "rejections": len(fake.rejections),
    }


async def ticker(lags: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    expected = loop.time() + TICK_S
    while not stop.is_set():
        await asyncio.sleep(TICK_S)
        now = loop.time()
        lags.append(max(0.0, now - expected))
        expected = now + TICK_S


def settings_for(info: dict[str, Any], db: Path, concurrency: int) -> Settings:
    return Settings.model_validate(
        {
            "provider": {
                "base_url": info["gateway"],
                "api_key": "sk-bench-0123456789",
                "max_concurrency": concurrency,
                "stream_partials": 0,
                "timeout_s": 120,
            },
            "database": {"url": f"sqlite:///{db}"},
            "discord": {
                "token": info["token"],
                "api_base_url": info["api_base"],
                "guild_ids": [int(info["guild_id"])],
            },
        }
    )


def is_final(token: str) -> Any:
    def match(e: Any) -> bool:
        return (
            isinstance(e, MessageEvent)
            and e.interaction_token == token
            and e.kind != "deferred"
            and (any(f.filename != "preview.png" for f in e.files) or e.ephemeral)
        )

    return match


async def arrival(fake: FakeDiscord, token: str, timeout: float) -> float | None:
    """When (monotonic) the final message of an interaction arrived; None if it never did."""
    try:
        event = await fake.wait_for(is_final(token), timeout=timeout)
    except TimeoutError:
        return None
    return time.monotonic() if not event.ephemeral else None


async def load(
    args: argparse.Namespace, fakes: FakesProcess, upstream: FakesProcess
) -> dict[str, Any]:
    info = {**await fakes.recv(), **await upstream.recv()}
    ideal = math.ceil(args.users / args.concurrency) * args.latency
    with tempfile.TemporaryDirectory() as tmp:
        service = await ImageService.create(
            settings_for(info, Path(tmp) / "bench.db", args.concurrency)
        )
        await service.start()
        adapter = DiscordAdapter(
            service, guild_ready_timeout=0.05, progress_interval=args.progress_interval
        )
        await adapter.start()
        settle_heap()  # as `pixelsmith run` does before serving
        # One interaction first: the first use of the HTTP clients and image code costs
        # one-off work (SSL contexts, lazy imports); measured apart as the cold start.
        cold: list[float] = []
        stop = asyncio.Event()
        tick = asyncio.create_task(ticker(cold, stop))
        await fakes.ask("go", 1, 10_000)
        stop.set()
        await tick
        idle: list[float] = []  # the machine's own noise floor, bot connected but idle
        stop = asyncio.Event()
        tick = asyncio.create_task(ticker(idle, stop))
        await asyncio.sleep(IDLE_S)
        stop.set()
        await tick
        lags: list[float] = []
        stop = asyncio.Event()
        tick = asyncio.create_task(ticker(lags, stop))
        started, cpu = time.monotonic(), time.process_time()
        load_before = os.getloadavg()[0]
        result = await fakes.ask("go", args.users, 0)
        cpu = time.process_time() - cpu
        calls = (await upstream.ask("stats"))["calls"] - 1  # minus the warm-up
        stop.set()
        await tick
        await adapter.stop()
        await service.close()
    done = [a for a in result["arrivals"] if a is not None]
    return {
        "total": (max(done) - started) if done else float("inf"),
        "ideal": ideal,
        "lost": args.users - len(done),
        "max_lag_ms": max(lags, default=0.0) * 1000,
        "idle_lag_ms": max(idle, default=0.0) * 1000,
        "cold_lag_ms": max(cold, default=0.0) * 1000,
        "p99_lag_ms": sorted(lags)[int(len(lags) * 0.99)] * 1000 if lags else 0.0,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "edits": result["edits"],
        "calls": calls,
        "rejections": result["rejections"],
        "cpu_s": cpu,
        "load": max(load_before, os.getloadavg()[0]),
    }


def report(args: argparse.Namespace, r: dict[str, Any]) -> bool:
    ratio = r["total"] / r["ideal"]
    rows = [
        ("interactions", f"{args.users} from {args.users} users", "", None),
        ("gateway latency / slots", f"{args.latency:.1f} s / {args.concurrency}", "", None),
        ("Discord errors (fake)", str(r["rejections"]), "", None),
        ("upstream calls", str(r["calls"]), f"== {args.users}", r["calls"] == args.users),
        ("progress edits", str(r["edits"]), "", None),
        ("ideal time", f"{r['ideal']:.2f} s", "", None),
        ("total time", f"{r['total']:.2f} s", "", None),
        ("ratio to ideal", f"{ratio:.3f}x", f"<= {RATIO_GOAL}x", ratio <= RATIO_GOAL),
        ("lost (no final message)", str(r["lost"]), "== 0", r["lost"] == 0),
        (
            "event-loop max lag",
            f"{r['max_lag_ms']:.1f} ms",
            f"<= {LAG_GOAL_MS:.0f} ms",
            r["max_lag_ms"] <= LAG_GOAL_MS,
        ),
        ("event-loop p99 lag", f"{r['p99_lag_ms']:.1f} ms", "", None),
        ("idle max lag (noise floor)", f"{r['idle_lag_ms']:.1f} ms", "", None),
        ("first interaction max lag", f"{r['cold_lag_ms']:.1f} ms", "(warm-up)", None),
        ("bot CPU time (all threads)", f"{r['cpu_s']:.2f} s", "", None),
        ("machine load avg / CPUs", f"{r['load']:.1f} / {os.cpu_count()}", "", None),
        ("peak RSS (bot process)", f"{r['rss_mb']:.0f} MB", "", None),
    ]
    print(f"{'metric':<26} {'value':>22}  {'goal':<12} result")
    print("-" * 70)
    for name, value, goal, ok in rows:
        verdict = "" if ok is None else ("PASS" if ok else "FAIL")
        print(f"{name:<26} {value:>22}  {goal:<12} {verdict}")
    return all(ok for *_, ok in rows if ok is not None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--progress-interval", type=float, default=1.0, help="adapter progress throttle (s)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with FakesProcess("discord", args) as fakes, FakesProcess("gateway", args) as upstream:
        result = asyncio.run(load(args, fakes, upstream))
    return 0 if report(args, result) else 1


if __name__ == "__main__":
    sys.exit(main())
