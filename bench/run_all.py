"""Every benchmark, one after the other, summarised in ONE table (docs/PERFORMANCE.md).

Run: .venv/bin/python -m bench.run_all [--quick] [--write-doc] [--only NAME ...]

Each benchmark runs as its own subprocess (a clean interpreter, nothing shared), in sequence, and
its printed result is parsed; a benchmark that fails or prints something unexpected shows "n/a"
in its rows and the reason below the table, the others still report. Every figure is a ratio or a
measurement taken in this run, on the machine described above the table. ``--write-doc``
replaces the table in docs/PERFORMANCE.md (between the ``run_all`` markers). An opt-in benchmark
(``scale``: three bot processes on PostgreSQL, about two minutes) runs only when ``--only`` names
it; it says "skipped" when its service is unreachable.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "PERFORMANCE.md"
BEGIN, END = "<!-- run_all:begin -->", "<!-- run_all:end -->"
TIMEOUT_S = 1200


@dataclass
class Bench:
    name: str
    args: list[str]
    quick: list[str] = field(default_factory=list)
    opt_in: bool = False  # runs only when named in --only (needs a service, or is long)


BENCHES = [
    Bench("overhead", ["bench/overhead.py"], ["--calls", "20"]),
    Bench("preprocess", ["bench/preprocess.py"]),
    Bench("ledger", ["bench/ledger.py"], ["--seconds", "1"]),
    Bench("fairness", ["-m", "bench.fairness"]),
    Bench("discord_load", ["bench/discord_load.py"], ["--users", "64"]),
    Bench("slack_load", ["bench/slack_load.py"], ["--users", "64"]),
    Bench("load_burst", ["-m", "bench.load_burst", "--json"], ["--n", "200"]),
    Bench("cli_startup", ["bench/cli_startup.py"], ["--runs", "3"]),
    Bench("budget", ["-m", "bench.budget"], ["--jobs", "192"]),
    Bench("scale", ["-m", "bench.scale", "--json"], ["--n", "300"], opt_in=True),
]


@dataclass
class Row:
    figure: str
    value: str
    goal: str
    result: str
    source: str


def _num(pattern: str, text: str, group: int = 1) -> float:
    found = re.search(pattern, text, re.M)
    if found is None:
        raise ValueError(f"no match for {pattern!r}")
    return float(found.group(group).replace(",", ""))


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("PASS" if ok else "FAIL")


# ----------------------------------------------------------------------------------- parsers


def overhead(out: str) -> list[Row]:
    ratio = _num(r"ratio service/bare\s*:\s*([\d.]+)", out)
    per_call = _num(r"overhead per call\s*:\s*([+-]?[\d.]+) ms", out)
    return [Row("Overhead vs the bare SDK (time ratio)", f"{ratio:.3f} ({per_call:+.1f} ms/call)",
                "<= 1.05", _verdict(ratio <= 1.05), "overhead")]  # fmt: skip


def preprocess(out: str) -> list[Row]:
    ms = _num(r"intake time \(median of 5\)\s+([\d,]+) ms", out)
    got = _num(r"bytes received\s+([\d,]+)", out)
    sent = _num(r"bytes sent upstream\s+([\d,]+)", out)
    lag = _num(r"core\.images pool[^\n]*?\s([\d.]+) ms", out)
    saved = 1 - sent / got
    return [
        Row("Preprocessing a 24 MP photo: time", f"{ms:.0f} ms", "", "-", "preprocess"),
        Row("Preprocessing: bytes saved", f"{saved:.1%} ({got / 1e6:.1f} MB -> {sent / 1e6:.2f} MB)",
            ">= 75%", _verdict(saved >= 0.75), "preprocess"),
        Row("Event-loop max lag, 8 photos at once", f"{lag:.1f} ms", "<= 50 ms",
            _verdict(lag <= 50), "preprocess"),
    ]  # fmt: skip


def ledger(out: str) -> list[Row]:
    rows = []
    for line in out.splitlines():
        found = re.match(r"^(sqlite \+submit|sqlite|postgresql)\s+(\d+)\s+([\d,]+)", line)
        if not found:
            continue
        db, procs, rate = (
            found.group(1),
            int(found.group(2)),
            float(found.group(3).replace(",", "")),
        )
        first = db == "sqlite" and procs == 1
        label = {"sqlite": "SQLite", "sqlite +submit": "SQLite, +mark_submitted",
                 "postgresql": "PostgreSQL"}[db]  # fmt: skip
        rows.append(Row(f"Ledger reserve+settle pairs/s, {label}, {procs} proc",
                        f"{rate:,.0f}", ">= 1,000" if first else "",
                        _verdict(rate >= 1000) if first else "-", "ledger"))  # fmt: skip
    skipped = re.search(r"postgresql: skipped: (.*)", out)
    if skipped:
        rows.append(Row("Ledger pairs/s, PostgreSQL", "skipped (no server reachable)", "", "-",
                        "ledger"))  # fmt: skip
    if not rows:
        raise ValueError("no ledger rows")
    return rows


def fairness(out: str) -> list[Row]:
    worst = _num(r"median [\d.]+s, max ([\d.]+)s", out)
    measured = _num(r"measured/optimum = ([\d.]+)", out)
    fifo = _num(r"FIFO/optimum = ([\d.]+)", out)
    ok = "PASS" in out.splitlines()[-1]
    return [Row("Fairness: worst wait of 20 users behind a 50-job burst / optimum",
                f"{measured:.2f} (max {worst:.2f} s; FIFO would be {fifo:.2f})",
                "<= optimum + 1 batch", _verdict(ok), "fairness")]  # fmt: skip


def discord_load(out: str) -> list[Row]:
    ratio = _num(r"ratio to ideal\s+([\d.]+)x", out)
    lag = _num(r"event-loop max lag\s+([\d.]+) ms", out)
    rss = _num(r"peak RSS \(bot process\)\s+(\d+) MB", out)
    users = _num(r"interactions\s+(\d+) from", out)
    lost = _num(r"lost \(no final message\)\s+(\d+)", out)
    return [
        Row(f"Throughput vs ideal, Discord ({users:.0f} users, 32 slots, 1 s)",
            f"{ratio:.3f}x (lost {lost:.0f})", "<= 1.15x", _verdict(ratio <= 1.15 and lost == 0),
            "discord_load"),
        Row("Event-loop max lag, Discord load", f"{lag:.1f} ms", "<= 50 ms", _verdict(lag <= 50),
            "discord_load"),
        Row("Peak RSS of the bot / in-flight jobs, Discord (whole process)", f"{rss * 1024 / users:.0f} KB "
            f"({rss:.0f} MB / {users:.0f})", "", "-", "discord_load"),
    ]  # fmt: skip


def slack_load(out: str) -> list[Row]:
    total, ideal = _num(r"total vs ideal\s+([\d.]+) s", out), _num(r"/ ([\d.]+) s =", out)
    ack = _num(r"acks < 3 s\s+max (\d+) ms", out)
    rss = _num(r"peak RSS \(bot\)\s+(\d+) MB", out)
    users = _num(r"Slack /imagine load: (\d+) users", out)
    lost = _num(r"^lost\s+(\d+)", out)
    ratio = total / ideal
    return [
        Row(f"Throughput vs ideal, Slack ({users:.0f} users, 32 slots, 1 s)",
            f"{ratio:.3f}x (lost {lost:.0f}, max ack {ack:.0f} ms)", "<= 1.15x",
            _verdict(ratio <= 1.15 and lost == 0 and ack < 3000), "slack_load"),
        Row("Peak RSS of the bot / in-flight jobs, Slack (whole process)", f"{rss * 1024 / users:.0f} KB "
            f"({rss:.0f} MB / {users:.0f})", "", "-", "slack_load"),
    ]  # fmt: skip


def load_burst(out: str) -> list[Row]:
    line = next(x for x in out.splitlines() if x.startswith("JSON "))
    r: dict[str, Any] = json.loads(line[5:])
    acks_ok = r["slack_acks_over_deadline"] == 0 and r["slack_unacked"] == 0
    defers_ok = r["discord_defers_over_deadline"] == 0 and r["discord_undeferred"] == 0
    n = r["n"]
    return [
        Row(f"Burst of {n} (both adapters, one process): lost", str(r["lost"]), "0",
            _verdict(r["lost"] == 0), "load_burst"),
        Row("Burst: max Slack ack", f"{r['slack_ack_max_s'] * 1000:.0f} ms "
            f"(p50 {r['slack_ack_p50_s'] * 1000:.0f})", "< 3,000 ms", _verdict(acks_ok),
            "load_burst"),
        Row("Burst: max Discord defer", f"{r['discord_defer_max_s'] * 1000:.0f} ms "
            f"(p50 {r['discord_defer_p50_s'] * 1000:.0f})", "< 3,000 ms", _verdict(defers_ok),
            "load_burst"),
        Row("Burst: bot event-loop max lag", f"{r['loop_lag_max_s'] * 1000:.0f} ms", "", "-",
            "load_burst"),
        Row("Burst: bot peak RSS / RSS growth per queued interaction",
            f"{r['peak_rss_mb']:.0f} MB / {r['rss_per_interaction_kb']:.0f} KB", "", "-",
            "load_burst"),
        Row("Burst: upstream calls per job, ledger", f"{r['upstream_calls']}/{r['jobs']}, "
            + ("consistent" if not r["ledger_problems"] else "PROBLEMS"), "1, consistent",
            _verdict(r["upstream_calls"] == r["jobs"] == n and not r["ledger_problems"]),
            "load_burst"),
    ]  # fmt: skip


def cli_startup(out: str) -> list[Row]:
    ratio = _num(r"^ratio pixelsmith/bare\s*:\s*([\d.]+)", out)
    cpu = _num(r"^cpu ratio pixelsmith/bare\s*:\s*([\d.]+)", out)
    wall = _num(r"pixelsmith\s*: median\s*([\d.]+) s wall", out)
    bare = _num(r"bare\s*: median\s*([\d.]+) s wall", out)
    return [Row("`pixelsmith imagine` vs the SDK sample, whole process (time ratio)",
                f"{ratio:.2f} ({wall:.2f} s vs {bare:.2f} s; CPU {cpu:.2f})", "<= 1.5",
                _verdict(ratio <= 1.5), "cli_startup")]  # fmt: skip


def budget(out: str) -> list[Row]:
    if "unreachable" in out:
        return [Row("Shared upstream budget (PostgreSQL)", "skipped: no server", "", "-", "budget")]
    ratio = _num(r"ratio ([\d.]+)", out)
    peak = _num(r"peak upstream concurrency (\d+) \(limit (\d+)", out)
    limit = _num(r"peak upstream concurrency \d+ \(limit (\d+)", out)
    jobs = _num(r"budget: (\d+) jobs over (\d+)", out)
    procs = _num(r"budget: \d+ jobs over (\d+)", out)
    ok = "PASS" in out.splitlines()[-1]
    return [Row(f"Shared budget: {jobs:.0f} jobs over {procs:.0f} processes on PostgreSQL, "
                f"global limit {limit:.0f}, total / ideal",
                f"{ratio:.2f} (peak {peak:.0f})", f"<= 1.10, peak <= {limit:.0f}",
                _verdict(ok), "budget")]  # fmt: skip


def scale(out: str) -> list[Row]:
    if out.startswith("scale: skipped"):
        return [Row("Scale-out, 3 processes on PostgreSQL", "skipped (no server reachable)", "",
                    "-", "scale")]  # fmt: skip
    line = next(x for x in out.splitlines() if x.startswith("JSON "))
    r: dict[str, Any] = json.loads(line[5:])
    ratio = r["total_s"] / r["ideal_s"]
    rows = [
        Row(f"Scale-out: {r['n']} interactions over 3 processes (2 Discord shards + 1 Slack), "
            f"one PostgreSQL, global limit {r['limit']}: total / ideal",
            f"{ratio:.3f} ({r['total_s']:.1f} s / {r['ideal_s']:.0f} s; lost {r['lost']})",
            "<= 1.10, lost 0", _verdict(ratio <= 1.10 and r["lost"] == 0), "scale"),
        Row("Scale-out: peak upstream concurrency", str(r["peak"]), f"<= {r['limit']}",
            _verdict(r["peak"] <= r["limit"]), "scale"),
        Row("Scale-out: slowest Discord defer / Slack ack",
            f"{r['defer_max_s'] * 1000:.0f} ms / {r['ack_max_s'] * 1000:.0f} ms", "< 1,000 ms",
            _verdict(r["defer_max_s"] < 1 and r["ack_max_s"] < 1 and not r["undeferred"]
                     and not r["unacked"]), "scale"),
    ]  # fmt: skip
    lags = r["lag_max_s"]
    rows.append(Row("Scale-out: event-loop max lag per process",
                    ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in lags.items()), "<= 50 ms",
                    _verdict(all(v <= 0.05 for v in lags.values())), "scale"))  # fmt: skip
    return rows


PARSERS: dict[str, Callable[[str], list[Row]]] = {
    "overhead": overhead, "preprocess": preprocess, "ledger": ledger, "fairness": fairness,
    "discord_load": discord_load, "slack_load": slack_load, "load_burst": load_burst,
    "cli_startup": cli_startup,
    "budget": budget, "scale": scale,
}  # fmt: skip


# ----------------------------------------------------------------------------------- machine


def machine() -> dict[str, str]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines()
                      if x.startswith("MemTotal"))  # fmt: skip
        ram = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        ram = "unknown"
    return {
        "cpu": cpu, "cores": str(os.cpu_count()), "ram": ram,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
    }  # fmt: skip


def run(bench: Bench, quick: bool) -> tuple[str, float, int | None]:
    cmd = [sys.executable, *bench.args, *(bench.quick if quick else [])]
    started = time.monotonic()
    try:
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S,
                              stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout if isinstance(exc.stdout, str) else ""
        return out + f"\n(timed out after {TIMEOUT_S} s)", time.monotonic() - started, None
    return done.stdout + done.stderr[-2000:], time.monotonic() - started, done.returncode


def table(rows: list[Row]) -> str:
    head = ["figure", "value", "goal", "result", "bench"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += [
        f"| {r.figure} | {r.value} | {r.goal or '-'} | {r.result} | {r.source} |" for r in rows
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    parser.add_argument("--write-doc", action="store_true", help=f"update {DOC.name}")
    parser.add_argument("--only", nargs="*", choices=[b.name for b in BENCHES])
    parser.add_argument("--keep-output", type=Path, help="save each bench's output in this dir")
    args = parser.parse_args(argv)

    info = machine()
    load_before = os.getloadavg()
    rows: list[Row] = []
    notes: list[str] = []
    timings: list[str] = []
    for bench in BENCHES:
        if (args.only or bench.opt_in) and bench.name not in (args.only or []):
            continue
        print(f"running {bench.name} ...", file=sys.stderr, flush=True)
        out, seconds, code = run(bench, args.quick)
        timings.append(f"{bench.name} {seconds:.0f} s")
        if args.keep_output:
            args.keep_output.mkdir(parents=True, exist_ok=True)
            (args.keep_output / f"{bench.name}.txt").write_text(out, encoding="utf-8")
        try:
            rows += PARSERS[bench.name](out)
        except (ValueError, StopIteration, KeyError, json.JSONDecodeError) as exc:
            rows.append(Row(bench.name, "n/a", "", "ERROR", bench.name))
            tail = " / ".join(out.strip().splitlines()[-3:])[:300]
            notes.append(f"{bench.name}: could not read its result ({exc}); exit {code}: {tail}")
            continue
        if code not in (0, 1) and not (code == 2 and "skipped" in out):
            # 1 is a bench's own "a goal was missed", 2 with "skipped" a missing service
            notes.append(f"{bench.name}: exit code {code}")
    load_after = os.getloadavg()

    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f"Measured {when}{' (--quick)' if args.quick else ''} on {info['cpu']}, "
        f"{info['cores']} cores, {info['ram']} RAM, {info['python']}, {info['os']}; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after. "
        f"Bench times: {', '.join(timings)}."
    )
    body = "\n".join([header, "", table(rows), *(["", *notes] if notes else [])])
    print(body)
    if args.write_doc:
        text = DOC.read_text(encoding="utf-8")
        if BEGIN not in text or END not in text:
            raise SystemExit(f"{DOC} has no {BEGIN} ... {END} markers")
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        DOC.write_text(text[:start] + "\n" + body + "\n" + text[end:], encoding="utf-8")
        print(f"\nwrote {DOC.relative_to(ROOT)}", file=sys.stderr)
    return 0 if all(r.result != "ERROR" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
