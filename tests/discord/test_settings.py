"""/settings on Discord and what it changes: the real discord.py against FakeDiscord (which
enforces Discord's modal rules: Label-wrapped text inputs, title <= 45, custom_id <= 100),
the real SDK against FakeGateway. What the gateway receives is what the member's settings
and the prompt's flags decided."""

from __future__ import annotations

from typing import Any

from bots.discord.app import DiscordAdapter
from core.types import Identity
from tests.discord.conftest import WAIT, SettingsFactory, final, imagine, running_bot
from tests.fakes import discord_payloads as P
from tests.fakes.discord import CallbackEvent, FakeDiscord, MessageEvent
from tests.fakes.gateway import FakeGateway

EDITS, GENERATIONS = "/v1/images/edits", "/v1/images/generations"


async def settings(fake: FakeDiscord, ctx: P.InteractionContext, **options: Any) -> MessageEvent:
    """/settings with ``options``; the ephemeral answer."""
    payload = P.slash_command(ctx, "settings", options=options)
    await fake.dispatch("INTERACTION_CREATE", payload)
    answer: MessageEvent = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    assert answer.ephemeral
    return answer


def ref_of(msg: MessageEvent) -> str:
    custom_id: str = msg.components[0]["components"][0]["custom_id"]
    return custom_id.rsplit(":", 1)[1]


def who(ctx: P.InteractionContext) -> Identity:
    return Identity(platform="discord", user_id=ctx.user_id, community_id=ctx.guild_id)


async def test_settings_apply_to_imagine_and_flags_still_win(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    ctx = fake.context()
    shown = await settings(fake, ctx)
    assert "Quality: default" in (shown.content or "")
    saved = await settings(fake, ctx, quality="low", n=2, aspect="2:3")
    assert "Settings saved." in (saved.content or "") and "Quality: low" in (saved.content or "")

    await imagine(fake, ctx, "a lighthouse")
    await imagine(fake, ctx, "a lighthouse --q high --n 1")
    first, second = (c.json for c in gateway.calls_to(GENERATIONS))
    assert (first["quality"], first["n"], first["size"]) == ("low", 2, "1024x1536")
    assert (second["quality"], second["n"], second["size"]) == ("high", 1, "1024x1536")
    # another member of the server is not affected
    await imagine(fake, ctx.with_user(200000000000000002, "bob"), "a lighthouse")
    assert "quality" not in gateway.last_call.json and gateway.last_call.json["n"] == 1


async def test_a_bad_value_is_refused_and_nothing_is_stored(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    ctx = fake.context()
    answer = await settings(fake, ctx, model="no-such-model")
    assert "Unknown model" in (answer.content or "")
    assert (await bot.service.preferences(who(ctx))).empty


async def test_private_results_are_ephemeral(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    ctx = fake.context()
    await settings(fake, ctx, private=True)
    payload = P.slash_command(ctx, "imagine", options={"prompt": "a secret garden"})
    await fake.dispatch("INTERACTION_CREATE", payload)
    msg = await fake.wait_for_message(
        lambda m: m.interaction_token == payload["token"] and bool(m.files), timeout=WAIT
    )
    assert msg.ephemeral and msg.kind == "original_edit"  # only the member sees the result
    deferred = [
        c for c in fake.callbacks if c.type == 5 and c.interaction_token == msg.interaction_token
    ]
    assert [c.ephemeral for c in deferred] == [True]  # fixed at defer time
    await settings(fake, ctx, private=False)
    public = await imagine(fake, ctx, "a public garden")
    assert not public.ephemeral and public.files


async def test_language_setting_overrides_the_discord_locale(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    ctx = fake.context()  # Discord says en-US
    saved = await settings(fake, ctx, language="zh-CN")
    assert "设置已保存" in (saved.content or "")
    msg = await imagine(fake, ctx, "a lighthouse")
    labels = [b["label"] for row in msg.components for b in row["components"]]
    assert "重新生成" in labels and "Re-roll" not in labels


async def test_a_removed_model_falls_back_with_a_note(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    ctx = fake.context()
    async with running_bot(discord_settings()):
        await settings(fake, ctx, model="gpt-image-2.5-sunburst", quality="high")
    # the operator disables the model; the member's setting stays stored
    changed = discord_settings(models={"gpt-image-2.5-sunburst": {"enabled": False}})
    async with running_bot(changed):
        for _ in range(2):  # every time the same fallback, never an error
            msg = await imagine(fake, ctx, "a lighthouse")
            assert msg.files and "gpt-image-2.5-sunburst is not available" in (msg.content or "")
    calls = gateway.calls_to(GENERATIONS)
    assert [(c.json["model"], c.json["quality"]) for c in calls] == [("gpt-image-2", "high")] * 2


async def remix_modal(
    fake: FakeDiscord, ctx: P.InteractionContext, msg: MessageEvent, custom_id: str
) -> CallbackEvent:
    payload = P.component_click(ctx, custom_id, fake.stored_messages[msg.message_id])
    await fake.dispatch("INTERACTION_CREATE", payload)
    modal: CallbackEvent = await fake.wait_for_callback(
        lambda c: c.type == 9 and c.interaction_token == payload["token"], timeout=WAIT
    )
    return modal


async def submit(
    fake: FakeDiscord, ctx: P.InteractionContext, modal: CallbackEvent, prompt: str
) -> MessageEvent:
    [label] = modal.data["components"]
    field = label["component"]  # the text input inside its Label (Discord's modal layout)
    assert field["type"] == 4
    payload = P.modal_submit(ctx, modal.data["custom_id"], {field["custom_id"]: prompt})
    await fake.dispatch("INTERACTION_CREATE", payload)
    done: MessageEvent = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    return done


async def test_remix_opens_the_prompt_before_reroll_and_vary(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    ctx = fake.context()
    first = await imagine(fake, ctx, "a teapot --size 1536x1024")
    await settings(fake, ctx, remix=True)
    ref = ref_of(first)

    modal = await remix_modal(fake, ctx, first, f"px:reroll:{ref}")
    assert modal.data["components"][0]["component"]["value"] == "a teapot"
    assert len(gateway.calls) == 1  # nothing started before the submit
    done = await submit(fake, ctx, modal, "a teapot, in blue")
    assert done.files and gateway.last_call.json["prompt"] == "a teapot, in blue"
    assert gateway.last_call.json["size"] == "1536x1024"  # the job's options stay

    modal = await remix_modal(fake, ctx, first, f"px:vary:{ref}")
    done = await submit(fake, ctx, modal, "a teapot with a crack")
    [edit] = gateway.calls_to(EDITS)
    assert edit.form["prompt"] == "a teapot with a crack" and len(edit.files) == 1

    modal = await remix_modal(fake, ctx, first, f"px:vary_strong:{ref}")
    done = await submit(fake, ctx, modal, "a kettle")
    prompt: Any = gateway.last_call.json["prompt"]
    assert done.files and prompt.startswith("a kettle\n\n(")

    # remix off again: the button starts the job at once
    await settings(fake, ctx, remix=False)
    payload = P.component_click(ctx, f"px:reroll:{ref}", fake.stored_messages[first.message_id])
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    assert gateway.last_call.json["prompt"] == "a teapot"


async def test_remix_click_from_another_server_is_refused_without_a_modal(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    first = await imagine(fake, fake.context(), "a lighthouse")
    guild = fake.add_guild("Mallory's server")
    channel = fake.add_channel(guild, "general")
    stranger = fake.context(guild_id=guild, channel_id=channel).with_user(300000000000000003, "m")
    await settings(fake, stranger, remix=True)
    payload = P.component_click(
        stranger, f"px:reroll:{ref_of(first)}", fake.stored_messages[first.message_id]
    )
    await fake.dispatch("INTERACTION_CREATE", payload)
    answer = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    assert answer.ephemeral and "no longer valid" in (answer.content or "")
    assert not [c for c in fake.callbacks if c.type == 9]
    assert len(gateway.calls) == 1


async def test_the_language_setting_also_answers_quota(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    ctx = fake.context()
    await settings(fake, ctx, language="zh-CN")
    payload = P.slash_command(ctx, "quota")
    await fake.dispatch("INTERACTION_CREATE", payload)
    answer = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    assert answer.ephemeral and any("\u4e00" <= ch <= "\u9fff" for ch in answer.content or "")
