"""Upscale, Vary (subtle) and Vary (strong) under a Discord result: the real discord.py against
FakeDiscord (which enforces 5 buttons a row, custom_id <= 100, labels <= 80), the real SDK
against FakeGateway. What the gateway receives is what core decided (core/finishing.py)."""

from __future__ import annotations

from typing import Any

from bots.discord.app import DiscordAdapter
from core.types import Identity
from tests.discord.conftest import WAIT, final, imagine
from tests.fakes import discord_payloads as P
from tests.fakes.discord import FakeDiscord, MessageEvent
from tests.fakes.gateway import FakeGateway

EDITS, GENERATIONS = "/v1/images/edits", "/v1/images/generations"


async def click(
    fake: FakeDiscord, ctx: P.InteractionContext, msg: MessageEvent, custom_id: str
) -> MessageEvent:
    payload = P.component_click(ctx, custom_id, fake.stored_messages[msg.message_id])
    await fake.dispatch("INTERACTION_CREATE", payload)
    answer: MessageEvent = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    return answer


def buttons(msg: MessageEvent) -> list[list[tuple[str, str]]]:
    """(label, custom_id) per action row."""
    return [[(b["label"], b["custom_id"]) for b in row["components"]] for row in msg.components]


def who(ctx: P.InteractionContext) -> Identity:
    return Identity(platform="discord", user_id=ctx.user_id, community_id=ctx.guild_id)


async def test_result_rows_carry_upscale_and_both_varies(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    first = await imagine(fake, fake.context(), "a lighthouse --size 1024x1536 --q high")
    rows = buttons(first)
    ref = rows[0][0][1].rsplit(":", 1)[1]
    assert rows == [
        [("Re-roll", f"px:reroll:{ref}"), ("Edit", f"px:edit:{ref}")],
        [
            ("Upscale", f"px:upscale:{ref}"),
            ("Vary (subtle)", f"px:vary:{ref}"),
            ("Vary (strong)", f"px:vary_strong:{ref}"),
        ],
    ]
    # a model with the standard sizes only has nothing larger: no Upscale
    small = await imagine(fake, fake.context(), "a boat --model gpt-image-2.6-sunburst")
    assert [label for label, _ in buttons(small)[1]] == ["Vary (subtle)", "Vary (strong)"]


async def test_upscale_shows_the_estimate_then_edits_at_the_next_size(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    owner = fake.context()
    first = await imagine(fake, owner, "a lighthouse --size 1024x1536 --q high")
    ref = buttons(first)[0][0][1].rsplit(":", 1)[1]
    bob = owner.with_user(200000000000000002, "bob")  # anyone who sees the result may click

    confirm = await click(fake, bob, first, f"px:upscale:{ref}")
    assert confirm.ephemeral and "2048x3072" in (confirm.content or "")
    assert "$" in (confirm.content or "") and gateway.calls_to(EDITS) == []  # nothing yet
    [[(label, go)]] = buttons(confirm)
    assert go == f"px:upscale_go:{ref}" and label.startswith("Upscale for about $")

    done = await click(fake, bob, confirm, go)
    assert done.files and not done.ephemeral
    [call] = gateway.calls_to(EDITS)
    assert (call.form["size"], call.form["n"], call.form["quality"]) == ("2048x3072", "1", "high")
    assert "input_fidelity" not in call.form  # gpt-image-2 takes none (catalog)
    [image] = call.files  # the result image, from the result store
    assert (image.field, image.width, image.height) == ("image", 1024, 1536)
    [job] = await bot.service.history(who(bob))  # charged to the clicker, reserved first
    assert job.request["size"] == "2048x3072" and job.request["edit"] is True
    assert job.worst_cost_micros > 0 and job.cost_micros > 0


async def test_vary_subtle_edits_the_result_and_strong_generates_anew(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    ctx = fake.context()
    first = await imagine(fake, ctx, "a teapot --size 1536x1024")
    ref = buttons(first)[0][0][1].rsplit(":", 1)[1]

    subtle = await click(fake, ctx, first, f"px:vary:{ref}")
    assert subtle.files
    [edit] = gateway.calls_to(EDITS)
    assert edit.form["prompt"] == "a teapot" and edit.form["size"] == "1536x1024"
    assert [(f.width, f.height) for f in edit.files] == [(1536, 1024)]

    strong = await click(fake, ctx, first, f"px:vary_strong:{ref}")
    assert strong.files
    generations = gateway.calls_to(GENERATIONS)
    assert len(generations) == 2 and len(gateway.calls_to(EDITS)) == 1
    prompt: Any = generations[1].json["prompt"]
    assert prompt.startswith("a teapot\n\n(") and generations[1].json["size"] == "1536x1024"


async def test_a_finishing_button_from_another_server_is_refused_and_free(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    first = await imagine(fake, fake.context(), "a lighthouse --size 1024x1024")
    ref = buttons(first)[0][0][1].rsplit(":", 1)[1]
    guild = fake.add_guild("Mallory's server")
    channel = fake.add_channel(guild, "general")
    stranger = fake.context(guild_id=guild, channel_id=channel).with_user(300000000000000003, "m")
    for action in ("upscale", "upscale_go", "vary", "vary_strong"):
        answer = await click(fake, stranger, first, f"px:{action}:{ref}")
        assert answer.ephemeral and "no longer valid" in (answer.content or "")
    assert len(gateway.calls) == 1  # the first image only
    assert await bot.service.history(who(stranger)) == []
