"""200 signed /imagine requests from 200 users against the Slack adapter in HTTP mode.

Run: .venv/bin/python bench/slack_load.py [--users 200] [--concurrency 32] [--latency 1.0]

The fake gateway (1 s per image) and the fake Slack Web API run in child processes of their own,
so the bot's event loop carries only the bot. Measured in one run:
- every ack's HTTP response time (goal: all < 3 s, Slack's deadline);
- total time until every user has their upload and buttons, against the ideal
  ceil(users / concurrency) x latency (goal: <= 1.15x);
- lost requests: users with neither a result nor a reply (goal: 0);
- peak RSS of the bot process.
The signed requests come from a process of their own, as they would come from Slack, after
one untimed warm-up request.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from aiohttp import web

from bots.runner import settle_heap
from bots.slack.app import SlackAdapter
from core.config import Settings
from core.service import ImageService
from tests.fakes.gateway import Behavior, FakeGateway
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_requests import send, slash_command

TOKEN = "xoxb-bench-0123456789"
SECRET = "bench-signing-secret"
ACK_GOAL_S = 3.0
TOTAL_GOAL = 1.15


# ---------------------------------------------------------------------- the fakes (child)


def _fakes_process(conn: Any, which: str, latency: float) -> None:
    asyncio.run(_serve_fake(conn, which, latency))


async def _serve_fake(conn: Any, which: str, latency: float) -> None:
    """One fake per process: the gateway, or Slack's Web API (each has a /stats page)."""
    gw = FakeGateway(default=Behavior(latency_s=latency)) if which == "gateway" else None
    fake = FakeSlack(token=TOKEN) if which == "slack" else None

    async def stats(_: web.Request) -> web.Response:
        if gw is not None:
            calls = gw.calls_to("/v1/images/generations")
            return web.json_response(
                {"gateway_calls": len(calls), "gateway_at": sorted(c.at for c in calls)}
            )
        assert fake is not None
        results = {
            m.channel
            for m in fake.messages
            if m.kind in ("post", "update")
            and any(b.get("block_id") == "result_actions" for b in (m.blocks or []))
        }
        return web.json_response(
            {
                "results": sorted(results),
                "replies": sorted({m.channel for m in fake.messages if m.kind == "ephemeral"}),
                "slack_calls": len(fake.calls),
                "updates": len(fake.calls_of("chat.update")),
            }
        )

    server: Any = gw if gw is not None else fake
    async with server:
        app = web.Application()
        app.router.add_get("/stats", stats)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        stats_url = f"http://127.0.0.1:{runner.addresses[0][1]}/stats"
        base = gw.base_url if gw is not None else fake.base_url  # type: ignore[union-attr]
        conn.send((base, stats_url))
        await asyncio.to_thread(conn.recv)  # until the parent says stop
        await runner.cleanup()


def _start(ctx: Any, target: Any, *args: Any) -> tuple[Any, Any]:
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=target, args=(child, *args), daemon=True)
    proc.start()
    return proc, parent


# ---------------------------------------------------------------------- the bot (parent)


def _settings(tmp: Path, gateway_url: str, api_base: str, concurrency: int) -> Settings:
    return Settings.model_validate(
        {
            "provider": {
                "base_url": gateway_url,
                "api_key": "sk-bench-0123456789",
                "timeout_s": 60,
                "stream_partials": 0,
                "max_concurrency": concurrency,
                "default_model": "gpt-image-2",
            },
            "database": {"url": f"sqlite:///{tmp / 'bench.db'}"},
            "slack": {
                "mode": "http",
                "http_port": 0,
                "api_base_url": api_base,
                "file_hosts": ["127.0.0.1"],
                "bot_token": TOKEN,
                "signing_secret": SECRET,
            },
        }
    )


async def _one(session: aiohttp.ClientSession, url: str, hooks: str, i: int) -> tuple[float, int]:
    payload = slash_command(
        f"bench lighthouse number {i}",
        response_url=f"{hooks}/R{i}",
        user_id=f"U{i:08d}",
        channel_id=f"C{i:08d}",
    )
    started = time.perf_counter()
    reply = await send(session, url, payload, SECRET)
    return time.perf_counter() - started, reply.status


def _load_process(conn: Any, url: str, hooks: str, users: int) -> None:
    """Slack's side of the wire: fire every signed request at once, report each ack time."""

    async def fire() -> list[tuple[float, int]]:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            conn.send("ready")
            conn.recv()
            fired = time.time()
            acks = await asyncio.gather(*(_one(session, url, hooks, i) for i in range(users)))
            return fired, list(acks)

    conn.send(asyncio.run(fire()))


async def _stats(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with session.get(url) as resp:
        return dict(await resp.json())


async def run(users: int, concurrency: int, latency: float) -> bool:
    ctx = mp.get_context("spawn")
    gw_proc, gw_conn = _start(ctx, _fakes_process, "gateway", latency)
    slack_proc, slack_conn = _start(ctx, _fakes_process, "slack", latency)
    gateway_base, gw_stats = await asyncio.to_thread(gw_conn.recv)
    fake_base, stats_url = await asyncio.to_thread(slack_conn.recv)
    gateway_url, api_base = gateway_base, f"{fake_base}/api/"
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp), gateway_url, api_base, concurrency)
        service = await ImageService.create(settings)
        await service.start()
        adapter = SlackAdapter(service, settings, host="127.0.0.1")
        await adapter.start()
        settle_heap()  # as `pixelsmith run` does before serving
        url = f"http://127.0.0.1:{adapter.port}/slack/events"
        load, load_conn = _start(ctx, _load_process, url, f"{fake_base}/hooks/response", users)
        await asyncio.to_thread(load_conn.recv)  # the load process is up
        async with aiohttp.ClientSession() as session:
            # One untimed request first: a running bot has its connections and lazily built
            # SDK models warm; the run below measures steady-state capacity.
            warm = slash_command(
                "warm-up",
                response_url=f"{fake_base}/hooks/response/W",
                user_id="UWARMUP01",
                channel_id="CWARMUP01",
            )
            await send(session, url, warm, SECRET)
            while "CWARMUP01" not in (await _stats(session, stats_url))["results"]:
                await asyncio.sleep(0.05)
            started = time.perf_counter()
            load_conn.send("go")
            fired, acks = await asyncio.to_thread(load_conn.recv)
            load.join(10)
            await adapter.drain(120)
            while True:  # the last upload may still be in flight on the fake's side
                stats = await _stats(session, stats_url)
                if len(set(stats["results"]) | set(stats["replies"])) >= users + 1:
                    break
                if time.perf_counter() - started > 60:
                    break
                await asyncio.sleep(0.02)
            total = time.perf_counter() - started
            stats.update(await _stats(session, gw_stats))
            stats["gateway_at"] = stats["gateway_at"][1:]  # not the warm-up call
            stats["gateway_calls"] -= 1
        await adapter.stop()
        await service.close()
    for proc, conn in ((gw_proc, gw_conn), (slack_proc, slack_conn)):
        conn.send("stop")
        proc.join(10)
    at = [round(t - fired, 2) for t in stats["gateway_at"]]
    print(
        f"upstream call starts after the first request (every {concurrency}th, and the "
        f"last): {at[::concurrency] + at[-1:]}"
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return report(users, concurrency, latency, acks, stats, total, peak_mb)


def report(
    users: int,
    concurrency: int,
    latency: float,
    acks: list[tuple[float, int]],
    stats: dict[str, Any],
    total: float,
    peak_mb: float,
) -> bool:
    times = sorted(t for t, _ in acks)
    bad_status = sum(1 for _, s in acks if s != 200)
    ideal = math.ceil(users / concurrency) * latency
    answered = (set(stats["results"]) | set(stats["replies"])) - {"CWARMUP01"}
    lost = users - len(answered)
    rows = [
        (
            "acks < 3 s",
            f"max {times[-1] * 1000:.0f} ms, p50 {times[len(times) // 2] * 1000:.0f} "
            f"ms, non-200: {bad_status}",
            times[-1] < ACK_GOAL_S and bad_status == 0,
        ),
        (
            "total vs ideal",
            f"{total:.2f} s / {ideal:.2f} s = {total / ideal:.3f}x",
            total / ideal <= TOTAL_GOAL,
        ),
        (
            "lost",
            f"{lost} (results {len(answered - set(stats['replies']))}, error replies "
            f"{len(stats['replies'])})",
            lost == 0,
        ),
        (
            "upstream calls",
            f"{stats['gateway_calls']} for {users} requests",
            stats["gateway_calls"] == users,
        ),
        ("peak RSS (bot)", f"{peak_mb:.0f} MB", None),
        ("Slack API calls", f"{stats['slack_calls']} ({stats['updates']} chat.update)", None),
    ]
    print(
        f"Slack /imagine load: {users} users, concurrency {concurrency}, "
        f"gateway latency {latency:.1f} s"
    )
    print(f"{'metric':<24} {'measured':<58} result")
    ok = True
    for name, value, passed in rows:
        verdict = "-" if passed is None else ("PASS" if passed else "FAIL")
        ok = ok and passed is not False
        print(f"{name:<24} {value:<58} {verdict}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=1.0)
    args = parser.parse_args()
    ok = asyncio.run(run(args.users, args.concurrency, args.latency))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
