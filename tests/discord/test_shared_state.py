"""Buttons and modals answered by another bot on the same database: the real discord.py against
FakeDiscord, the real SDK against FakeGateway. A bot is stopped and a fresh one started on the
same database (another process, or a restart): the refusal buttons, an edit's Re-roll and every
modal still work there, with the same inputs. A token another member, another server, a forger
or the clock has made invalid is answered with the "no longer valid" sentence, nothing charged.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from bots.discord import views
from core import messages
from core.rooms import interactions
from core.types import Identity
from tests.discord.conftest import WAIT, SettingsFactory, final, imagine, running_bot
from tests.fakes import discord_payloads as P
from tests.fakes.discord import CallbackEvent, FakeDiscord, MessageEvent
from tests.fakes.gateway import FakeGateway
from tests.fakes.images import mask_png, solid_png

MIYAZAKI = "a quiet forest village in the style of Hayao Miyazaki"
INPUT = solid_png(64, 48)
BOB = "200000000000000002"
EDITS, GENERATIONS = "/v1/images/edits", "/v1/images/generations"
EXPIRED = messages.text("discord.expired_button")
FORM_INVALID = messages.text("discord.form_invalid")


async def run(fake: FakeDiscord, payload: dict[str, Any]) -> MessageEvent:
    await fake.dispatch("INTERACTION_CREATE", payload)
    msg: MessageEvent = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    return msg


def buttons(msg: MessageEvent) -> dict[str, str]:
    return {b["label"]: b["custom_id"] for row in msg.components for b in row["components"]}


def edit(ctx: P.InteractionContext, fake: FakeDiscord, prompt: str) -> dict[str, Any]:
    image = fake.make_attachment("cat.png", INPUT)
    return P.slash_command(ctx, "edit", options={"prompt": prompt}, attachments={"image": image})


def who(ctx: P.InteractionContext) -> Identity:
    return Identity(platform="discord", user_id=ctx.user_id, community_id=ctx.guild_id)


async def open_modal(
    fake: FakeDiscord, ctx: P.InteractionContext, message: dict[str, Any], custom_id: str
) -> CallbackEvent:
    payload = P.component_click(ctx, custom_id, message)
    await fake.dispatch("INTERACTION_CREATE", payload)
    modal: CallbackEvent = await fake.wait_for_callback(
        lambda c: c.type == 9 and c.interaction_token == payload["token"], timeout=WAIT
    )
    assert modal.data["custom_id"].startswith("px:form:")
    return modal


def submission(ctx: P.InteractionContext, modal: CallbackEvent, prompt: str) -> dict[str, Any]:
    [label] = modal.data["components"]
    field = label["component"]  # the text input inside its Label (Discord's modal layout)
    return P.modal_submit(ctx, modal.data["custom_id"], {field["custom_id"]: prompt})


async def test_refusal_buttons_of_an_edit_work_on_another_bot_with_the_same_image(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    settings, ctx = discord_settings(), fake.context()
    async with running_bot(settings):
        refused = await run(fake, edit(ctx, fake, MIYAZAKI))
        assert refused.ephemeral and set(buttons(refused)) == {
            "Use suggested prompt",
            "Send anyway",
        }
    assert gateway.calls == []
    async with running_bot(settings):  # another process on the database, or a restart
        forced = await run(
            fake, P.component_click(ctx, buttons(refused)["Send anyway"], refused.message)
        )
        # sent this time (the fake gateway's moderation refuses it as the real one does)
        assert forced.ephemeral and "safety system refused" in (forced.content or "")
        suggested = await run(
            fake, P.component_click(ctx, buttons(refused)["Use suggested prompt"], refused.message)
        )
        assert suggested.files, suggested.content
        direct = await run(fake, edit(ctx, fake, "a hat"))
        assert direct.files
    sent_forced, sent_suggested, sent_direct = gateway.calls_to(EDITS)
    assert sent_forced.form["prompt"] == MIYAZAKI
    assert "Miyazaki" not in sent_suggested.form["prompt"]
    assert "forest village" in sent_suggested.form["prompt"]
    same = [f.data for f in sent_direct.files]
    assert [f.data for f in sent_forced.files] == [f.data for f in sent_suggested.files] == same


async def test_modals_opened_on_one_bot_are_submitted_on_another(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    """The remix modal of a Re-roll and of a "Send anyway", and a result's Edit modal."""
    settings, ctx = discord_settings(), fake.context()
    async with running_bot(settings):
        await run(fake, P.slash_command(ctx, "settings", options={"remix": True}))
        first = await imagine(fake, ctx, "a lighthouse")
        stored = fake.stored_messages[first.message_id]
        ref = buttons(first)["Re-roll"].rsplit(":", 1)[1]
        remix = await open_modal(fake, ctx, stored, f"px:reroll:{ref}")
        edit_modal = await open_modal(fake, ctx, stored, f"px:edit:{ref}")
        refused = await run(fake, P.slash_command(ctx, "imagine", options={"prompt": MIYAZAKI}))
        forced = await open_modal(fake, ctx, refused.message, buttons(refused)["Send anyway"])
    assert len(gateway.calls) == 1
    async with running_bot(settings):
        done = await run(fake, submission(ctx, remix, "a lighthouse at night"))
        assert done.files and "a lighthouse at night" in (done.content or "")
        edited = await run(fake, submission(ctx, edit_modal, "make it blue"))
        assert edited.files and "make it blue" in (edited.content or "")
        sent = await run(fake, submission(ctx, forced, f"{MIYAZAKI} at dawn"))
        assert "safety system refused" in (sent.content or "")  # sent: the gateway refused it
    prompts = [c.json["prompt"] for c in gateway.calls_to(GENERATIONS)]
    assert prompts == ["a lighthouse", "a lighthouse at night", f"{MIYAZAKI} at dawn"]
    [edit_call] = gateway.calls_to(EDITS)  # the result's first image, downloaded on submit
    assert edit_call.form["prompt"] == "make it blue" and len(edit_call.files) == 1


async def test_a_refusal_token_of_someone_else_elsewhere_forged_or_expired_charges_nothing(
    fake: FakeDiscord,
    discord_settings: SettingsFactory,
    gateway: FakeGateway,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx = fake.context()
    other_guild = fake.add_guild("elsewhere")
    elsewhere = fake.context(guild_id=other_guild, channel_id=fake.add_channel(other_guild, "g"))
    bob = ctx.with_user(BOB, "bob")
    async with running_bot(discord_settings()) as bot:
        refused = await run(fake, P.slash_command(ctx, "imagine", options={"prompt": MIYAZAKI}))
        force = buttons(refused)["Send anyway"]
        for clicker in (bob, elsewhere):  # the genuine token, clicked by the wrong person
            answer = await run(fake, P.component_click(clicker, force, refused.message))
            assert answer.ephemeral and answer.content == EXPIRED
        forged = f"px:force:{secrets.token_hex(16)}"
        message = {**refused.message, "components": [{"type": 1, "components": [
            {"type": 2, "style": 4, "label": "Send anyway", "custom_id": forged},
        ]}]}  # fmt: skip
        answer = await run(fake, P.component_click(ctx, forged, message))
        assert answer.ephemeral and answer.content == EXPIRED

        monkeypatch.setattr(views, "PENDING_TTL_S", 0.0)  # the next refusal's hour is over
        stale = await run(fake, P.slash_command(ctx, "imagine", options={"prompt": MIYAZAKI}))
        answer = await run(
            fake, P.component_click(ctx, buttons(stale)["Send anyway"], stale.message)
        )
        assert answer.ephemeral and answer.content == EXPIRED
        assert await bot.service.sweep_interactions() == 1
        for person in (ctx, bob, elsewhere):
            assert await bot.service.history(who(person)) == []
    assert gateway.calls == []


async def test_a_modal_of_someone_else_or_forged_runs_nothing(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    ctx, bob = fake.context(), fake.context().with_user(BOB, "bob")
    async with running_bot(discord_settings()) as bot:
        await run(fake, P.slash_command(ctx, "settings", options={"remix": True}))
        first = await imagine(fake, ctx, "a lighthouse")
        stored = fake.stored_messages[first.message_id]
        remix = await open_modal(fake, ctx, stored, buttons(first)["Re-roll"])
        answer = await run(fake, submission(bob, remix, "mine now"))
        assert answer.ephemeral and answer.content == FORM_INVALID
        forged = P.modal_submit(ctx, f"px:form:{secrets.token_hex(16)}", {"prompt": "x"})
        answer = await run(fake, forged)
        assert answer.ephemeral and answer.content == FORM_INVALID
        assert await bot.service.history(who(bob)) == []
    assert len(gateway.calls) == 1


async def test_reroll_of_an_edit_whose_inputs_expired_says_so_and_charges_nothing(
    fake: FakeDiscord,
    discord_settings: SettingsFactory,
    gateway: FakeGateway,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(interactions, "INPUTS_TTL_S", 0.0)
    ctx = fake.context()
    async with running_bot(discord_settings()):
        attachments = {
            "image": fake.make_attachment("cat.png", INPUT),
            "mask": fake.make_attachment("mask.png", mask_png(64, 48)),
        }
        first = await run(
            fake, P.slash_command(ctx, "edit", options={"prompt": "a hat"}, attachments=attachments)
        )
        message = fake.stored_messages[first.message_id]
        again = await run(fake, P.component_click(ctx, buttons(first)["Re-roll"], message))
        assert again.ephemeral and "no longer kept" in (again.content or "")
    assert len(gateway.calls_to(EDITS)) == 1
