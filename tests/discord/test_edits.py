"""Edits: /edit with attachments, the "Edit image" menu and its modal, foreign hosts, and the
buttons under a result (Re-roll after a restart, Edit, Vary (subtle))."""

from __future__ import annotations

from typing import Any

from bots.discord.app import DiscordAdapter
from core.types import Identity
from tests.discord.conftest import WAIT, SettingsFactory, final, imagine, running_bot
from tests.fakes import discord_payloads as P
from tests.fakes.discord import FakeDiscord, MessageEvent
from tests.fakes.gateway import FakeGateway
from tests.fakes.images import mask_png, sketch_png, solid_png

INPUT = solid_png(64, 48)


def text_input(modal: dict[str, Any]) -> dict[str, Any]:
    """The modal's one text input: inside a Label (type 18), Discord's modal layout."""
    [label] = modal["components"]
    assert label["type"] == 18 and label["component"]["type"] == 4
    assert label["component"].get("label") is None  # the Label carries it
    field: dict[str, Any] = label["component"]
    return field


def who(ctx: P.InteractionContext) -> Identity:
    return Identity(platform="discord", user_id=ctx.user_id, community_id=ctx.guild_id)


async def click(
    fake: FakeDiscord, ctx: P.InteractionContext, msg: MessageEvent, custom_id: str
) -> dict[str, Any]:
    payload = P.component_click(ctx, custom_id, fake.stored_messages[msg.message_id])
    await fake.dispatch("INTERACTION_CREATE", payload)
    return payload


async def test_edit_command_downloads_attachments_and_sends_them_upstream(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    image = fake.make_attachment("cat.png", INPUT)
    payload = P.slash_command(
        fake.context(), "edit", options={"prompt": "give it a hat"}, attachments={"image": image}
    )
    await fake.dispatch("INTERACTION_CREATE", payload)
    msg = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    assert msg.files and not msg.ephemeral
    [call] = gateway.calls_to("/v1/images/edits")
    assert call.form["prompt"] == "give it a hat"
    assert [(f.format, f.width, f.height) for f in call.files] == [("PNG", 64, 48)]


async def test_edit_with_a_mask(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    attachments = {
        "image": fake.make_attachment("room.png", INPUT),
        "mask": fake.make_attachment("mask.png", mask_png(64, 48)),
    }
    payload = P.slash_command(
        fake.context(), "edit", options={"prompt": "add a window"}, attachments=attachments
    )
    await fake.dispatch("INTERACTION_CREATE", payload)
    msg = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    assert msg.files
    [call] = gateway.calls_to("/v1/images/edits")
    assert sorted(f.field for f in call.files) == ["image", "mask"]


async def test_context_menu_modal_result_in_chinese(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    ctx = fake.context(locale="zh-CN")
    target = P.user_message(ctx, "look", attachments=[fake.make_attachment("dog.png", INPUT)])
    await fake.dispatch("INTERACTION_CREATE", P.message_command(ctx, "Edit image", target))
    modal = await fake.wait_for_callback(lambda c: c.type == 9, timeout=WAIT)
    assert modal.data["title"] == "编辑图片"
    field = text_input(modal.data)
    submit = P.modal_submit(ctx, modal.data["custom_id"], {field["custom_id"]: "加一顶帽子"})
    await fake.dispatch("INTERACTION_CREATE", submit)
    msg = await fake.wait_for_message(final(fake, submit), timeout=WAIT)
    assert msg.files and "加一顶帽子" in (msg.content or "") and "由" in (msg.content or "")
    assert [c.type for c in fake.callbacks] == [9, 5]
    [call] = gateway.calls_to("/v1/images/edits")
    assert call.form["prompt"] == "加一顶帽子"


async def test_context_menu_on_a_message_without_images(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    ctx = fake.context()
    target = P.user_message(ctx, "just words")
    await fake.dispatch("INTERACTION_CREATE", P.message_command(ctx, "Edit image", target))
    msg = await fake.wait_for_message(lambda m: m.kind == "response", timeout=WAIT)
    assert msg.ephemeral and "no PNG, JPEG or WEBP image" in (msg.content or "")


async def test_attachment_from_a_foreign_host_is_refused_and_free(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    settings = discord_settings(discord={"attachment_hosts": ["cdn.discordapp.com"]})
    async with running_bot(settings) as bot:
        image = fake.make_attachment("cat.png", INPUT)  # served from 127.0.0.1
        ctx = fake.context()
        payload = P.slash_command(
            ctx, "edit", options={"prompt": "a hat"}, attachments={"image": image}
        )
        await fake.dispatch("INTERACTION_CREATE", payload)
        msg = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
        assert msg.ephemeral and "127.0.0.1" in (msg.content or "")
        assert "not an allowed file host" in (msg.content or "")
        # The public "thinking" message goes, after the ephemeral answer (a follow-up sent after
        # deleting it can fail with 10008).
        gone = await fake.wait_for_message(lambda m: m.kind == "original_delete", timeout=WAIT)
        assert gone.seq > msg.seq
        assert gateway.calls == [] and await bot.service.history(who(ctx)) == []
        assert not any(c.status for c in fake.rejections)


async def test_too_large_attachment_is_refused_before_download(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    async with running_bot(discord_settings(images={"max_input_bytes": 1000})):
        image = fake.make_attachment("big.png", solid_png(512, 512) + b"\0" * 2000)
        payload = P.slash_command(
            fake.context(), "edit", options={"prompt": "x"}, attachments={"image": image}
        )
        await fake.dispatch("INTERACTION_CREATE", payload)
        msg = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
        assert msg.ephemeral and "big.png" in (msg.content or "")
        assert gateway.calls == []


async def test_reroll_button_works_after_a_restart(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    settings = discord_settings()
    async with running_bot(settings):
        first = await imagine(fake, fake.context(), "a paper boat")
    row = first.components[0]
    reroll = row["components"][0]["custom_id"]
    assert reroll.startswith("px:reroll:")

    async with running_bot(settings) as bot:  # a new process on the same database
        bob = fake.context().with_user(200000000000000002, "bob")
        payload = await click(fake, bob, first, reroll)
        msg = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
        assert msg.files and "a paper boat" in (msg.content or "")
        assert f"<@{bob.user_id}>" in (msg.content or "")
        prompts = [c.json["prompt"] for c in gateway.calls_to("/v1/images/generations")]
        assert prompts == ["a paper boat", "a paper boat"]
        [job] = await bot.service.history(who(bob))  # charged to the clicker
        assert job.idem_key == f"discord:interaction:{payload['id']}"


async def test_edit_and_variations_buttons_use_the_result_image(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    ctx = fake.context()
    first = await imagine(fake, ctx, "a teapot")
    job_id = first.components[0]["components"][0]["custom_id"].rsplit(":", 1)[1]

    vary = await click(fake, ctx, first, f"px:vary:{job_id}")
    varied = await fake.wait_for_message(final(fake, vary), timeout=WAIT)
    assert varied.files

    await click(fake, ctx, first, f"px:edit:{job_id}")
    modal = await fake.wait_for_callback(lambda c: c.type == 9, timeout=WAIT)
    field = text_input(modal.data)
    submit = P.modal_submit(ctx, modal.data["custom_id"], {field["custom_id"]: "make it blue"})
    await fake.dispatch("INTERACTION_CREATE", submit)
    edited = await fake.wait_for_message(final(fake, submit), timeout=WAIT)
    assert edited.files and "make it blue" in (edited.content or "")

    calls = gateway.calls_to("/v1/images/edits")
    assert [c.form["prompt"] for c in calls] == ["a teapot", "make it blue"]
    assert all(len(c.files) == 1 and c.files[0].format == "PNG" for c in calls)


async def test_reroll_of_an_edit_after_restart_sends_the_same_inputs(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    """The edit's image and mask are kept in the database: a Re-roll on a fresh bot (a restart,
    or another process on the database) sends the gateway the same bytes again."""
    settings = discord_settings()
    ctx = fake.context()
    async with running_bot(settings):
        attachments = {
            "image": fake.make_attachment("cat.png", INPUT),
            "mask": fake.make_attachment("mask.png", mask_png(64, 48)),
        }
        payload = P.slash_command(ctx, "edit", options={"prompt": "a hat"}, attachments=attachments)
        await fake.dispatch("INTERACTION_CREATE", payload)
        first = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    async with running_bot(settings):
        reroll = first.components[0]["components"][0]["custom_id"]
        again = await click(fake, ctx, first, reroll)
        msg = await fake.wait_for_message(final(fake, again), timeout=WAIT)
        assert msg.files and not msg.ephemeral, msg.content
    before, after = gateway.calls_to("/v1/images/edits")
    assert [(f.field, f.data) for f in after.files] == [(f.field, f.data) for f in before.files]
    assert {f.field for f in after.files} == {"image", "mask"}
    assert after.form["prompt"] == before.form["prompt"] == "a hat"


async def _edit_then_reroll(
    fake: FakeDiscord, gateway: FakeGateway, attachments: dict[str, Any], model: str
) -> list[Any]:
    ctx = fake.context()
    payload = P.slash_command(
        ctx, "edit", options={"prompt": "a lamp there", "model": model}, attachments=attachments
    )
    await fake.dispatch("INTERACTION_CREATE", payload)
    first = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    assert first.files, first.content
    reroll = first.components[0]["components"][0]["custom_id"]
    assert reroll.startswith("px:reroll:")
    again = await click(fake, ctx, first, reroll)
    second = await fake.wait_for_message(final(fake, again), timeout=WAIT)
    assert second.files, second.content
    calls = gateway.calls_to("/v1/images/edits")
    assert len(calls) == 2
    return calls


async def test_reroll_of_a_sketch_edit_sends_the_same_sketch(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    """/edit with a sketch (the SDK's ``markup``, GPT Image 2.5), then Re-roll: the re-roll's
    request as the gateway receives it carries the same markup (it used to be dropped)."""
    attachments = {
        "image": fake.make_attachment("room.png", solid_png(640, 480)),
        "sketch": fake.make_attachment("sketch.png", sketch_png(640, 480)),
    }
    first, second = await _edit_then_reroll(fake, gateway, attachments, "gpt-image-2.5-flare")
    sent = [[f for f in c.files if f.field == "markup"] for c in (first, second)]
    assert [len(s) for s in sent] == [1, 1]
    assert sent[1][0].data == sent[0][0].data and sent[1][0].format == "PNG"
    assert first.form["prompt"] == second.form["prompt"] == "a lamp there"


async def test_reroll_of_a_masked_edit_sends_the_same_mask(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    attachments = {
        "image": fake.make_attachment("room.png", INPUT),
        "mask": fake.make_attachment("mask.png", mask_png(64, 48)),
    }
    first, second = await _edit_then_reroll(fake, gateway, attachments, "gpt-image-2")
    masks = [[f.data for f in c.files if f.field == "mask"] for c in (first, second)]
    assert len(masks[0]) == 1 and masks[1] == masks[0]
