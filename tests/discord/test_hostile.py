"""Hostile and incomplete interactions: forged, oversized or junk component ids, clicks from
another server, role names in the config, payloads without member/user/data/options, unknown
commands and component types. Each gets a polite answer (when one is possible), nothing runs and
nothing is charged, and the bot stays connected."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bots.discord.app import DiscordAdapter
from core import messages
from core.errors import ConfigError
from core.types import Identity
from tests.discord.conftest import WAIT, SettingsFactory, final, running_bot
from tests.fakes import discord_payloads as P
from tests.fakes.discord import FakeDiscord, MessageEvent
from tests.fakes.gateway import FakeGateway

MALLORY = "300000000000000003"
INVALID = messages.text("discord.button_invalid")
BAD_REQUEST = messages.text("discord.bad_request")


async def run(fake: FakeDiscord, payload: dict[str, Any]) -> MessageEvent:
    await fake.dispatch("INTERACTION_CREATE", payload)
    msg: MessageEvent = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    return msg


def buttons(msg: MessageEvent) -> dict[str, str]:
    return {b["label"]: b["custom_id"] for row in msg.components for b in row["components"]}


def other_guild(fake: FakeDiscord) -> P.InteractionContext:
    """Mallory, an Administrator of her own server B (a second guild in the fake)."""
    guild_b = fake.add_guild("Mallory's server")
    channel_b = fake.add_channel(guild_b, "general")
    return fake.context(
        guild_id=guild_b, channel_id=channel_b, permissions=P.ADMINISTRATOR
    ).with_user(MALLORY, "mallory")


def message_with(fake: FakeDiscord, ctx: P.InteractionContext, custom_id: str) -> dict[str, Any]:
    """A bot message in ``ctx``'s channel carrying one button with ``custom_id``."""
    button = {"type": 2, "style": 1, "label": "Re-roll", "custom_id": custom_id}
    return P.message_object(
        channel_id=ctx.channel_id,
        guild_id=ctx.guild_id,
        author=fake.bot_user,
        content="result",
        components=[{"type": 1, "components": [button]}],
    )


async def click(
    fake: FakeDiscord, ctx: P.InteractionContext, custom_id: str, **kw: Any
) -> MessageEvent:
    return await run(
        fake, P.component_click(ctx, custom_id, message_with(fake, ctx, custom_id), **kw)
    )


async def test_forged_reroll_from_another_server_runs_nothing(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    secret = "alice's private prompt: a red door"
    result = await run(fake, P.slash_command(fake.context(), "imagine", options={"prompt": secret}))
    reroll = buttons(result)["Re-roll"]
    calls = len(gateway.calls)

    mallory = other_guild(fake)
    answer = await click(fake, mallory, reroll)
    assert answer.ephemeral and answer.content == INVALID
    assert secret not in str([m.payload for m in fake.messages if m.seq > result.seq])
    assert len(gateway.calls) == calls
    in_b = Identity(platform="discord", user_id=MALLORY, community_id=mallory.guild_id)
    assert await bot.service.history(in_b) == []


async def test_reroll_from_another_channel_of_the_same_server_is_refused(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    result = await run(fake, P.slash_command(fake.context(), "imagine", options={"prompt": "a"}))
    other_channel = fake.add_channel(fake.guild_id, "private")
    bob = fake.context(channel_id=other_channel).with_user("200000000000000002")
    calls = len(gateway.calls)
    answer = await click(fake, bob, buttons(result)["Re-roll"])
    assert answer.ephemeral and answer.content == INVALID and len(gateway.calls) == calls


@pytest.mark.parametrize(
    "custom_id",
    [
        "px:reroll:" + "9" * 23,  # beyond any integer column
        "px:reroll:" + "1" * 32,
        "px:vary:" + "a" * 200,  # beyond Discord's 100 characters
        "px:reroll:",
        "px:reroll:-1",
        "px:edit:1/../2",
        "px:force:zz",
        "px:suggest:" + "0" * 40,
        "hello",
        "",
        "px:reroll:\uff11\uff12",  # full-width digits
    ],
)
async def test_malformed_component_ids_are_no_longer_valid(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway, custom_id: str
) -> None:
    answer = await click(fake, fake.context(), custom_id)
    assert answer.ephemeral and answer.content == INVALID
    assert gateway.calls == []


async def test_a_select_or_a_button_missing_from_the_message_is_no_longer_valid(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    result = await run(fake, P.slash_command(fake.context(), "imagine", options={"prompt": "a"}))
    reroll = buttons(result)["Re-roll"]
    as_select = P.component_click(
        fake.context(),
        reroll,
        message_with(fake, fake.context(), reroll),
        component_type=3,
        values=["x"],
    )
    assert (await run(fake, as_select)).content == INVALID
    elsewhere = P.component_click(
        fake.context(), reroll, message_with(fake, fake.context(), "px:vary:1")
    )
    assert (await run(fake, elsewhere)).content == INVALID
    assert len(gateway.calls) == 1


async def test_unknown_modal_submit_is_answered(fake: FakeDiscord, bot: DiscordAdapter) -> None:
    payload = P.modal_submit(fake.context(), "px:form:0123456789abcdef", {"prompt": "x"})
    answer = await run(fake, payload)
    assert answer.ephemeral and answer.content == messages.text("discord.form_invalid")


def _without(payload: dict[str, Any], *path: str) -> dict[str, Any]:
    target = payload
    for key in path[:-1]:
        target = target[key]
    target.pop(path[-1])
    return payload


@pytest.mark.parametrize(
    "case",
    [
        "no member",
        "no user in member",
        "no data",
        "component without data",
        "modal without data",
        "unknown command",
        "missing required option",
        "options not a list",
        "unknown type",
    ],
)
async def test_incomplete_payloads_are_answered_and_the_bot_stays_up(
    fake: FakeDiscord,
    bot: DiscordAdapter,
    gateway: FakeGateway,
    case: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ctx = fake.context()
    imagine = P.slash_command(ctx, "imagine", options={"prompt": "a fox"})
    payload = {
        "no member": lambda: _without(imagine, "member"),
        "no user in member": lambda: _without(imagine, "member", "user"),
        "no data": lambda: _without(imagine, "data"),
        "component without data": lambda: _without(
            P.component_click(ctx, "px:reroll:1", message_with(fake, ctx, "px:reroll:1")), "data"
        ),
        "modal without data": lambda: _without(
            P.modal_submit(ctx, "px:form:00", {"p": "x"}), "data"
        ),
        "unknown command": lambda: P.slash_command(ctx, "summon-dragon", options={"prompt": "a"}),
        "missing required option": lambda: P.slash_command(ctx, "imagine"),
        "options not a list": lambda: {**imagine, "data": {**imagine["data"], "options": "prompt"}},
        "unknown type": lambda: {**imagine, "type": 42},
    }[case]()
    caplog.set_level("WARNING", logger="pixelsmith.discord")
    answer = await run(fake, payload)
    assert answer.ephemeral and answer.content == BAD_REQUEST
    assert gateway.calls == []
    warnings = [r for r in caplog.records if r.name == "pixelsmith.discord"]
    assert len(warnings) == 1 and warnings[0].exc_info is None
    # Still connected: the next interaction is served.
    ok = await run(fake, P.slash_command(ctx, "imagine", options={"prompt": "after"}))
    assert ok.files


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"discord": {"admin_roles": ["Moderator"]}}, "discord.admin_roles"),
        ({"quota": {"roles": {"Patron": {"user_daily_images": 100}}}}, "quota.roles.Patron"),
    ],
)
async def test_role_names_in_the_config_are_refused_at_start(
    fake: FakeDiscord, discord_settings: SettingsFactory, section: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        async with running_bot(discord_settings(**section)):
            pass
    assert caught.value.params["key"] == key and caught.value.exit_code == 2


async def test_a_role_named_patron_in_another_server_gets_nothing(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    patron_a = "700000000000000007"
    quota = {"user_daily_images": 1, "roles": {patron_a: {"user_daily_images": 100}}}
    async with running_bot(discord_settings(quota=quota)):
        mallory = other_guild(fake)
        patron_b = "800000000000000008"
        role = {
            "id": patron_b,
            "name": "Patron",
            "permissions": "0",
            "position": 1,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        await fake.dispatch("GUILD_ROLE_CREATE", {"guild_id": mallory.guild_id, "role": role})
        as_patron = dataclasses.replace(mallory, roles=(patron_b,))
        first = await run(fake, P.slash_command(as_patron, "imagine", options={"prompt": "a"}))
        assert first.files
        second = await run(fake, P.slash_command(as_patron, "imagine", options={"prompt": "b"}))
        assert second.ephemeral and "daily image limit" in (second.content or "")
        alice = fake.context(roles=(patron_a,))
        for prompt in ("c", "d"):
            assert (
                await run(fake, P.slash_command(alice, "imagine", options={"prompt": prompt}))
            ).files
