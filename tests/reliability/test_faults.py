"""The fault matrix, through ONE real ``pixelsmith run`` (Discord + Slack HTTP mode) for the module.

Each case scripts one fault into the fake gateway (or the network, or the database), sends a
/imagine through a platform, and then checks the invariants (harness.check_invariants): every job
terminal, counters equal the ledger, at most one upstream call per job, a reply to every user;
and that the next request succeeds. Observed outcomes go to $PIXELSMITH_FAULT_MATRIX if set
(docs/RELIABILITY.md's table is made from it).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from tests.fakes import discord_payloads as DP
from tests.fakes import slack_requests as SR
from tests.fakes.gateway import ERRORS, Behavior, ChatVariant, Fault
from tests.reliability.harness import (
    API_KEY,
    SLACK_SECRET,
    SLACK_TOKEN,
    WAIT,
    Ask,
    BotProcess,
    World,
    answer,
    check_invariants,
    config_for,
    discord_imagine,
    new_user,
    prompt,
    record,
    slack_imagine,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHARGED = ("FAILED_CHARGED", "UNKNOWN_CHARGED")
SLACK_ERRORS = (
    "moderation_blocked",
    "insufficient_user_quota",
    "rate_limit_exceeded",
    "bad_gateway_html",
    "service_unavailable",
)
SECRETS = (API_KEY, SLACK_TOKEN, SLACK_SECRET)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def bot(world: World, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    """One bot for every case: a 2 s upstream timeout and a 1 s stall limit."""
    tmp = tmp_path_factory.mktemp("faults")
    config = config_for(
        world, tmp, provider={"timeout_s": 2, "stall_s": 1}, shutdown={"grace_s": 2}
    )
    process = BotProcess(world, tmp, config, name="faults")
    await process.start()
    try:
        yield process
        process.send_signal(signal.SIGTERM)
        assert await process.wait() == 0, process.log_tail()
    finally:
        await process.kill()


async def ask(
    world: World,
    bot: BotProcess,
    session: aiohttp.ClientSession,
    platform: str,
    text: str,
    model: str | None = None,
) -> Ask:
    if platform == "discord":
        return await discord_imagine(world, text, **({"model": model} if model else {}))
    sent = await slack_imagine(world, bot, session, text, flags=f"--model {model}" if model else "")
    assert sent.ack_status == 200
    return sent


async def fault_case(
    world: World,
    bot: BotProcess,
    session: aiohttp.ClientSession,
    row: str,
    platform: str,
    *,
    model: str | None = None,
    states: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """One failing request (the fault is already set up), its invariants, then a success."""
    failing = await ask(world, bot, session, platform, prompt(), model)
    got = await answer(world, failing)
    assert not got.ok, f"{row}: images delivered despite the fault"
    assert got.text, f"{row}: an empty reply"
    assert not any(s in got.text for s in SECRETS)
    [job] = (await check_invariants(world, bot, [failing])).jobs
    record(row, platform, job, got.text)
    assert job["state"] in (states or (*CHARGED, "RELEASED")), job
    assert world.gateway.pending == 0, "a scripted behaviour was left unused"
    # The bot still serves the next request.
    following = await ask(world, bot, session, platform, prompt())
    assert (await answer(world, following)).ok, f"{row}: the next request failed"
    await check_invariants(world, bot, [following])
    return job


@pytest.mark.parametrize("name", sorted(ERRORS))
async def test_every_gateway_error_through_discord(
    world: World, bot: BotProcess, session: aiohttp.ClientSession, name: str
) -> None:
    world.gateway.script(Behavior(error=ERRORS[name]))
    job = await fault_case(world, bot, session, f"error {name}", "discord", states=CHARGED)
    # The gateway answered: the call reached it, so it is charged (never silently released).
    assert job["cost_micros"] >= 0


@pytest.mark.parametrize("name", SLACK_ERRORS)
async def test_gateway_errors_through_slack(
    world: World, bot: BotProcess, session: aiohttp.ClientSession, name: str
) -> None:
    world.gateway.script(Behavior(error=ERRORS[name]))
    await fault_case(world, bot, session, f"error {name}", "slack", states=CHARGED)


@pytest.mark.parametrize("platform", ["discord", "slack"])
async def test_timeout_before_sending_releases(
    world: World, bot: BotProcess, session: aiohttp.ClientSession, platform: str
) -> None:
    """The gateway's port is closed: the bot cannot connect, so nothing is charged."""
    await world.gateway.stop()
    try:
        failing = await ask(world, bot, session, platform, prompt())
        got = await answer(world, failing)
    finally:
        await world.gateway.start()  # same port
    assert not got.ok
    [job] = (await check_invariants(world, bot, [failing])).jobs
    record("gateway unreachable (connection refused)", platform, job, got.text)
    # Nothing reached the gateway: nothing is charged. (The job was already SUBMITTED, and
    # SUBMITTED never goes back to RELEASED, so it is settled at cost 0.)
    assert job["cost_micros"] == 0 and job["state"] in ("RELEASED", "FAILED_CHARGED"), job
    assert job["error"] == "upstream.network"
    following = await ask(world, bot, session, platform, prompt())
    assert (await answer(world, following)).ok
    await check_invariants(world, bot, [following])


TRANSPORT = [
    (
        "timeout after sending (gateway hangs)",
        Behavior(fault=Fault.HANG, hang_s=6),
        ("UNKNOWN_CHARGED",),
    ),
    ("connection dropped before any byte", Behavior(fault=Fault.DROP), ("UNKNOWN_CHARGED",)),
    ("connection reset mid-body", Behavior(fault=Fault.RESET_MID_BODY), CHARGED),
    ("garbage JSON body", Behavior(fault=Fault.GARBAGE), CHARGED),
    ("HTML page instead of JSON", Behavior(fault=Fault.GARBAGE_HTML), CHARGED),
    ("200 with no images", Behavior(fault=Fault.EMPTY_DATA), CHARGED),
]


SLACK_TRANSPORT = (Fault.HANG, Fault.GARBAGE)  # a representative subset also through Slack
TRANSPORT_CASES = [(*case, "discord") for case in TRANSPORT] + [
    (*case, "slack") for case in TRANSPORT if case[1].fault in SLACK_TRANSPORT
]


@pytest.mark.parametrize(
    ("row", "behavior", "states", "platform"),
    TRANSPORT_CASES,
    ids=[f"{c[0]}-{c[3]}" for c in TRANSPORT_CASES],
)
async def test_transport_faults(
    world: World,
    bot: BotProcess,
    session: aiohttp.ClientSession,
    platform: str,
    row: str,
    behavior: Behavior,
    states: tuple[str, ...],
) -> None:
    world.gateway.script(behavior)
    await fault_case(world, bot, session, row, platform, states=states)


@pytest.mark.parametrize("platform", ["discord", "slack"])
async def test_stalled_reverse_stream(
    world: World, bot: BotProcess, session: aiohttp.ClientSession, platform: str
) -> None:
    """gpt-4o-image goes silent mid-stream: provider.stall_s (1 s here) ends it, charged."""
    world.gateway.script(Behavior(chat=ChatVariant.STALL, hang_s=6))
    job = await fault_case(
        world, bot, session, "reverse stream stalls", platform, model="gpt-4o-image", states=CHARGED
    )
    assert job["error"] == "upstream.stalled"


LOCKER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
print("released", flush=True)
"""


async def test_database_locked_for_seconds(
    world: World, bot: BotProcess, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """Another process holds the SQLite write lock for 3 s while requests arrive: they wait
    (busy timeout) and succeed; nothing crashes."""
    locker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOCKER, str(bot.db_path), "3",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert locker.stdout is not None
        assert (await asyncio.wait_for(locker.stdout.readline(), WAIT)).strip() == b"locked"
        asks = [await discord_imagine(world, prompt()) for _ in range(3)]
        asks += [await ask(world, bot, session, "slack", prompt()) for _ in range(2)]
        answers = [await answer(world, a) for a in asks]
        assert (await asyncio.wait_for(locker.stdout.readline(), WAIT)).strip() == b"released"
        assert await asyncio.wait_for(locker.wait(), WAIT) == 0
    finally:
        if locker.returncode is None:
            locker.kill()
            await locker.wait()
    assert all(a.ok for a in answers), [a.text for a in answers if not a.ok]
    inv = await check_invariants(world, bot, asks)
    assert [j["state"] for j in inv.jobs] == ["SUCCEEDED"] * 5
    for a in asks:
        record(
            "database locked 3 s by another process",
            a.platform,
            next(j for j in inv.jobs if j["request"]["prompt"] == a.prompt),
            "images delivered",
        )
    assert bot.proc is not None and bot.proc.returncode is None
    assert await bot.health() == 200


async def test_duplicate_deliveries_make_one_job(
    world: World, bot: BotProcess, session: aiohttp.ClientSession
) -> None:
    """The same Discord interaction delivered twice and the same Slack request sent twice (a
    platform retry): one job, one upstream call, one answer each."""
    text = prompt()
    ctx = world.discord.context().with_user(new_user("discord"), "dup")
    payload = DP.slash_command(ctx, "imagine", options={"prompt": text})
    await world.discord.dispatch("INTERACTION_CREATE", payload)
    await world.discord.dispatch("INTERACTION_CREATE", payload)
    first = Ask("discord", ctx.user_id, text, token=payload["token"])
    slack_text, slack_user = prompt(), new_user("slack")
    request = SR.slash_command(
        slack_text, response_url=world.slack.response_url(), user_id=slack_user
    )
    replies = [
        await SR.send(session, bot.slack_url, request, SLACK_SECRET, retry_num=n) for n in (None, 1)
    ]
    assert [r.status for r in replies] == [200, 200]
    second = Ask("slack", slack_user, slack_text)
    assert all([(await answer(world, a)).ok for a in (first, second)])
    inv = await check_invariants(world, bot, [first, second])
    assert len(inv.jobs) == 2
    for a in (first, second):
        record(
            "same request delivered twice",
            a.platform,
            next(j for j in inv.jobs if j["request"]["prompt"] == a.prompt),
            "one job, one upstream call, one answer",
        )


async def test_bad_signature_is_refused_and_costs_nothing(
    world: World, bot: BotProcess, session: aiohttp.ClientSession
) -> None:
    text = prompt()
    request = SR.slash_command(
        text, response_url=world.slack.response_url(), user_id=new_user("slack")
    )
    bad = await SR.send(session, bot.slack_url, request, "not-the-signing-secret")
    stale = await SR.send(
        session, bot.slack_url, request, SLACK_SECRET, timestamp=SR.stale_timestamp()
    )
    assert (bad.status, stale.status) == (401, 401)
    # The next (good) request is answered; the refused ones left no job and no upstream call.
    following = await ask(world, bot, session, "slack", prompt())
    assert (await answer(world, following)).ok
    assert not [j for j in bot.jobs() if j["request"].get("prompt") == text]
    assert not [c for c in world.upstream_calls() if text in str(c.params)]
    record("Slack request with a bad or stale signature", "slack", None, "HTTP 401, no job")


async def test_zz_no_secret_in_the_bots_log(world: World, bot: BotProcess) -> None:
    """After every case above: the bot's log names none of its secrets."""
    log = bot.log_path.read_text(errors="replace")
    assert "job" in log  # the log is really there
    for secret in (*SECRETS, world.discord.token or "unset"):
        assert secret not in log
