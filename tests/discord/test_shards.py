"""Discord shards across processes: two bots (``shard_ids`` [0] and [1] of 2) on one database
split the guilds of one fake Discord; a shard setup Discord refuses is a config error.

Which bot handled an interaction is seen from discord.py's side (``on_interaction`` of each
client), what the user got from the fake's side. The fake routes by Discord's formula
(``tests/fakes/discord_rules.py``, "SHARDING")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import aiohttp
import pytest

from bots.discord.app import DiscordAdapter
from bots.discord.shards import IdentifyGate
from core import messages
from core.config import load_settings
from core.errors import ConfigError
from core.metrics import LoopLagMonitor, Metrics, MetricsServer
from tests.discord.conftest import WAIT, SettingsFactory, imagine, running_bot
from tests.fakes.discord import FakeDiscord
from tests.fakes.gateway import FakeGateway


def seen_by(adapter: DiscordAdapter) -> list[int]:
    """The ids of the interactions this bot's gateway connection delivered to discord.py."""
    seen: list[int] = []

    async def record(interaction: object) -> None:
        seen.append(int(getattr(interaction, "id", 0)))

    adapter.client.add_listener(record, "on_interaction")
    return seen


async def test_two_shards_in_two_bots_split_the_guilds(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    fake.shard_count = 2
    guild_0 = fake.add_guild("on shard 0", shard=(0, 2))
    guild_1 = fake.add_guild("on shard 1", shard=(1, 2))
    channel_0 = fake.add_channel(guild_0, "art")
    channel_1 = fake.add_channel(guild_1, "art")
    guilds = [guild_0, guild_1]
    common = {"guild_ids": [int(g) for g in guilds], "shard_count": 2}
    zero = discord_settings(discord={**common, "shard_ids": [0]})
    one = discord_settings(discord={**common, "shard_ids": [1]})  # the same SQLite file
    async with running_bot(zero) as first, running_bot(one) as second:
        assert fake.shards_connected == [(0, 2), (1, 2)]
        identifies = [e for e in fake.gateway if e.kind == "identify"]
        assert sorted(e.shard for e in identifies if e.shard) == [(0, 2), (1, 2)]
        assert guild_0 in {str(g.id) for g in first.client.guilds}
        assert guild_1 in {str(g.id) for g in second.client.guilds}
        assert not {str(g.id) for g in first.client.guilds} & {
            str(g.id) for g in second.client.guilds
        }
        seen_first, seen_second = seen_by(first), seen_by(second)

        ctx_0 = fake.context(guild_id=guild_0, channel_id=channel_0)
        ctx_1 = fake.context(guild_id=guild_1, channel_id=channel_1)
        done_0 = await imagine(fake, ctx_0, "a lighthouse")
        done_1 = await imagine(fake, ctx_1, "a harbour")
        assert done_0.files and done_1.files
        assert not done_0.ephemeral and not done_1.ephemeral
        ids = {c.interaction_token: c.interaction_id for c in fake.callbacks}
        assert done_0.interaction_token and done_1.interaction_token
        assert seen_first == [int(ids[done_0.interaction_token])]
        assert seen_second == [int(ids[done_1.interaction_token])]
        assert len(gateway.calls_to("/v1/images/generations")) == 2
        assert not [r for r in fake.rejections if r.code == 40060]  # nobody answered twice

        health = first.health()
        assert health.details == {"shard_count": 2, "shard_ids": [0]}
        [conn] = health.connections
        assert (conn.platform, conn.shard, conn.up) == ("discord", "0", True)
        assert conn.communities == len(fake.guilds_of_shard((0, 2)))
        assert second.health().details == {"shard_count": 2, "shard_ids": [1]}

        # What the process serves: /healthz lists its shards, /metrics labels them.
        server = MetricsServer(
            Metrics(),
            healthy=lambda: True,
            queue=lambda: (0, 0),
            lag=LoopLagMonitor(),
            platforms=lambda: {"discord": second.health()},
        )
        port = await server.start("127.0.0.1", 0)
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    body = await resp.json()
                async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                    metrics = await resp.text()
        finally:
            await server.stop()
        discord = body["platforms"]["discord"]
        assert (discord["shard_count"], discord["shard_ids"]) == (2, [1])
        assert [(c["shard"], c["up"]) for c in discord["connections"]] == [("1", True)]
        assert 'pixelsmith_connection_up{platform="discord",shard="1"} 1.0' in metrics
        assert 'pixelsmith_connection_communities{platform="discord",shard="1"}' in metrics
        assert 'shard="0"' not in metrics


async def test_one_process_with_auto_runs_every_shard_discord_recommends(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    fake.shard_count = 2
    fake.max_concurrency = 2  # both shards may identify at once (buckets 0 and 1)
    guild_1 = fake.add_guild("on shard 1", shard=(1, 2))
    channel_1 = fake.add_channel(guild_1, "art")
    settings = discord_settings(discord={"guild_ids": [int(fake.guild_id), int(guild_1)]})
    assert settings.discord.shard_count == "auto" and settings.discord.shard_ids is None
    async with running_bot(settings) as bot:
        assert fake.shards_connected == [(0, 2), (1, 2)]
        assert bot.health().details == {"shard_count": 2, "shard_ids": [0, 1]}
        assert {str(g.id) for g in bot.client.guilds} == set(fake.guilds)
        done = await imagine(fake, fake.context(guild_id=guild_1, channel_id=channel_1), "a fox")
        assert done.files


async def test_shard_ids_outside_the_count_are_refused_before_connecting(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[discord]\nshard_count = 2\nshard_ids = [1, 2]\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(str(config), env={})
    assert caught.value.params["key"] == "discord.shard_ids"
    assert "0..1" in caught.value.params["problem"]
    assert caught.value.exit_code == 2


async def test_a_shard_discord_calls_invalid_is_a_config_error_not_a_retry(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    settings = discord_settings(discord={"shard_count": 2, "shard_ids": [1]})
    # Past validation (as if another process's file had a different count): shard 3 of 2.
    settings.discord.shard_ids = [3]
    with pytest.raises(ConfigError) as caught:
        async with running_bot(settings):
            pass
    error = caught.value
    assert (error.key, error.params["key"]) == ("config.discord_invalid_shard", "discord.shard_ids")
    text = messages.render(ConfigError(error.key, **error.params, path_or_env="config.toml"))
    assert "4010" in text and "shard 3 of 2" in text
    assert [e.code for e in fake.gateway if e.kind == "refused"] == [4010]  # once, no loop
    assert fake.gateway_clients == 0


async def test_a_bot_that_must_shard_is_told_to_raise_shard_count(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    fake.guilds_per_shard = 1
    fake.add_guild("a second server", shard=(0, 1))
    settings = discord_settings(discord={"shard_count": 1})
    with pytest.raises(ConfigError) as caught:
        async with running_bot(settings):
            pass
    error = caught.value
    assert (error.key, error.params["key"]) == (
        "config.discord_sharding_required",
        "discord.shard_count",
    )
    for locale in ("en", "zh-CN"):
        text = messages.render(ConfigError(error.key, **error.params, path_or_env="x.toml"), locale)
        assert "4011" in text and "discord.shard_count" in text
    assert [e.code for e in fake.gateway if e.kind == "refused"] == [4011]


async def test_identify_gate_paces_each_bucket_by_max_concurrency() -> None:
    """Discord: bucket = shard_id % max_concurrency, one IDENTIFY per bucket per 5 s."""
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    gate = IdentifyGate(2, clock=lambda: now[0], sleep=sleep)
    for shard_id in (0, 1):  # buckets 0 and 1: both at once
        await gate.wait(shard_id)
    assert slept == []
    await gate.wait(2)  # bucket 0 again: 5 s after shard 0
    assert slept == [5.0]
    await gate.wait(3)  # bucket 1: its 5 s have passed meanwhile
    assert slept == [5.0]
    now[0] += 60
    await gate.wait(0)  # a re-identify much later waits for nobody
    assert slept == [5.0]


async def test_a_shard_refused_after_start_up_says_which_setting_to_change(
    fake: FakeDiscord,
    discord_settings: SettingsFactory,
    gateway: FakeGateway,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The bot grew past what its shards may hold while running: the next IDENTIFY gets 4011."""
    async with running_bot(discord_settings(discord={"shard_count": 1})) as bot:
        fake.guilds_per_shard = 0
        waited: list[float] = []

        async def no_sleep(seconds: float) -> None:
            waited.append(seconds)

        bot.client.identify_gate.sleep = no_sleep
        with caplog.at_level(logging.ERROR, logger="pixelsmith.discord"):
            await fake.invalidate_sessions()
            await fake.wait_for(lambda e: getattr(e, "kind", "") == "refused", timeout=WAIT)
            task = bot._task
            assert task is not None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(task), WAIT)
        [line] = [r.getMessage() for r in caplog.records if "discord stopped" in r.getMessage()]
        assert "4011" in line and "discord.shard_count" in line
        assert [e.code for e in fake.gateway if e.kind == "refused"] == [4011]  # once: no loop
        # A second IDENTIFY of bucket 0 within 5 s of the first is held back, never for longer.
        assert all(0 < w <= 5.0 for w in waited) and len(waited) <= 1
