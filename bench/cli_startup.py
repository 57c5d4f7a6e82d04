"""Whole-process `pixelsmith imagine` against the gateway's own sample script.

Run: .venv/bin/python bench/cli_startup.py [--runs 5]

Both are fresh interpreters started the same way, one image each from the same loopback fake
gateway (``python -m tests.fakes.gateway``, no added latency), so what differs is what each
process imports and does around the one call:

* bare: the gateway documentation's Python example — ``OpenAI(...).images.generate`` + base64
  decode + file write (a sync client, as in the documentation);
* pixelsmith: ``pixelsmith imagine`` with a config file (a SQLite database that already exists,
  no streamed partials): config, pre-flight check, quota claim and reservation, the call,
  settling, the file written, the cost printed.

The two are interleaved, alternating which goes first, after one warm-up run each (it creates
the database and fills the OS file cache). Prints the median wall time of each and their ratio
(goal: ratio <= 1.5), and the same for CPU time, which a busy machine disturbs less.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL = 1.5
KEY = "sk-bench-pixelsmith-0123456789"
PROMPT = "a lighthouse on a cliff at dusk, oil painting"
MODEL, SIZE, QUALITY = "gpt-image-1", "1024x1024", "low"

# The gateway documentation's example, pointed at the fake (key and URL from the environment).
SAMPLE = textwrap.dedent(
    """
    import base64, os, sys
    from openai import OpenAI

    client = OpenAI(api_key=os.environ["SAMPLE_KEY"], base_url=os.environ["SAMPLE_URL"])
    result = client.images.generate(
        model=sys.argv[1], prompt=sys.argv[2], n=1, size=sys.argv[3], quality=sys.argv[4],
        moderation="low", background="auto",
    )
    print(result.usage)
    output_dir, file_prefix = sys.argv[5], "image_gen"
    os.makedirs(output_dir, exist_ok=True)
    for i, image_data in enumerate(result.data):
        if image_data.b64_json:
            image_bytes = base64.b64decode(image_data.b64_json)
            current_index = i
            while True:
                file_path = os.path.join(output_dir, f"{file_prefix}_{current_index}.png")
                if not os.path.exists(file_path):
                    break
                current_index += 1
            with open(file_path, "wb") as f:
                f.write(image_bytes)
            print(f"Image saved to: {file_path}")
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until_up(url: str, proc: subprocess.Popen[bytes], deadline_s: float = 60) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit("the fake gateway exited before answering")
        try:
            urllib.request.urlopen(url + "/models", timeout=1).close()
            return
        except OSError as exc:  # 401 without a key still means it is up
            if getattr(exc, "code", None) is not None:
                return
            time.sleep(0.1)
    raise SystemExit("the fake gateway did not answer in time")


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        argv,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    pixelsmith = Path(sys.executable).with_name("pixelsmith")
    if not pixelsmith.exists():
        raise SystemExit(f"{pixelsmith} not found: pip install -e . first")

    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    gateway = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.gateway", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(base_url, gateway)
        with tempfile.TemporaryDirectory(prefix="pixelsmith-startup-") as tmp:
            folder = Path(tmp)
            (folder / "sample.py").write_text(SAMPLE, encoding="utf-8")
            (folder / "config.toml").write_text(
                textwrap.dedent(
                    f"""
                    [provider]
                    base_url = "{base_url}"
                    default_model = "{MODEL}"
                    stream_partials = 0
                    [database]
                    url = "sqlite:///{folder / "pixelsmith.db"}"
                    """
                ),
                encoding="utf-8",
            )
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("PIXELSMITH_", "PYTHON"))
            }
            env.update(
                PIXELSMITH_API_KEY=KEY,
                PIXELSMITH_CONFIG=str(folder / "config.toml"),
                SAMPLE_KEY=KEY,
                SAMPLE_URL=base_url,
                LANG="en",
            )
            runs = {
                "bare": [sys.executable, str(folder / "sample.py"), MODEL, PROMPT, SIZE, QUALITY,
                         str(folder / "bare")],
                "pixelsmith": [str(pixelsmith), "imagine", PROMPT, "--model", MODEL, "--size",
                               SIZE, "--quality", QUALITY, "--out", str(folder / "cli")],
            }  # fmt: skip
            for argv in runs.values():  # warm-up: the database, the OS file cache
                timed(argv, env, folder)
            times: dict[str, list[float]] = {name: [] for name in runs}
            cpu: dict[str, list[float]] = {name: [] for name in runs}
            for i in range(args.runs):
                order = list(runs) if i % 2 == 0 else list(reversed(runs))
                for name in order:
                    wall, used = timed(runs[name], env, folder)
                    times[name].append(wall)
                    cpu[name].append(used)
    finally:
        gateway.terminate()
        gateway.wait(timeout=10)

    bare, cli = statistics.median(times["bare"]), statistics.median(times["pixelsmith"])
    ratio = cli / bare
    cpu_ratio = statistics.median(cpu["pixelsmith"]) / statistics.median(cpu["bare"])
    print(f"cli start-up benchmark: whole processes, median of {args.runs}, interleaved")
    for name, values in times.items():
        shown = " ".join(f"{v:.2f}" for v in values)
        print(
            f"  {name:<10} : median {statistics.median(values):6.3f} s wall, "
            f"{statistics.median(cpu[name]):6.3f} s CPU   runs {shown}"
        )
    print(f"cpu ratio pixelsmith/bare : {cpu_ratio:.2f} (CPU time: steadier on a busy machine)")
    print(f"ratio pixelsmith/bare : {ratio:.2f} (goal <= {GOAL})")
    print("PASS" if ratio <= GOAL else "FAIL")


if __name__ == "__main__":
    main()
