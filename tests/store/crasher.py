"""Run one job up to a point of the state machine, say so, then wait to be killed (-9).

``python -m tests.store.crasher URL POINT``; prints ``AT POINT`` when there. The ``in_*`` points
stop inside the transaction, before its COMMIT.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from core.store import EffectiveLimits, Store
from core.store.engine import Tx
from core.types import Identity, JobState

POINTS = (
    "before_reserve",
    "in_reserve",
    "after_reserve",
    "after_submit",
    "in_settle",
    "after_settle",
)
LIMITS = EffectiveLimits(
    user_daily_images=10, community_monthly_micros=1_000_000, user_concurrent_jobs=2
)
WORST, COST = 40_000, 30_000


def here(point: str) -> None:
    sys.stdout.write(f"AT {point}\n")
    sys.stdout.flush()
    sys.stdin.read()  # until killed
    raise SystemExit("not killed")


def stop_inside(point: str, kind: str) -> None:
    original = Tx.many

    def many(self: Any, name: str, rows: list[dict[str, Any]]) -> None:
        original(self, name, rows)
        if name == "ledger" and rows and rows[0]["kind"] == kind:
            here(point)

    Tx.many = many  # type: ignore[method-assign]


async def main(url: str, point: str) -> None:
    store = await Store.open(url, migrate=False)
    if point == "in_reserve":
        stop_inside(point, "reserve")
    if point == "in_settle":
        stop_inside(point, "release")
    if point == "before_reserve":
        here(point)
    claim = await store.begin_job(
        idem_key=f"crash:{point}",
        identity=Identity("discord", f"crash-{point}", "G"),
        request={"prompt": point},
        model="m",
        images=2,
        worst_cost_micros=WORST,
        limits=LIMITS,
    )
    if point == "after_reserve":
        here(point)
    await store.mark_submitted(claim.job.id)
    if point == "after_submit":
        here(point)
    await store.settle(claim.job.id, state=JobState.SUCCEEDED, cost_micros=COST, images_delivered=2)
    here(point)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
