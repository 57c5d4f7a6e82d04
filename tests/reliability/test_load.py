"""The burst of issue 8, shortened for CI: 100 interactions (50 Discord + 50 Slack) against one
real ``pixelsmith run``, with the fakes in a process of their own (bench/load_burst.py; the
1,000-interaction run is ``python -m bench.load_burst``).

Asserted: 0 lost, one upstream call per job, the ledger consistent, exit 0 after SIGTERM, and
every Slack ack / Discord defer made (the 3 s figures are printed, not asserted: a deadline
measured on a shared CI machine is a benchmark, not a test).
"""

from __future__ import annotations

import pytest

from bench.load_burst import report, run_burst

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_burst_of_100_across_both_adapters_loses_nothing() -> None:
    result = await run_burst(100, latency=0.05, concurrency=8, timeout=120)
    report(result)
    assert result["lost"] == 0
    assert result["failed"] == 0
    assert result["slack_unacked"] == 0 and result["discord_undeferred"] == 0
    assert result["upstream_calls"] == result["jobs"] == 100
    assert result["job_states"] == {"SUCCEEDED": 100}
    assert result["ledger_problems"] == []
    assert result["exit_code"] == 0
