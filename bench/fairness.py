"""Fairness: one user's burst must not starve everyone else.

One user submits 50 jobs, then 20 other users submit one each; the core runs 8 upstream calls at
a time against the fake gateway at 1 s latency. A FIFO queue would make each of the 20 wait
behind all 50 (about 50/8 ~ 6 batches). Even with the burst user given no slot at all, 20 users
need ceil(20/8) = 3 batches, so the best possible worst wait is about 3 s; the goal is that no
one waits more than one batch longer than that optimum, i.e. nobody waits behind the burst.
Prints every wait and the verdict.

    .venv/bin/python -m bench.fairness
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from core.service import ImageService
from core.types import Identity
from tests.conftest import make_settings
from tests.fakes.gateway import Behavior, FakeGateway

BURST, OTHERS, CONCURRENCY, LATENCY = 50, 20, 8, 1.0


async def main() -> int:
    async with FakeGateway(default=Behavior(latency_s=LATENCY)) as gw:
        with tempfile.TemporaryDirectory() as tmp:
            settings = make_settings(
                Path(tmp), gw.base_url, provider={"max_concurrency": CONCURRENCY}
            )
            service = await ImageService.create(settings)
            try:
                waits = await run(service)
            finally:
                await service.close()
    batch = LATENCY
    worst = max(waits)
    optimum = -(-OTHERS // CONCURRENCY) * batch
    print(
        f"fairness: burst of {BURST} from one user, then {OTHERS} users x 1; "
        f"concurrency {CONCURRENCY}, upstream latency {LATENCY:.1f}s"
    )
    print("waits of the 20 other users (s): " + " ".join(f"{w:.2f}" for w in waits))
    fifo = (BURST // CONCURRENCY) * LATENCY
    print(
        f"median {statistics.median(waits):.2f}s, max {worst:.2f}s; one batch = {batch:.1f}s; "
        f"a FIFO queue would make them wait >= {fifo:.1f}s"
    )
    ok = worst <= optimum + batch
    print(
        f"optimum worst wait ceil({OTHERS}/{CONCURRENCY}) batches = {optimum:.1f}s; "
        f"measured/optimum = {worst / optimum:.2f}; FIFO/optimum = {fifo / optimum:.2f}"
    )
    print(
        f"goal: nobody waits more than one batch beyond the optimum (<= {optimum + batch:.1f}s)"
        f": {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


async def run(service: ImageService) -> list[float]:
    """Time from submission to the start of the upstream call, for each of the 20 users."""
    started: dict[str, float] = {}

    async def one(user: str, n: int) -> None:
        request = service.build(f"picture {n} for {user}", Identity("bench", user))
        submitted = time.perf_counter()

        async def progress(p: object) -> None:
            if getattr(p, "stage", None) == "submitted" and user not in started:
                started[user] = time.perf_counter() - submitted

        await service.run(request, progress)

    burst = [asyncio.create_task(one("burst-user", i)) for i in range(BURST)]
    await asyncio.sleep(0.3)  # the burst is queued first
    others = [asyncio.create_task(one(f"user-{i}", i)) for i in range(OTHERS)]
    await asyncio.gather(*burst, *others)
    return [started[f"user-{i}"] for i in range(OTHERS)]


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
