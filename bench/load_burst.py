"""A burst of interactions across both adapters against ONE real ``pixelsmith run`` process.

Run: .venv/bin/python -m bench.load_burst [--n 1000] [--latency 0.05] [--concurrency 8]

Half the burst is Discord ``INTERACTION_CREATE`` (/imagine) pushed over the fake gateway
websocket, half signed Slack ``/imagine`` requests POSTed all at once to the bot's HTTP mode;
every request comes from its own user. The bot is the real subprocess
(``python -m bots.cli --config FILE run``, production settings: 8 upstream slots, progress
throttling); the fakes (gateway at low latency, Discord, Slack Web API) run in a child process of
their own, so their CPU is not the bot's; the Slack requests are sent from this driver process.

Measured in one run:
- lost: interactions with no final answer at all (images or a reply) -> goal 0;
- failed: answered, but not with images (reported);
- Slack ack: HTTP response time of each signed request, as the sender sees it -> goal all < 3 s;
- Discord defer: time from the fake's dispatch to the bot's deferral callback arriving at the
  fake -> goal all < 3 s (Discord's deadline);
- the bot's peak RSS (VmHWM) and its growth per interaction of the burst, and the bot's
  event-loop max lag (``pixelsmith_event_loop_lag_max_seconds`` on its metrics port) before and
  after the burst;
- the ledger afterwards (``Store.check()``), upstream calls vs jobs, the exit code after SIGTERM.
Prints a table (and ``--json`` a JSON line, for bench/run_all.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import re
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp

from core.store import Store

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "xoxb-burst-0123456789"
SECRET = "burst-signing-secret"
API_KEY = "sk-burst-0123456789abcdef"
DEADLINE_S = 3.0  # both platforms' acknowledgement deadline
START_TIMEOUT_S = 120.0


# ------------------------------------------------------------------------- the fakes (child)


def _fakes_process(conn: Any, latency: float) -> None:
    asyncio.run(_serve(conn, latency))


async def _recv(conn: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, conn.recv)


async def _serve(conn: Any, latency: float) -> None:
    from tests.fakes import discord_payloads as P
    from tests.fakes.discord import CallbackEvent, FakeDiscord, MessageEvent
    from tests.fakes.gateway import Behavior, FakeGateway
    from tests.fakes.slack import FakeSlack

    class TimedDiscord(FakeDiscord):
        """Notes when (monotonic) each event reached the fake."""

        def _record(self, event: Any) -> None:
            event.at = time.monotonic()
            super()._record(event)

    gateway = FakeGateway(default=Behavior(latency_s=latency))
    await gateway.start()
    discord = await TimedDiscord().start()
    slack = await FakeSlack(token=TOKEN).start()
    conn.send({
        "gateway": gateway.base_url, "discord_token": discord.token,
        "discord_api": discord.api_base, "guild_id": discord.guild_id,
        "slack_api": slack.api_base, "response_url": slack.response_url(),
    })  # fmt: skip
    dispatched: dict[str, float] = {}  # token -> monotonic time of dispatch
    try:
        while (command := await _recv(conn))[0] != "stop":
            if command[0] == "ready":
                conn.send({"clients": discord.gateway_clients})
            elif command[0] == "discord":
                n, first = command[1], command[2]
                base = discord.context()
                payloads = [
                    P.slash_command(base.with_user(500000000000000000 + first + i, f"u{i}"),
                                    "imagine", options={"prompt": f"a burst lighthouse {first + i}"})
                    for i in range(n)
                ]  # fmt: skip
                for p in payloads:
                    dispatched[p["token"]] = time.monotonic()
                    await discord.dispatch("INTERACTION_CREATE", p)
                conn.send({"dispatched": n})
            elif command[0] == "results":
                tokens, users, timeout = command[1], command[2], command[3]
                conn.send(await _results(discord, slack, dispatched, tokens, users, timeout,
                                         CallbackEvent, MessageEvent))  # fmt: skip
            elif command[0] == "calls":
                conn.send({"calls": len([c for c in gateway.calls if c.path.startswith("/v1/i")])})
    finally:
        await slack.stop()
        await discord.stop()
        await gateway.stop()


async def _results(discord: Any, slack: Any, dispatched: dict[str, float], tokens: list[str] | None,
                   users: list[str], timeout: float, callback_t: Any, message_t: Any
                   ) -> dict[str, Any]:  # fmt: skip
    tokens = list(dispatched) if tokens is None else tokens

    def discord_state() -> tuple[dict[str, float], dict[str, bool]]:
        defers: dict[str, float] = {}
        finals: dict[str, bool] = {}
        for e in discord.events:
            token = getattr(e, "interaction_token", None)
            if token not in dispatched:
                continue
            if isinstance(e, callback_t) and token not in defers:
                defers[token] = e.at - dispatched[token]
            if isinstance(e, message_t) and e.kind != "deferred":
                results = [f for f in e.files if f.filename != "preview.png"]
                if results or e.ephemeral:
                    finals.setdefault(token, bool(results) and not e.ephemeral)
        return defers, finals

    def slack_state() -> dict[str, bool]:
        answered: dict[str, bool] = {}
        for m in slack.messages:
            if m.kind == "ephemeral" and m.user:
                answered.setdefault(m.user, False)
            elif m.kind in ("post", "update") and any(
                b.get("block_id") == "result_actions" for b in (m.blocks or [])
            ):
                for user in re.findall(r"<@(U[0-9A-Z]+)>", m.text or ""):
                    answered.setdefault(user, True)
        return answered

    deadline = time.monotonic() + timeout
    while True:
        defers, finals = discord_state()
        answered = slack_state()
        done = all(t in finals for t in tokens) and all(u in answered for u in users)
        if done or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    return {
        "discord_defer_s": [defers.get(t) for t in tokens],
        "discord_final": [finals.get(t) for t in tokens],
        "slack_final": [answered.get(u) for u in users],
        "discord_rejections": len(discord.rejections),
    }


# ------------------------------------------------------------------------- the driver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(info: dict[str, Any], tmp: Path, concurrency: int) -> tuple[Path, dict[str, int]]:
    ports = {"metrics": _free_port(), "slack": _free_port()}
    text = f"""
[provider]
base_url = "{info["gateway"]}"
api_key = "{API_KEY}"
max_concurrency = {concurrency}
stream_partials = 0
timeout_s = 120

[database]
url = "sqlite:///{tmp / "burst.db"}"

[discord]
token = "{info["discord_token"]}"
api_base_url = "{info["discord_api"]}"
guild_ids = [{int(info["guild_id"])}]

[slack]
mode = "http"
http_port = {ports["slack"]}
api_base_url = "{info["slack_api"]}"
bot_token = "{TOKEN}"
signing_secret = "{SECRET}"

[metrics]
port = {ports["metrics"]}

[shutdown]
grace_s = 30

[logging]
level = "WARNING"
"""
    path = tmp / "burst.toml"
    path.write_text(text, encoding="utf-8")
    return path, ports


async def _metric(http: aiohttp.ClientSession, port: int, name: str) -> float:
    async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
        body = await resp.text()
    found = re.search(rf"^{name} ([0-9.e+-]+)$", body, re.M)
    return float(found.group(1)) if found else float("nan")


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def _start_bot(config: Path, log: Path, metrics_port: int) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIXELSMITH_", "SLACK_", "DISCORD_"))}  # fmt: skip
    with open(log, "wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bots.cli", "--config", str(config), "run", cwd=ROOT, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=err,
        )  # fmt: skip
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), START_TIMEOUT_S)
    if b"running on" not in line:
        proc.kill()
        await proc.wait()
        raise RuntimeError("the bot did not start:\n" + log.read_text(errors="replace")[-3000:])
    url = f"http://127.0.0.1:{metrics_port}/healthz"
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        if resp.status != 200:
            raise RuntimeError(f"/healthz answered {resp.status}")
    return proc


async def _slack_burst(port: int, info: dict[str, Any], users: list[str]) -> list[float | None]:
    from tests.fakes.slack_requests import ack_times, slash_command

    url = f"http://127.0.0.1:{port}/slack/events"
    payloads = [slash_command(f"a burst harbour {u}", response_url=info["response_url"],
                              user_id=u) for u in users]  # fmt: skip
    return await ack_times(url, payloads, SECRET)


async def run_burst(n: int = 1000, latency: float = 0.05, concurrency: int = 8,
                    timeout: float | None = None, log: Path | None = None
                    ) -> dict[str, Any]:  # fmt: skip
    """Run the burst; returns the measurements (see the module docstring)."""
    n_discord = n // 2
    n_slack = n - n_discord
    timeout = timeout or max(120.0, n * 0.5)
    ctx = mp.get_context("spawn")
    conn, child = ctx.Pipe()
    fakes = ctx.Process(target=_fakes_process, args=(child, latency), daemon=True)
    fakes.start()
    proc: asyncio.subprocess.Process | None = None
    try:
        info = await _recv(conn)
        with tempfile.TemporaryDirectory() as tmp:
            config, ports = _config(info, Path(tmp), concurrency)
            proc = await _start_bot(config, Path(tmp) / "bot.log", ports["metrics"])
            async with aiohttp.ClientSession() as http:
                lag_start = await _metric(http, ports["metrics"],
                                          "pixelsmith_event_loop_lag_max_seconds")  # fmt: skip
                rss_ready_kb = _status_kb(proc.pid, "VmRSS")
                load_before = os.getloadavg()[0]
                users = [f"U0BURST{i:05d}" for i in range(n_slack)]
                started = time.monotonic()
                conn.send(("discord", n_discord, 0))
                acks = await _slack_burst(ports["slack"], info, users)
                await _recv(conn)  # every Discord interaction dispatched
                conn.send(("results", None, users, timeout))
                results = await _recv(conn)
                elapsed = time.monotonic() - started
                lag_end = await _metric(http, ports["metrics"],
                                        "pixelsmith_event_loop_lag_max_seconds")  # fmt: skip
                peak_kb = _status_kb(proc.pid, "VmHWM")
                load_after = os.getloadavg()[0]
            conn.send(("calls",))
            calls = (await _recv(conn))["calls"]
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 120)
            store = await Store.open(f"sqlite:///{Path(tmp) / 'burst.db'}", migrate=False)
            try:
                problems = await store.check()
            finally:
                await store.close()
            if log is not None:
                shutil.copyfile(Path(tmp) / "bot.log", log)
            with contextlib.closing(sqlite3.connect(Path(tmp) / "burst.db")) as db:
                states = dict(db.execute("SELECT state, count(*) FROM job GROUP BY state"))
    finally:
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
        conn.send(("stop",))
        fakes.join(15)
        if fakes.is_alive():
            fakes.kill()
    defers = results["discord_defer_s"]
    d_final, s_final = results["discord_final"], results["slack_final"]
    acked = [a for a in acks if a is not None]
    deferred = [d for d in defers if d is not None]
    jobs = sum(states.values())
    return {
        "n": n, "discord": n_discord, "slack": n_slack, "latency_s": latency,
        "concurrency": concurrency,
        "lost": sum(1 for f in d_final + s_final if f is None),
        "failed": sum(1 for f in d_final + s_final if f is False),
        "slack_unacked": len(acks) - len(acked),
        "slack_ack_max_s": max(acked, default=float("nan")),
        "slack_ack_p50_s": _pct(acked, 0.5), "slack_ack_p99_s": _pct(acked, 0.99),
        "slack_acks_over_deadline": sum(1 for a in acked if a >= DEADLINE_S),
        "discord_undeferred": len(defers) - len(deferred),
        "discord_defer_max_s": max(deferred, default=float("nan")),
        "discord_defer_p50_s": _pct(deferred, 0.5), "discord_defer_p99_s": _pct(deferred, 0.99),
        "discord_defers_over_deadline": sum(1 for d in deferred if d >= DEADLINE_S),
        "discord_rejections": results["discord_rejections"],
        "total_s": elapsed,
        "peak_rss_mb": peak_kb / 1024, "ready_rss_mb": rss_ready_kb / 1024,
        "rss_per_interaction_kb": (peak_kb - rss_ready_kb) / max(n, 1),
        "loop_lag_max_start_s": lag_start, "loop_lag_max_s": lag_end,
        "upstream_calls": calls, "jobs": jobs, "job_states": states, "ledger_problems": problems,
        "exit_code": code, "load_before": load_before, "load_after": load_after,
    }  # fmt: skip


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def report(r: dict[str, Any]) -> bool:
    ms = 1000.0
    rows: list[tuple[str, str, str, bool | None]] = [
        ("interactions", f"{r['n']} ({r['discord']} Discord + {r['slack']} Slack)", "", None),
        ("gateway latency / slots", f"{r['latency_s']:.2f} s / {r['concurrency']}", "", None),
        ("lost (no answer)", str(r["lost"]), "== 0", r["lost"] == 0),
        ("answered without images", str(r["failed"]), "", None),
        ("Slack ack max", f"{r['slack_ack_max_s'] * ms:.0f} ms (p50 {r['slack_ack_p50_s'] * ms:.0f},"
         f" p99 {r['slack_ack_p99_s'] * ms:.0f})", "< 3000 ms",
         r["slack_acks_over_deadline"] == 0 and r["slack_unacked"] == 0),
        ("Discord defer max", f"{r['discord_defer_max_s'] * ms:.0f} ms (p50 "
         f"{r['discord_defer_p50_s'] * ms:.0f}, p99 {r['discord_defer_p99_s'] * ms:.0f})",
         "< 3000 ms", r["discord_defers_over_deadline"] == 0 and r["discord_undeferred"] == 0),
        ("upstream calls / jobs", f"{r['upstream_calls']} / {r['jobs']}", "== n",
         r["upstream_calls"] == r["jobs"] == r["n"]),
        ("ledger check", "consistent" if not r["ledger_problems"] else str(r["ledger_problems"]),
         "[]", not r["ledger_problems"]),
        ("exit code after SIGTERM", str(r["exit_code"]), "0", r["exit_code"] == 0),
        ("time to last answer", f"{r['total_s']:.1f} s", "", None),
        ("bot event-loop max lag", f"{r['loop_lag_max_s'] * ms:.0f} ms (start-up "
         f"{r['loop_lag_max_start_s'] * ms:.0f} ms)", "", None),
        ("bot peak RSS", f"{r['peak_rss_mb']:.0f} MB (ready {r['ready_rss_mb']:.0f} MB)", "",
         None),
        ("RSS growth per interaction", f"{r['rss_per_interaction_kb']:.0f} KB", "", None),
        ("load average before/after", f"{r['load_before']:.1f} / {r['load_after']:.1f} "
         f"({os.cpu_count()} CPUs)", "", None),
    ]  # fmt: skip
    print(f"{'metric':<28} {'value':<46} {'goal':<10} result")
    print("-" * 94)
    for name, value, goal, ok in rows:
        verdict = "" if ok is None else ("PASS" if ok else "FAIL")
        print(f"{name:<28} {value:<46} {goal:<10} {verdict}")
    return all(ok for *_, ok in rows if ok is not None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="interactions (half per platform)")
    parser.add_argument("--latency", type=float, default=0.05, help="fake gateway latency (s)")
    parser.add_argument("--concurrency", type=int, default=8, help="provider.max_concurrency")
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    parser.add_argument("--log", type=Path, help="keep the bot's log (stderr) in this file")
    args = parser.parse_args(argv)
    result = asyncio.run(run_burst(args.n, args.latency, args.concurrency, log=args.log))
    ok = report(result)
    if args.json:
        print("JSON " + json.dumps(result))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
