"""The whole loop in a real headless Chromium: /imagine on (fake) Discord, click "Edit region",
open the private link, paint a stroke, send; the fake gateway receives an edit whose mask is
transparent exactly where the stroke went, and the edited image arrives in the Discord channel."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from bots.web.app import build_app
from tests.conftest import make_settings
from tests.discord.conftest import WAIT, final, running_bot
from tests.fakes import discord_payloads as P
from tests.fakes.discord import FakeDiscord, MessageEvent, point_discord_py_at
from tests.fakes.gateway import FakeGateway
from tests.web.browser import Browser, free_port, serving
from tests.web.conftest import SECRET
from tests.web.test_browser_painter import distance_to_segment, drag_at

pytestmark = pytest.mark.browser

LINK = re.compile(r"(http://127\.0\.0\.1:\d+/l/\S+)")
BRUSH = 40


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as f:
        with point_discord_py_at(f):
            yield f


async def test_paint_a_region_of_a_discord_result_and_get_the_edit_in_the_channel(
    browser: Browser, fake: FakeDiscord, gateway: FakeGateway, tmp_path: Path
) -> None:
    port = free_port()
    settings = make_settings(
        tmp_path,
        gateway.base_url,
        discord={
            "token": fake.token,
            "api_base_url": fake.api_base,
            "guild_ids": [int(fake.guild_id)],
            "attachment_hosts": ["127.0.0.1"],
        },
        provider={"download_hosts": ["127.0.0.1"]},
        web={"port": port, "secret_key": SECRET, "public_url": f"http://127.0.0.1:{port}"},
    )
    async with running_bot(settings) as adapter:
        # The web companion as `pixelsmith run` builds it; the painter's source is the result
        # the service kept in its result store.
        app = build_app(adapter.service, settings, {"discord": adapter})
        async with serving(app, port):
            ctx = fake.context()
            payload = P.slash_command(ctx, "imagine", options={"prompt": "a quiet harbour"})
            await fake.dispatch("INTERACTION_CREATE", payload)
            result: MessageEvent = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
            ids = [c["custom_id"] for row in result.components for c in row["components"]]
            [region] = [c for c in ids if c.startswith("px:region:")]
            click = P.component_click(ctx, region, fake.stored_messages[result.message_id])
            await fake.dispatch("INTERACTION_CREATE", click)
            callback = await fake.wait_for_callback(
                lambda c: c.interaction_id == click["id"], timeout=WAIT
            )
            found = LINK.search(callback.data.get("content") or "")
            assert callback.ephemeral and found is not None

            await browser.run(browser.driver.set_window_size, 1280, 1700)  # all of 1024x1024
            await browser.get(found[1])
            await browser.wait_for("document.getElementById('editor').dataset.ready")
            width = int(
                await browser.js("return Number(document.getElementById('editor').dataset.width)")
            )
            height = int(
                await browser.js("return Number(document.getElementById('editor').dataset.height)")
            )
            await browser.js(
                "const s = document.getElementById('size'); s.value = arguments[0];"
                "s.dispatchEvent(new Event('input'));",
                str(BRUSH),
            )
            start, end = (width // 4, height // 2), (width // 2, height // 2)
            await drag_at(browser, [start, end], width, height)
            await browser.type("#prompt", "a red boat where I painted")
            await browser.click("#submit")
            state = await browser.wait_for("document.getElementById('editor').dataset.state")
            assert state == "done", await browser.text("#status")

            [edit] = gateway.calls_to("/v1/images/edits")
            [mask_part] = [f for f in edit.files if f.field == "mask"]
            mask = Image.open(io.BytesIO(mask_part.data)).convert("RGBA")
            alpha = mask.getchannel("A")
            radius = BRUSH / 2
            for y in range(0, mask.height, 3):
                for x in range(0, mask.width, 3):
                    d = distance_to_segment(x + 0.5, y + 0.5, start, end)
                    if d <= radius - 2:
                        assert alpha.getpixel((x, y)) == 0, (x, y)
                    elif d >= radius + 2:
                        assert alpha.getpixel((x, y)) == 255, (x, y)
            posted: MessageEvent = await fake.wait_for_message(
                lambda m: m.kind == "channel" and m.channel_id == ctx.channel_id and bool(m.files),
                timeout=WAIT,
            )
            assert "a red boat where I painted" in (posted.content or "")
            assert f"<@{ctx.user_id}>" in (posted.content or "")
            assert posted.files[0].data[:8] == b"\x89PNG\r\n\x1a\n"
            await browser.screenshot("edit-region-discord")
