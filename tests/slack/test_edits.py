"""Edits of shared images: mentions (app_mention + file_share), the shortcut, the modals, files."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.fakes.slack import FakeSlack
from tests.fakes.slack_requests import (
    BOT_USER_ID,
    CHANNEL_ID,
    USER_ID,
    app_mention_event,
    block_actions,
    event_callback,
    file_input_value,
    file_share_event,
    file_stub,
    message_action,
    message_with_files,
    new_ts,
    slash_command,
    text_input_value,
    view_submission,
)
from tests.slack.conftest import Harness, button, png


async def test_mention_and_file_share_of_one_message_make_one_edit(harness: Harness) -> None:
    fake = harness.fake
    photo = fake.add_file("cat.png", png(), "image/png")
    ts = new_ts()
    text = f"<@{BOT_USER_ID}> make it a watercolour"
    mention = event_callback(app_mention_event(text, files=[photo], ts=ts))
    share = event_callback(file_share_event(text, [photo], ts=ts))
    assert (await harness.send(mention)).status == 200
    assert (await harness.send(share)).status == 200
    await harness.wait(harness.controls)
    await harness.settle()

    (call,) = harness.gateway.calls_to("/v1/images/edits")
    assert call.params["prompt"] == "make it a watercolour"
    assert len(call.files) == 1
    assert len(harness.controls()) == 1 and harness.ephemerals() == []
    # Downloaded once, with the bot token, from the Slack file host.
    assert [(f.file_id, f.authorized) for f in fake.file_fetches] == [(photo["id"], True)]


async def test_retried_event_makes_one_job(harness: Harness) -> None:
    event = event_callback(app_mention_event(f"<@{BOT_USER_ID}> a lighthouse"))
    assert (await harness.send(event)).status == 200
    again = await harness.send(event, retry_num=1, retry_reason="http_timeout")
    assert again.status == 200
    await harness.wait(harness.controls)
    await harness.settle()
    assert len(harness.gateway.calls_to("/v1/images/generations")) == 1
    assert len(harness.controls()) == 1


async def test_retry_of_a_lost_first_delivery_is_handled(harness: Harness) -> None:
    # The first delivery never reached us: the retry is the only copy and must do the work.
    event = event_callback(app_mention_event(f"<@{BOT_USER_ID}> a windmill"))
    assert (await harness.send(event, retry_num=1)).status == 200
    await harness.wait(harness.controls)
    assert len(harness.gateway.calls_to("/v1/images/generations")) == 1


async def test_duplicate_across_processes_is_silent(closing: Any) -> None:
    # Two bot processes on one database both get the same message: one job, one answer.
    first: Harness = await closing()
    second: Harness = await closing()
    event = event_callback(app_mention_event(f"<@{BOT_USER_ID}> twin peaks"))
    await first.send(event)
    await first.wait(first.controls)
    await second.send(event)
    await second.settle()
    await first.settle()
    assert len(first.gateway.calls_to("/v1/images/generations")) == 1
    assert len(first.controls()) == 1 and first.ephemerals() == []


async def test_other_message_events_are_acknowledged_and_ignored(harness: Harness) -> None:
    plain = event_callback(
        {"type": "message", "user": USER_ID, "text": "hello", "channel": CHANNEL_ID, "ts": new_ts()}
    )
    photo = harness.fake.add_file("x.png", png(), "image/png")
    unmentioned = event_callback(file_share_event("look at this", [photo]))
    assert (await harness.send(plain)).status == 200
    assert (await harness.send(unmentioned)).status == 200
    await harness.settle()
    assert harness.gateway.calls == [] and harness.fake.messages == []


async def test_shortcut_opens_prompt_modal_then_edits(harness: Harness) -> None:
    fake = harness.fake
    photo = fake.add_file("bird.png", png(), "image/png")
    doc = fake.add_file("notes.txt", b"hello", "text/plain")
    message = message_with_files("look", [photo, doc])
    await harness.send(message_action("edit_image", message, response_url=fake.response_url()))
    opened = (await harness.wait(lambda: fake.views))[0]
    assert opened.kind == "open" and opened.view["callback_id"] == "edit_prompt"
    metadata = json.loads(opened.view["private_metadata"])
    assert metadata == {"c": CHANNEL_ID, "f": [photo["id"]]}

    values = {"prompt_block": {"prompt_input": text_input_value("add a tiny hat")}}
    submit = view_submission(
        "edit_prompt",
        values,
        private_metadata=opened.view["private_metadata"],
        view_id=opened.view_id,
    )
    reply = await harness.send(submit)
    assert reply.status == 200
    await harness.wait(harness.controls)
    (call,) = harness.gateway.calls_to("/v1/images/edits")
    assert call.params["prompt"] == "add a tiny hat"
    assert harness.controls()[0].channel == CHANNEL_ID
    assert fake.calls_of("files.info")  # the modal only carried file ids


async def test_shortcut_on_a_message_without_images(harness: Harness) -> None:
    fake = harness.fake
    doc = fake.add_file("notes.txt", b"hello", "text/plain")
    await harness.send(
        message_action(
            "edit_image", message_with_files("x", [doc]), response_url=fake.response_url()
        )
    )
    (hint,) = await harness.wait(harness.ephemerals)
    assert "no PNG, JPEG or WEBP image" in (hint.text or "")
    assert fake.views == []


async def test_imagine_edit_modal_with_file_input(harness: Harness) -> None:
    fake = harness.fake
    await harness.send(slash_command("", command="/imagine-edit", response_url=fake.response_url()))
    opened = (await harness.wait(lambda: fake.views))[0]
    inputs = [b for b in opened.view["blocks"] if b["element"]["type"] == "file_input"]
    # Slack's file_input takes 1-10 files; an edit takes 16 images: two inputs, 10 + 6
    assert [b["element"]["max_files"] for b in inputs] == [10, 6]
    assert all(1 <= b["element"]["max_files"] <= 10 for b in inputs)
    assert [b.get("optional") for b in inputs] == [False, True]
    assert inputs[0]["element"]["filetypes"] == ["png", "jpg", "jpeg", "webp"]

    photo = fake.add_file("dog.png", png(), "image/png")
    values = {
        "image_block": {"image_input": file_input_value([photo])},
        "prompt_block": {"prompt_input": text_input_value("make it snow --q low")},
    }
    submit = view_submission(
        "imagine_edit", values, private_metadata=opened.view["private_metadata"]
    )
    await harness.send(submit)
    await harness.send(submit)  # a double submit is one job
    await harness.wait(harness.controls)
    await harness.settle()
    (call,) = harness.gateway.calls_to("/v1/images/edits")
    assert call.params["prompt"] == "make it snow" and call.params["quality"] == "low"
    assert len(harness.controls()) == 1


async def test_imagine_edit_takes_sixteen_images_from_both_inputs(harness: Harness) -> None:
    fake = harness.fake
    await harness.send(slash_command("", command="/imagine-edit", response_url=fake.response_url()))
    opened = (await harness.wait(lambda: fake.views))[0]
    photos = [fake.add_file(f"p{i}.png", png(8 + i, 8), "image/png") for i in range(16)]
    values = {
        "image_block": {"image_input": file_input_value(photos[:10])},
        "more_images_block": {"image_input": file_input_value(photos[10:])},
        "prompt_block": {"prompt_input": text_input_value("a collage")},
    }
    await harness.send(
        view_submission("imagine_edit", values, private_metadata=opened.view["private_metadata"])
    )
    await harness.wait(harness.controls)
    (call,) = harness.gateway.calls_to("/v1/images/edits")
    assert len(call.files) == 16


async def test_edit_modal_opens_before_any_lookup(harness: Harness) -> None:
    """views.open is the first Web API call (no users.info first), also for a new user whose
    language then arrives: the modal is updated in place, in Chinese."""
    fake = harness.fake
    fake.add_user("U0ZHUSER1", "li", locale="zh-CN")
    await harness.send(
        slash_command(
            "", command="/imagine-edit", user_id="U0ZHUSER1", response_url=fake.response_url()
        )
    )
    updated = await harness.wait(lambda: [v for v in fake.views if v.kind == "update"])
    methods = [c.method for c in fake.calls]
    assert methods[:2] == ["auth.test", "views.open"]
    assert methods.index("users.info") > methods.index("views.open")
    (opened,) = [v for v in fake.views if v.kind == "open"]
    assert opened.view["title"]["text"] == "Edit an image"
    assert updated[0].view_id == opened.view_id and updated[0].view["title"]["text"] == "编辑图片"
    (update_call,) = fake.calls_of("views.update")
    assert update_call.params["hash"] == opened.view["hash"]  # never overwrites a newer view


async def test_edit_button_edits_the_result(harness: Harness) -> None:
    fake = harness.fake
    await harness.send(slash_command("a teapot", response_url=fake.response_url()))
    controls = (await harness.wait(harness.controls))[0]
    value = button(controls, "edit")["value"]
    await harness.send(
        block_actions(
            "edit",
            value,
            response_url=fake.response_url(),
            message={"type": "message", "ts": controls.ts, "text": "x"},
        )
    )
    opened = (await harness.wait(lambda: fake.views))[0]
    values = {"prompt_block": {"prompt_input": text_input_value("make it blue")}}
    await harness.send(
        view_submission(
            "edit_prompt",
            values,
            view_id=opened.view_id,
            private_metadata=opened.view["private_metadata"],
        )
    )
    await harness.wait(lambda: len(harness.controls()) == 2)
    (call,) = harness.gateway.calls_to("/v1/images/edits")
    assert call.params["prompt"] == "make it blue"
    assert {f.file_id for f in fake.file_fetches} == {fake.uploads[0].file_id}


async def test_event_with_file_stub_uses_files_info(harness: Harness) -> None:
    fake = harness.fake
    photo = fake.add_file("cat.png", png(), "image/png")
    event = app_mention_event(f"<@{BOT_USER_ID}> sepia", files=[file_stub(photo)])
    await harness.send(event_callback(event))
    await harness.wait(harness.controls)
    assert fake.calls_of("files.info")[0].params["file"] == photo["id"]


async def test_download_without_files_read_tells_the_admin(harness: Harness) -> None:
    # Another workspace's file host refuses our token: Slack's answer is its sign-in page,
    # exactly what a bot without files:read gets.
    async with FakeSlack(token="xoxb-someone-else") as other:
        photo = other.add_file("cat.png", png(), "image/png")
        event = app_mention_event(f"<@{BOT_USER_ID}> sepia", files=[photo])
        await harness.send(event_callback(event))
        (hint,) = await harness.wait(harness.ephemerals)
    assert "files:read" in (hint.text or "")
    assert harness.gateway.calls == []


async def test_foreign_file_host_is_refused_without_sending_the_token(harness: Harness) -> None:
    seen: list[dict[str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.Response(body=png(), content_type="image/png")

    app = web.Application()
    app.router.add_get("/{name}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        photo = harness.fake.add_file("cat.png", png(), "image/png")
        photo["url_private"] = photo["url_private_download"] = f"http://localhost:{port}/cat.png"
        await harness.send(event_callback(app_mention_event(f"<@{BOT_USER_ID}> x", files=[photo])))
        (hint,) = await harness.wait(harness.ephemerals)
    finally:
        await runner.cleanup()
    assert "not an allowed file host" in (hint.text or "")
    assert seen == []  # nothing fetched, so the token went nowhere
    assert harness.gateway.calls == []


async def test_reroll_of_an_edit_on_another_process_sends_the_same_image(closing: Any) -> None:
    """The edit's inputs are kept in the database: a Re-roll handled by a second bot process
    on the same database sends the gateway the same image bytes (never a generation)."""
    first: Harness = await closing()
    second: Harness = await closing()
    fake = first.fake
    await first.send(slash_command("", command="/imagine-edit", response_url=fake.response_url()))
    opened = (await first.wait(lambda: fake.views))[0]
    photo = fake.add_file("dog.png", png(), "image/png")
    values = {
        "image_block": {"image_input": file_input_value([photo])},
        "prompt_block": {"prompt_input": text_input_value("make it snow")},
    }
    await first.send(
        view_submission("imagine_edit", values, private_metadata=opened.view["private_metadata"])
    )
    controls = (await first.wait(first.controls))[0]
    value = button(controls, "reroll")["value"]
    await second.send(block_actions("reroll", value, response_url=fake.response_url()))
    await second.wait(lambda: len(second.controls()) == 2)
    before, after = first.gateway.calls_to("/v1/images/edits")
    assert first.gateway.calls_to("/v1/images/generations") == []
    assert after.params["prompt"] == before.params["prompt"] == "make it snow"
    assert [f.data for f in after.files] == [f.data for f in before.files] and after.files
