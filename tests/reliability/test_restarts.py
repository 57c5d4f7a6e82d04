"""Stopping ``pixelsmith run`` with jobs in flight: SIGTERM (graceful, issue 7) and SIGKILL.

* SIGTERM, grace longer than the jobs: ``/healthz`` turns 503 while it drains, the in-flight
  jobs finish and their users get their images, the process exits 0, the ledger is consistent.
* SIGTERM, grace shorter than the jobs: exit 0; the unfinished jobs are left for the reaper, and
  after a restart their users are told (``reaper.unknown``).
* SIGKILL with 20 jobs in flight (8 upstream, 12 queued): after a restart the reaper ends every
  one by the money rules and each user gets a notice; the bot serves the next request.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime

import aiohttp
import pytest

from core import messages
from tests.fakes.gateway import Behavior
from tests.reliability.conftest import BotFactory
from tests.reliability.harness import (
    WAIT,
    Ask,
    BotProcess,
    World,
    answer,
    check_invariants,
    discord_imagine,
    notice,
    prompt,
    record,
    slack_imagine,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def until(condition: object, timeout: float = WAIT) -> None:
    """Poll ``condition()`` (a check of recorded state, not a clock) until true."""

    async def poll() -> None:
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


async def send_mixed(
    world: World, bot: BotProcess, session: aiohttp.ClientSession, discord: int, slack: int
) -> list[Ask]:
    asks = [await discord_imagine(world, prompt()) for _ in range(discord)]
    for _ in range(slack):
        sent = await slack_imagine(world, bot, session, prompt())
        assert sent.ack_status == 200
        asks.append(sent)
    return asks


def told(world: World, ask: Ask) -> int:
    """How many notices ``ask``'s user got (Discord channel mentions / Slack ephemerals)."""
    if ask.platform == "discord":
        return sum(
            1
            for m in world.discord.messages
            if m.kind == "channel" and f"<@{ask.user}>" in (m.content or "")
        )
    return sum(1 for m in world.slack.messages if m.kind == "ephemeral" and m.user == ask.user)


async def upstream_reached(world: World, count: int) -> None:
    await until(lambda: len(world.upstream_calls()) >= count)


async def serves_next(world: World, bot: BotProcess, session: aiohttp.ClientSession) -> None:
    asks = await send_mixed(world, bot, session, 1, 1)
    assert all([(await answer(world, a)).ok for a in asks])
    await check_invariants(world, bot, asks)


async def test_sigterm_drains_in_flight_jobs_and_exits_0(
    world: World, bots: BotFactory, session: aiohttp.ClientSession
) -> None:
    world.gateway.default = Behavior(latency_s=2.0)
    bot = await bots("sigterm", shutdown={"grace_s": 10})
    before = len(world.upstream_calls())
    asks = await send_mixed(world, bot, session, discord=4, slack=2)
    await upstream_reached(world, before + len(asks))  # every job is SUBMITTED upstream

    bot.send_signal(signal.SIGTERM)
    statuses: list[int | None] = []
    assert bot.proc is not None
    while bot.proc.returncode is None:
        statuses.append(await bot.health())
        await asyncio.sleep(0.05)
    assert await bot.wait() == 0, bot.log_tail()
    assert 503 in statuses, statuses  # /healthz said "draining" while jobs finished

    answers = [await answer(world, a) for a in asks]
    assert all(a.ok for a in answers), [a.text for a in answers]
    inv = await check_invariants(world, bot, asks)
    assert [j["state"] for j in inv.jobs] == ["SUCCEEDED"] * len(asks)
    assert all(j["notified"] for j in inv.jobs)
    for a in asks:
        record(
            "SIGTERM, grace 10 s > 2 s jobs",
            a.platform,
            next(j for j in inv.jobs if j["request"]["prompt"] == a.prompt),
            "images delivered",
        )
    world.gateway.default = Behavior()


async def test_sigterm_with_short_grace_leaves_jobs_to_the_reaper(
    world: World, bots: BotFactory, session: aiohttp.ClientSession
) -> None:
    world.gateway.default = Behavior(latency_s=8.0)
    bot = await bots("short-grace", shutdown={"grace_s": 0.5})
    before = len(world.upstream_calls())
    asks = await send_mixed(world, bot, session, discord=3, slack=2)
    await upstream_reached(world, before + len(asks))

    bot.send_signal(signal.SIGTERM)
    assert await bot.wait() == 0, bot.log_tail()
    prompts = {a.prompt for a in asks}
    left = [j for j in bot.jobs() if j["request"].get("prompt") in prompts]
    assert [j["state"] for j in left] == ["SUBMITTED"] * len(asks)  # left for the reaper

    world.gateway.default = Behavior()
    await bot.start()  # the restart: reaper, then notices
    for a in asks:
        text = await notice(world, a)
        expected = messages.text("reaper.unknown", "en", prompt=a.prompt)
        assert expected in text, text
    inv = await check_invariants(world, bot, asks, answered=False)
    assert [j["state"] for j in inv.jobs] == ["UNKNOWN_CHARGED"] * len(asks)
    await until(
        lambda: all(j["notified"] for j in bot.jobs() if j["request"].get("prompt") in prompts)
    )
    assert all(told(world, a) == 1 for a in asks)
    for job in inv.jobs:
        record(
            "SIGTERM, grace 0.5 s < 8 s jobs, restart",
            "discord+slack",
            job,
            "reaper.unknown notice",
        )
    await serves_next(world, bot, session)
    bot.send_signal(signal.SIGTERM)
    assert await bot.wait() == 0


async def test_sigkill_with_20_jobs_in_flight_then_restart(
    world: World, bots: BotFactory, session: aiohttp.ClientSession
) -> None:
    world.gateway.default = Behavior(latency_s=60.0)
    # Short leases so the restarted process may reap at once (a live process renews nothing:
    # leases only matter to a reaper, which runs at start and every reaper_interval_s).
    bot = await bots(
        "sigkill",
        database={"lease_s": 2, "reaper_interval_s": 3600},
        provider={"max_concurrency": 8},
    )
    before = len(world.upstream_calls())
    asks = await send_mixed(world, bot, session, discord=14, slack=6)
    prompts = {a.prompt for a in asks}

    def mine() -> list[dict[str, object]]:
        return [j for j in bot.jobs() if j["request"].get("prompt") in prompts]

    await upstream_reached(world, before + 8)  # 8 upstream calls in flight ...
    await until(lambda: len(mine()) == 20)  # ... and 12 more jobs queued behind them
    bot.send_signal(signal.SIGKILL)
    assert await bot.wait() == -signal.SIGKILL
    states = sorted(str(j["state"]) for j in mine())
    assert states == ["RESERVED"] * 12 + ["SUBMITTED"] * 8, states

    # Restart once every lease has run out (what any restart later than lease_s sees).
    leases = [datetime.fromisoformat(str(j["lease_until"])).replace(tzinfo=UTC) for j in mine()]
    await until(lambda: datetime.now(UTC) > max(leases))
    world.gateway.default = Behavior()
    await bot.start()
    texts = {a.user: await notice(world, a) for a in asks}
    inv = await check_invariants(world, bot, asks, answered=False)
    by_prompt = {j["request"]["prompt"]: j for j in inv.jobs}
    for a in asks:
        job = by_prompt[a.prompt]
        key = "reaper.released" if job["state"] == "RELEASED" else "reaper.unknown"
        assert messages.text(key, "en", prompt=a.prompt) in texts[a.user]
    assert sorted(j["state"] for j in inv.jobs) == ["RELEASED"] * 12 + ["UNKNOWN_CHARGED"] * 8
    assert all(j["cost_micros"] == 0 for j in inv.jobs if j["state"] == "RELEASED")
    for state in ("RELEASED", "UNKNOWN_CHARGED"):
        job = next(j for j in inv.jobs if j["state"] == state)
        record("SIGKILL with 20 in flight, restart", "discord+slack", job, f"notice ({state})")
    assert all(told(world, a) == 1 for a in asks)  # each user told exactly once
    assert len(world.upstream_calls()) == before + 8  # nothing was re-sent
    await serves_next(world, bot, session)
    bot.send_signal(signal.SIGTERM)
    assert await bot.wait() == 0
