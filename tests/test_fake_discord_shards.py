"""FakeDiscord's sharding rules, each shown at the gateway the way a client meets it.

A raw websocket speaks the gateway protocol (HELLO, IDENTIFY with ``shard``, READY); the rules
and their sources are in ``tests/fakes/discord_rules.py`` ("SHARDING"). The bot itself, through
the real discord.py, is in ``tests/discord/test_shards.py``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes import discord_payloads as P
from tests.fakes import discord_rules
from tests.fakes.discord import FakeDiscord

TOKEN = "fake-bot-token"
WAIT = 10.0  # fail-only


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN, shard_count=2, max_concurrency=1) as f:
        yield f


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {TOKEN}"}) as s:
        yield s


async def receive(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    msg = await ws.receive(timeout=WAIT)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    data: dict[str, Any] = json.loads(msg.data)
    return data


async def identify(
    http: aiohttp.ClientSession, fake: FakeDiscord, shard: Any
) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(fake.gateway_url + "?v=10&encoding=json")
    hello = await receive(ws)
    assert hello["op"] == 10
    d: dict[str, Any] = {"token": TOKEN, "intents": 0, "properties": {}}
    if shard is not None:
        d["shard"] = shard
    await ws.send_json({"op": 2, "d": d})
    return ws


async def ready_and_guilds(ws: aiohttp.ClientWebSocketResponse) -> tuple[dict[str, Any], set[str]]:
    ready = await receive(ws)
    assert ready["t"] == "READY"
    created = set()
    for _ in ready["d"]["guilds"]:
        event = await receive(ws)
        assert event["t"] == "GUILD_CREATE"
        created.add(event["d"]["id"])
    return ready["d"], created


async def closed_with(ws: aiohttp.ClientWebSocketResponse) -> int | None:
    msg = await ws.receive(timeout=WAIT)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), msg
    return ws.close_code


async def test_gateway_bot_recommends_the_shards_and_the_identify_concurrency(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    fake.max_concurrency = 16
    async with http.get(f"{fake.api_base}/gateway/bot") as r:
        body = await r.json()
    assert body["shards"] == 2
    assert body["session_start_limit"]["max_concurrency"] == 16
    assert body["url"].startswith("ws://127.0.0.1:")


@pytest.mark.parametrize("shard", [[2, 2], [-1, 2], [0, 0], [0], ["0", 2], [True, 2], "0,2"])
async def test_an_identify_with_an_invalid_shard_is_closed_with_4010(
    fake: FakeDiscord, http: aiohttp.ClientSession, shard: Any
) -> None:
    ws = await identify(http, fake, shard)
    assert await closed_with(ws) == discord_rules.INVALID_SHARD
    refused = fake.gateway[0]
    assert (refused.kind, refused.code, refused.session_id) == ("refused", 4010, None)
    assert fake.gateway_clients == 0 and not [e for e in fake.gateway if e.kind == "identify"]


async def test_too_many_guilds_for_one_session_is_closed_with_4011(
    http: aiohttp.ClientSession,
) -> None:
    async with FakeDiscord(token=TOKEN, guilds_per_shard=2) as fake:
        fake.add_guild("second", shard=(0, 2))
        fake.add_guild("third", shard=(1, 2))
        ws = await identify(http, fake, None)  # unsharded: one session holds all three
        assert await closed_with(ws) == discord_rules.SHARDING_REQUIRED
        await ws.close()
        # Split in two, each shard holds at most two of them: accepted.
        for shard_id in (0, 1):
            ws = await identify(http, fake, [shard_id, 2])
            ready, _ = await ready_and_guilds(ws)
            assert ready["shard"] == [shard_id, 2]
            await ws.close()


async def test_each_shard_gets_a_ready_and_the_guild_creates_of_its_own_guilds(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    on_0 = fake.add_guild("zero", shard=(0, 2))
    on_1 = fake.add_guild("one", shard=(1, 2))
    ws0 = await identify(http, fake, [0, 2])
    ready0, created0 = await ready_and_guilds(ws0)
    ws1 = await identify(http, fake, [1, 2])
    ready1, created1 = await ready_and_guilds(ws1)
    assert ready0["shard"] == [0, 2] and ready1["shard"] == [1, 2]
    assert ready0["session_id"] != ready1["session_id"]
    assert on_0 in created0 and on_1 in created1
    assert created0.isdisjoint(created1) and created0 | created1 == set(fake.guilds)
    assert all((int(g) >> 22) % 2 == 0 for g in created0)
    assert all((int(g) >> 22) % 2 == 1 for g in created1)
    assert fake.shards_connected == [(0, 2), (1, 2)]

    # An interaction goes to its guild's shard only; one without a guild (a DM) to shard 0.
    in_1 = P.slash_command(fake.context(guild_id=on_1), "imagine")
    assert await fake.dispatch("INTERACTION_CREATE", in_1) == 1
    got = await receive(ws1)
    assert got["t"] == "INTERACTION_CREATE" and got["d"]["id"] == in_1["id"]
    dm = P.slash_command(fake.context(guild_id=None), "imagine")
    assert await fake.dispatch("INTERACTION_CREATE", dm) == 1
    got = await receive(ws0)
    assert got["d"]["id"] == dm["id"]
    in_0 = P.slash_command(fake.context(guild_id=on_0), "imagine")
    assert await fake.dispatch("INTERACTION_CREATE", in_0) == 1
    assert (await receive(ws0))["d"]["id"] == in_0["id"]
    await ws0.close()
    await ws1.close()


async def test_a_session_without_shard_is_shard_0_of_1_and_gets_everything(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    on_1 = fake.add_guild("one", shard=(1, 2))
    ws = await identify(http, fake, None)
    ready, created = await ready_and_guilds(ws)
    assert "shard" not in ready and created == set(fake.guilds)
    assert (
        await fake.dispatch(
            "INTERACTION_CREATE", P.slash_command(fake.context(guild_id=on_1), "imagine")
        )
        == 1
    )
    await ws.close()


def test_guilds_made_for_a_shard_follow_the_sharding_formula() -> None:
    for count in (1, 2, 3, 16):
        for shard_id in range(count):
            sf = discord_rules.snowflake_on_shard(int(P.new_snowflake()), shard_id, count)
            assert discord_rules.shard_of(sf, count) == shard_id
