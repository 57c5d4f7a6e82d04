"""What Pixelsmith's core costs on top of a bare SDK call (issue 2's benchmark).

Run: .venv/bin/python bench/overhead.py [--calls 50] [--latency 0.2]

In one process and one event loop: N sequential generations through ``ImageService`` (the real
images provider, a real SQLite store in a temporary folder: claim + reserve, mark submitted,
settle, quota left) against N bare ``AsyncOpenAI().images.generate`` + base64 decode + file
write, both against the loopback fake gateway answering ~3 MB noise PNGs after 200 ms. Both
paths write the PNG to disk and send the same request (plain call, no streaming). The two loops
are interleaved, alternating which goes first, after one warm-up call each. Goal: ratio <= 1.05.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openai import AsyncOpenAI

from core.config import Settings
from core.request import Options
from core.service import ImageService
from core.types import Identity
from tests.fakes.gateway import Behavior, FakeGateway

GOAL = 1.05
KEY = "sk-bench-pixelsmith-0123456789"
PROMPT = "a lighthouse on a cliff at dusk, oil painting"
MODEL, SIZE, QUALITY = "gpt-image-2", "1024x1024", "medium"
WHO = Identity(platform="cli", user_id="bench")


async def bare_once(client: AsyncOpenAI, out: Path) -> None:
    response = await client.images.generate(
        model=MODEL, prompt=PROMPT, n=1, size=SIZE, quality=QUALITY
    )
    assert response.data
    data = base64.b64decode(response.data[0].b64_json or "")
    out.write_bytes(data)


async def service_once(service: ImageService, out: Path) -> None:
    request = service.build(PROMPT, WHO, options=Options(size=SIZE, quality=QUALITY))
    result = await service.run(request)
    out.write_bytes(result.images[0].data)


async def main(calls: int, latency: float) -> int:
    with tempfile.TemporaryDirectory(prefix="pixelsmith-bench-") as tmp:
        folder = Path(tmp)
        async with FakeGateway(default=Behavior(big=True, latency_s=latency)) as gw:
            settings = Settings.model_validate(
                {
                    "provider": {
                        "base_url": gw.base_url,
                        "api_key": KEY,
                        "timeout_s": 60,
                        "stream_partials": 0,
                        "default_model": MODEL,
                    },
                    "database": {"url": f"sqlite:///{folder / 'bench.db'}"},
                }
            )
            service = await ImageService.create(settings)
            client = AsyncOpenAI(base_url=gw.base_url, api_key=KEY, max_retries=0, timeout=60)
            try:
                # warm-up: connections, caches, the fake's noise PNG, the database
                await bare_once(client, folder / "warm_bare.png")
                await service_once(service, folder / "warm_service.png")
                size_mb = (folder / "warm_bare.png").stat().st_size / 1e6

                bare: list[float] = []
                core: list[float] = []
                for i in range(calls):
                    order = ("bare", "core") if i % 2 == 0 else ("core", "bare")
                    for which in order:
                        started = time.perf_counter()
                        if which == "bare":
                            await bare_once(client, folder / f"bare_{i}.png")
                            bare.append(time.perf_counter() - started)
                        else:
                            await service_once(service, folder / f"core_{i}.png")
                            core.append(time.perf_counter() - started)
                problems = await service.store.check()
            finally:
                await client.close()
                await service.close()
        assert len(gw.calls) == 2 * calls + 2, "one upstream call per generation"

    total_bare, total_core = sum(bare), sum(core)
    ratio = total_core / total_bare
    print(
        f"overhead benchmark: {calls} sequential generations each, {size_mb:.1f} MB PNGs, "
        f"{latency * 1000:.0f} ms gateway latency, interleaved"
    )
    print(
        f"  bare SDK + decode + write : total {total_bare:7.3f} s   "
        f"mean {1000 * statistics.fmean(bare):7.1f} ms   "
        f"median {1000 * statistics.median(bare):7.1f} ms"
    )
    print(
        f"  ImageService + write      : total {total_core:7.3f} s   "
        f"mean {1000 * statistics.fmean(core):7.1f} ms   "
        f"median {1000 * statistics.median(core):7.1f} ms"
    )
    print(f"  overhead per call         : {1000 * (total_core - total_bare) / calls:+.1f} ms")
    print(f"  ledger check              : {problems or 'consistent'}")
    verdict = "PASS" if ratio <= GOAL and not problems else "FAIL"
    print(f"  ratio service/bare        : {ratio:.3f}  (goal <= {GOAL})  {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--latency", type=float, default=0.2)
    args = ap.parse_args()
    sys.exit(asyncio.run(main(args.calls, args.latency)))
