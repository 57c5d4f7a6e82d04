"""Scale-out: 2,000 interactions over three real ``pixelsmith run`` processes on ONE PostgreSQL.

Run: .venv/bin/python -m bench.scale [--n 2000] [--limit 64] [--latency 1.0] [--json]

The deployment is docker-compose.scale.yml's shape, on one machine: Discord shard 0 of 2, Discord
shard 1 of 2 and one Slack HTTP process, each a real subprocess
(``python -m bots.cli --config FILE run``), all on one fresh PostgreSQL schema (made for the run,
dropped afterwards), each with ``provider.max_concurrency`` = ``--limit``: one global limit shared
through the database (``core/budget.py``, ``SharedBudget``). Why two shards and one Slack
process, not one Discord and two Slack replicas: each process then receives its third of the load
from the platform itself (Discord routes a guild's events to its shard; the Slack process gets
every Slack request), so there is no balancer of our own in the measurement, and the run covers
both adapters and sharding at once.

The fakes run in child processes of their own (their CPU is not the bots'): the gateway answers
every image call after ``--latency`` seconds and records its peak concurrency; the fake Discord
serves both shards (a guild on each) and notes when each interaction's callback arrives; the fake
Slack Web API notes when each user's answer arrives. The interactions (a third per process, every
one from its own user) are sent at once: the Discord ones dispatched over both shards' gateway
sockets, the Slack ones as signed ``/imagine`` requests POSTed from this driver. One untimed
interaction per process first (warm connections), then a quiet pause so the bots' lag window
holds only the load.

Measured, goals in brackets:
- total time (last final answer - start) / ideal, ideal = ceil(n / limit) x latency [<= 1.10];
- lost: interactions with no final answer at all [0];
- peak upstream concurrency seen by the fake gateway [<= limit];
- slowest Discord defer (dispatch -> the callback reaching the fake) and slowest Slack ack (HTTP
  response time seen by the sender) [every one < 1 s];
- each process's event-loop max lag during the load: ``pixelsmith_event_loop_lag_recent_max_seconds``
  on its metrics port, scraped every second of the load [<= 50 ms];
- upstream calls = jobs = n, and ``Store.check()`` of the ledger afterwards.

Needs PostgreSQL (``PIXELSMITH_TEST_PG_URL``, default the test server); prints "skipped" and
exits 2 when it is unreachable.
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
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from sqlalchemy.engine import make_url

from core.store import Store
from tests.reliability.harness import free_port, toml

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get(
    "PIXELSMITH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TOKEN = "xoxb-scale-0123456789"
SECRET = "scale-signing-secret"
API_KEY = "sk-scale-0123456789abcdef"
RATIO_GOAL, ACK_GOAL_S, LAG_GOAL_S = 1.10, 1.0, 0.050
START_TIMEOUT_S = 120.0
QUIET_S = 6.0  # > the bots' lag window (5 s): the load's scrapes do not see the warm-up
LAG_METRIC = "pixelsmith_event_loop_lag_recent_max_seconds"


# ------------------------------------------------------------------------- the fakes (children)


def _fake_process(conn: Any, kind: str, latency: float) -> None:
    asyncio.run(_serve(conn, kind, latency))


async def _recv(conn: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, conn.recv)


async def _serve(conn: Any, kind: str, latency: float) -> None:
    if kind == "gateway":
        await _serve_gateway(conn, latency)
    elif kind == "discord":
        await _serve_discord(conn)
    else:
        await _serve_slack(conn)


async def _serve_gateway(conn: Any, latency: float) -> None:
    from tests.fakes.gateway import Behavior, FakeGateway

    async with FakeGateway(default=Behavior(latency_s=latency)) as gw:
        conn.send({"gateway": gw.base_url})
        while (command := await _recv(conn))[0] != "stop":
            if command[0] == "reset_peak":
                gw.peak_in_flight = gw.in_flight
                conn.send({})
            else:
                calls = [c for c in gw.calls if c.path.startswith("/v1/images/")]
                conn.send({"calls": len(calls), "peak": gw.peak_in_flight,
                           "at": sorted(c.at for c in calls)})  # fmt: skip


async def _serve_discord(conn: Any) -> None:
    from tests.fakes import discord_payloads as P
    from tests.fakes.discord import CallbackEvent, FakeDiscord, MessageEvent

    class TimedDiscord(FakeDiscord):
        def _record(self, event: Any) -> None:
            event.at = time.monotonic()
            super()._record(event)

    fake = TimedDiscord(shard_count=2, max_concurrency=2)
    guilds = [fake.add_guild(f"shard {s}", shard=(s, 2)) for s in (0, 1)]
    contexts = [fake.context(guild_id=g, channel_id=fake.add_channel(g, "art")) for g in guilds]
    dispatched: dict[str, float] = {}
    async with fake:
        conn.send({"token": fake.token, "api_base": fake.api_base, "guilds": guilds})
        while (command := await _recv(conn))[0] != "stop":
            if command[0] == "shards":
                conn.send(fake.shards_connected)
            elif command[0] == "dispatch":
                n, first = command[1], command[2]
                payloads = [
                    P.slash_command(contexts[i % 2].with_user(600000000000000000 + first + i,
                                                              f"u{first + i}"),
                                    "imagine", options={"prompt": f"a scaled lighthouse {first + i}"})
                    for i in range(n)
                ]  # fmt: skip
                conn.send([p["token"] for p in payloads])  # the driver starts its clock now
                for p in payloads:
                    dispatched[p["token"]] = time.monotonic()
                    if await fake.dispatch("INTERACTION_CREATE", p) != 1:
                        raise RuntimeError("an interaction reached no shard, or two")
            elif command[0] == "results":
                tokens, timeout = command[1], command[2]
                deadline = time.monotonic() + timeout
                while True:
                    defers: dict[str, float] = {}
                    finals: dict[str, tuple[bool, float]] = {}
                    for e in fake.events:
                        token = getattr(e, "interaction_token", None)
                        if token not in dispatched:
                            continue
                        if isinstance(e, CallbackEvent) and token not in defers:
                            defers[token] = e.at - dispatched[token]  # type: ignore[attr-defined]
                        if isinstance(e, MessageEvent) and e.kind != "deferred":
                            images = [f for f in e.files if f.filename != "preview.png"]
                            if images or e.ephemeral:
                                at = e.at  # type: ignore[attr-defined]
                                finals.setdefault(token, (bool(images) and not e.ephemeral, at))
                    if all(t in finals for t in tokens) or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.25)
                conn.send({
                    "defer_s": [defers.get(t) for t in tokens],
                    "final": [finals.get(t) for t in tokens],
                    "rejections": len(fake.rejections),
                })  # fmt: skip


class _TimedList(list[Any]):
    """FakeSlack's message list, noting when (monotonic) each message arrived."""

    def append(self, item: Any) -> None:
        item.at = time.monotonic()
        super().append(item)


async def _serve_slack(conn: Any) -> None:
    from tests.fakes.slack import FakeSlack

    fake = FakeSlack(token=TOKEN)
    fake.messages = _TimedList()
    async with fake:
        conn.send({"api_base": fake.api_base})
        while (command := await _recv(conn))[0] != "stop":
            if command[0] == "response_urls":
                conn.send([fake.response_url() for _ in range(command[1])])
            elif command[0] == "results":
                users, timeout = set(command[1]), command[2]
                deadline = time.monotonic() + timeout
                while True:
                    answered: dict[str, tuple[bool, float]] = {}
                    for m in fake.messages:
                        if m.kind == "ephemeral" and m.user in users:
                            answered.setdefault(m.user, (False, m.at))
                        elif m.kind in ("post", "update") and any(
                            b.get("block_id") == "result_actions" for b in (m.blocks or [])
                        ):
                            for user in re.findall(r"<@(U[0-9A-Z]+)>", m.text or ""):
                                if user in users:
                                    answered.setdefault(user, (True, m.at))
                    if len(answered) == len(users) or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.25)
                conn.send({"final": [answered.get(u) for u in command[1]]})


class Child:
    """One fake in a child process, asked over a pipe."""

    def __init__(self, ctx: Any, kind: str, latency: float) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_fake_process, args=(child, kind, latency), daemon=True)
        self.proc.start()

    async def ask(self, *command: Any) -> Any:
        self.conn.send(command)
        return await _recv(self.conn)

    def stop(self) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self.conn.send(("stop",))
        self.proc.join(15)
        if self.proc.is_alive():
            self.proc.kill()


# ------------------------------------------------------------------------- the bots


class Bot:
    """One ``pixelsmith run`` subprocess (see tests/reliability/harness.py's BotProcess; this one
    waits on /healthz alone, its fakes live in other processes)."""

    def __init__(self, name: str, config: dict[str, dict[str, Any]], tmp: Path) -> None:
        self.name, self.config, self.tmp = name, config, tmp
        self.metrics_port = int(config["metrics"]["port"])
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def log(self) -> Path:
        return self.tmp / f"{self.name}.log"

    async def start(self) -> None:
        path = self.tmp / f"{self.name}.toml"
        path.write_text(toml(self.config), encoding="utf-8")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PIXELSMITH_", "SLACK_", "DISCORD_"))}  # fmt: skip
        env["PYTHONUNBUFFERED"] = "1"
        with open(self.log, "wb") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bots.cli", "--config", str(path), "run", cwd=ROOT,
                env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=err,
            )  # fmt: skip
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), START_TIMEOUT_S)
        if b"running on" not in line:
            raise RuntimeError(f"{self.name} did not start:\n{self.log_tail()}")
        async with aiohttp.ClientSession() as http:
            for _ in range(int(START_TIMEOUT_S / 0.1)):
                health = await self._health(http)
                if health is not None and all(
                    c["up"] for p in health["platforms"].values() for c in p.get("connections", [])
                ):
                    return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} never became healthy:\n{self.log_tail()}")

    async def _health(self, http: aiohttp.ClientSession) -> dict[str, Any] | None:
        try:
            async with http.get(f"http://127.0.0.1:{self.metrics_port}/healthz") as resp:
                return dict(await resp.json()) if resp.status == 200 else None
        except aiohttp.ClientError:
            return None

    async def metric(self, http: aiohttp.ClientSession, name: str) -> float:
        async with http.get(f"http://127.0.0.1:{self.metrics_port}/metrics") as resp:
            body = await resp.text()
        found = re.search(rf"^{name} ([0-9.e+-]+)$", body, re.M)
        return float(found.group(1)) if found else float("nan")

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    async def stop(self) -> int | None:
        if self.proc is None or self.proc.returncode is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), 90)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            return None

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


def configs(info: dict[str, Any], url: str, tmp: Path, limit: int) -> dict[str, dict[str, Any]]:
    """The three processes' configs: docker-compose.scale.yml's, pointed at the fakes."""
    common: dict[str, dict[str, Any]] = {
        "provider": {"base_url": info["gateway"], "api_key": API_KEY, "max_concurrency": limit,
                     "stream_partials": 0, "timeout_s": 120, "default_model": "gpt-image-2"},
        "database": {"url": url},
        "results": {"dir": str(tmp / "results")},
        "shutdown": {"grace_s": 30},
        "logging": {"level": "WARNING"},
    }  # fmt: skip
    discord = {
        "token": info["token"],
        "api_base_url": info["api_base"],
        "guild_ids": [int(g) for g in info["guilds"]],
        "shard_count": 2,
    }
    out: dict[str, dict[str, Any]] = {}
    for shard in (0, 1):
        out[f"discord-{shard}"] = {**common, "discord": {**discord, "shard_ids": [shard]}}
    out["slack"] = {**common, "slack": {
        "mode": "http", "http_port": free_port(), "api_base_url": info["slack_api"],
        "file_hosts": ["127.0.0.1"], "bot_token": TOKEN, "signing_secret": SECRET,
    }}  # fmt: skip
    for name, config in out.items():
        out[name] = {**config, "metrics": {"port": free_port(), "host": "127.0.0.1"}}
    return out


# ------------------------------------------------------------------------- the load


async def slack_burst(url: str, response_urls: list[str], users: list[str], tag: str
                      ) -> list[float | None]:  # fmt: skip
    """Every signed request at once, as Slack would send them; each one's ack time (None: not
    a 200 or no answer)."""
    from tests.fakes.slack_requests import ack_times, slash_command

    payloads = [
        slash_command(f"a scaled harbour {tag} {u}", response_url=r, user_id=u)
        for u, r in zip(users, response_urls, strict=True)
    ]
    return await ack_times(url, payloads, SECRET)


async def watch_lag(bots: list[Bot], stop: asyncio.Event, seen: dict[str, float]) -> None:
    """Each bot's windowed max lag, scraped every second until ``stop``: the max over the load."""
    async with aiohttp.ClientSession() as http:
        while True:
            for bot in bots:
                with contextlib.suppress(aiohttp.ClientError):
                    value = await bot.metric(http, LAG_METRIC)
                    seen[bot.name] = max(seen.get(bot.name, 0.0), value)
            if stop.is_set():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)


async def run_scale(args: argparse.Namespace, url: str, tmp: Path) -> dict[str, Any]:
    async with await Store.open(url):
        pass  # migrated once here, not by three processes at once
    ctx = mp.get_context("spawn")
    fakes = {k: Child(ctx, k, args.latency) for k in ("gateway", "discord", "slack")}
    bots: list[Bot] = []
    try:
        info = {**await _recv(fakes["gateway"].conn), **await _recv(fakes["discord"].conn)}
        info["slack_api"] = (await _recv(fakes["slack"].conn))["api_base"]
        bots = [Bot(name, c, tmp) for name, c in configs(info, url, tmp, args.limit).items()]
        await asyncio.gather(*(b.start() for b in bots))
        shards = await fakes["discord"].ask("shards")
        if [list(s) for s in shards] != [[0, 2], [1, 2]]:
            raise RuntimeError(f"shards connected: {shards}")
        slack_url = f"http://127.0.0.1:{bots[2].config['slack']['http_port']}/slack/events"

        # warm-up: one interaction per process, untimed
        warm_tokens = await fakes["discord"].ask("dispatch", 2, 10_000)
        warm_users = ["U0WARM0001"]
        await slack_burst(slack_url, await fakes["slack"].ask("response_urls", 1), warm_users,
                          "warm")  # fmt: skip
        await fakes["discord"].ask("results", warm_tokens, 60)
        await fakes["slack"].ask("results", warm_users, 60)
        await asyncio.sleep(QUIET_S)
        await fakes["gateway"].ask("reset_peak")
        calls_before = (await fakes["gateway"].ask("stats"))["calls"]
        async with aiohttp.ClientSession() as http:
            quiet_lag = {b.name: await b.metric(http, LAG_METRIC) for b in bots}

        n_slack = args.n // 3
        n_discord = args.n - n_slack
        users = [f"U0SCALE{i:05d}" for i in range(n_slack)]
        response_urls = await fakes["slack"].ask("response_urls", n_slack)
        lag_seen: dict[str, float] = {}
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch_lag(bots, stop, lag_seen))
        load_before = os.getloadavg()[0]
        fakes["discord"].conn.send(("dispatch", n_discord, 0))
        tokens = await _recv(fakes["discord"].conn)
        started, wall = time.monotonic(), time.time()
        acks = await slack_burst(slack_url, response_urls, users, "load")
        timeout = math.ceil(args.n / args.limit) * args.latency * 4 + 60
        discord, slack = await asyncio.gather(
            fakes["discord"].ask("results", tokens, timeout),
            fakes["slack"].ask("results", users, timeout),
        )
        stop.set()
        await watcher
        load_after = os.getloadavg()[0]
        gw = await fakes["gateway"].ask("stats")
        codes = [await b.stop() for b in bots]
        store = await Store.open(url, migrate=False)
        try:
            problems = await store.check()
        finally:
            await store.close()
        jobs = _query(f'SELECT count(*) FROM "{args.schema}".job')
    finally:
        for bot in bots:
            await bot.kill()
        if args.keep_logs:
            args.keep_logs.mkdir(parents=True, exist_ok=True)
            for bot in bots:
                with contextlib.suppress(OSError):
                    shutil.copyfile(bot.log, args.keep_logs / bot.log.name)
        for child in fakes.values():
            child.stop()
    finals = [f for f in discord["final"] + slack["final"] if f is not None]
    at = [t - wall for t in gw["at"][calls_before:]]
    defers = [d for d in discord["defer_s"] if d is not None]
    acked = [a for a in acks if a is not None]
    return {
        "n": args.n, "discord": n_discord, "slack": n_slack, "limit": args.limit,
        "latency_s": args.latency,
        "total_s": (max(at for _, at in finals) - started) if finals else math.inf,
        "ideal_s": math.ceil(args.n / args.limit) * args.latency,
        "lost": args.n - len(finals),
        "failed": sum(1 for ok, _ in finals if not ok),
        "peak": gw["peak"], "upstream_calls": gw["calls"] - calls_before, "jobs": jobs - 3,
        "upstream_first_s": min(at, default=math.nan), "upstream_last_s": max(at, default=math.nan),
        "discord_last_s": max((a for _, a in filter(None, discord["final"])), default=started)
        - started,
        "slack_last_s": max((a for _, a in filter(None, slack["final"])), default=started)
        - started,
        "defer_max_s": max(defers, default=math.nan), "defer_p50_s": _pct(defers, 0.5),
        "undeferred": n_discord - len(defers),
        "ack_max_s": max(acked, default=math.nan), "ack_p50_s": _pct(acked, 0.5),
        "unacked": n_slack - len(acked),
        "lag_max_s": lag_seen, "lag_quiet_s": quiet_lag,
        "ledger_problems": problems, "exit_codes": codes,
        "discord_rejections": discord["rejections"],
        "load_before": load_before, "load_after": load_after,
    }  # fmt: skip


def _pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def report(r: dict[str, Any]) -> bool:
    ms = 1000.0
    ratio = r["total_s"] / r["ideal_s"]
    rows: list[tuple[str, str, str, bool | None]] = [
        ("interactions", f"{r['n']}: {r['discord']} Discord (2 shard processes) + {r['slack']} "
         "Slack (1 HTTP process)", "", None),
        ("gateway latency / global limit", f"{r['latency_s']:.1f} s / {r['limit']} (shared on "
         "PostgreSQL)", "", None),
        ("total time / ideal", f"{r['total_s']:.2f} s / {r['ideal_s']:.0f} s = {ratio:.3f}",
         f"<= {RATIO_GOAL:.2f}", ratio <= RATIO_GOAL),
        ("lost (no answer)", f"{r['lost']} (answered without images: {r['failed']})", "0",
         r["lost"] == 0),
        ("peak upstream concurrency", f"{r['peak']}", f"<= {r['limit']}", r["peak"] <= r["limit"]),
        ("upstream calls started", f"{r['upstream_first_s']:.1f} s .. {r['upstream_last_s']:.1f} s "
         "after the start", "", None),
        ("last answer, Discord / Slack", f"{r['discord_last_s']:.1f} s / {r['slack_last_s']:.1f} s",
         "", None),
        ("slowest Discord defer", f"{r['defer_max_s'] * ms:.0f} ms (p50 {r['defer_p50_s'] * ms:.0f}"
         f", none: {r['undeferred']})", "< 1000 ms",
         r["defer_max_s"] < ACK_GOAL_S and r["undeferred"] == 0),
        ("slowest Slack ack", f"{r['ack_max_s'] * ms:.0f} ms (p50 {r['ack_p50_s'] * ms:.0f}, "
         f"none: {r['unacked']})", "< 1000 ms", r["ack_max_s"] < ACK_GOAL_S and r["unacked"] == 0),
    ]  # fmt: skip
    for name, lag in r["lag_max_s"].items():
        rows.append((f"event-loop max lag, {name}", f"{lag * ms:.0f} ms (quiet before: "
                     f"{r['lag_quiet_s'].get(name, math.nan) * ms:.0f} ms)", "<= 50 ms",
                     lag <= LAG_GOAL_S))  # fmt: skip
    rows += [
        ("upstream calls / jobs", f"{r['upstream_calls']} / {r['jobs']}", f"== {r['n']}",
         r["upstream_calls"] == r["jobs"] == r["n"]),
        ("ledger check", "consistent" if not r["ledger_problems"] else str(r["ledger_problems"]),
         "[]", not r["ledger_problems"]),
        ("exit codes after SIGTERM", " ".join(str(c) for c in r["exit_codes"]), "0 0 0",
         all(c == 0 for c in r["exit_codes"])),
        ("load average before/after", f"{r['load_before']:.1f} / {r['load_after']:.1f} "
         f"({os.cpu_count()} CPUs)", "", None),
    ]  # fmt: skip
    print(f"scale: {r['n']} interactions over 3 processes on one PostgreSQL")
    print(f"{'metric':<30} {'value':<62} {'goal':<10} result")
    print("-" * 112)
    for name, value, goal, ok in rows:
        verdict = "" if ok is None else ("PASS" if ok else "FAIL")
        print(f"{name:<30} {value:<62} {goal:<10} {verdict}")
    return all(ok for *_, ok in rows if ok is not None)


def _query(sql: str) -> int:
    """Run one statement as the admin; its first value (a count), 0 if it returns no rows."""
    import psycopg

    libpq = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True, connect_timeout=5) as conn:
        cursor = conn.execute(sql.encode())
        row = cursor.fetchone() if cursor.description else None
        return int(row[0]) if row else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="interactions (1/3 Slack)")
    parser.add_argument("--limit", type=int, default=64, help="provider.max_concurrency")
    parser.add_argument("--latency", type=float, default=1.0, help="fake gateway latency (s)")
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    parser.add_argument("--keep-logs", type=Path, help="copy the bots' logs into this dir")
    args = parser.parse_args(argv)
    schema = args.schema = f"scale_{uuid.uuid4().hex[:12]}"
    try:
        _query(f'CREATE SCHEMA "{schema}"')
    except Exception as exc:  # no server: say so, do not pretend
        print(f"scale: skipped: PostgreSQL unreachable ({type(exc).__name__})")
        return 2
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = asyncio.run(run_scale(args, url.render_as_string(hide_password=False),
                                           Path(tmp)))  # fmt: skip
    finally:
        _query(f'DROP SCHEMA "{schema}" CASCADE')
    ok = report(result)
    if args.json:
        print("JSON " + json.dumps(result))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
