"""End to end in a real headless Chromium: My images (re-deliver a kept result) and the admin
dashboard (the chart drawn from the bot's JSON shows the ledger's spend); forged and expired
links get the 403 page."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image, ImageDraw

from bots.web.backend import KeptImage
from core.types import Identity
from tests.web.browser import Browser
from tests.web.conftest import ALICE, MALLORY, Live, make_job

pytestmark = pytest.mark.browser


def tile(hue: int, label: str) -> bytes:
    img = Image.new("RGB", (512, 512), (hue, 120, 255 - hue))
    draw = ImageDraw.Draw(img)
    draw.ellipse([96, 96, 416, 416], fill=(255 - hue, 200, hue))
    draw.text((24, 24), label, fill=(255, 255, 255))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


async def test_my_images_shows_my_results_and_posts_one_again(browser: Browser, live: Live) -> None:
    prompts = ["a lighthouse at dusk", "a fox in the snow", "a paper boat", "a city of glass"]
    jobs = []
    for i, prompt in enumerate(prompts):
        job = await make_job(live.service, ALICE, prompt)
        live.kept[job] = [KeptImage(tile(40 + 60 * i, prompt))]
        jobs.append(job)
    await make_job(live.service, MALLORY, "someone else's secret")
    await browser.get(live.link(ALICE, "gallery"))
    await browser.wait_for("document.querySelectorAll('.card').length === 4")
    text = await browser.text("main")
    assert all(p in text for p in prompts) and "secret" not in text
    loaded = await browser.wait_for(
        "Array.from(document.querySelectorAll('img.thumb')).every(i => i.complete && i.naturalWidth)"
    )
    assert loaded
    await browser.click(f'.card[data-job="{jobs[1]}"] button.redeliver')
    await browser.wait_for(f"document.querySelector('.card[data-job=\"{jobs[1]}\"] .status.ok')")
    [(identity, result)] = live.poster.posted
    assert identity.channel_id == ALICE.channel_id and result.cost_micros == 0
    assert result.images[0].data == live.kept[jobs[1]][0].data
    # Re-roll: a new job of the same request, charged to the clicker, posted in the chat
    await browser.click(f'.card[data-job="{jobs[2]}"] button.reroll')
    await browser.wait_for(f"document.querySelector('.card[data-job=\"{jobs[2]}\"] .status.ok')")
    await browser.screenshot("gallery")
    _, rerolled = live.poster.posted[-1]
    assert rerolled.request.prompt == prompts[2] and rerolled.cost_micros > 0


async def test_the_dashboard_chart_shows_the_ledgers_spend(browser: Browser, live: Live) -> None:
    for prompt in ("one", "two", "three --n 2"):  # three jobs, four images
        await make_job(live.service, ALICE, prompt)
    await make_job(live.service, MALLORY, "another community")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    ledger = [
        r
        for r in await live.service.daily_spend(Identity.operator(), None, by="community")
        if r.group == ALICE.community_scope and r.day.isoformat() == today
    ]
    [row] = ledger
    await browser.get(live.link(ALICE, "dashboard", admin=True))
    await browser.wait_for("document.getElementById('dashboard').dataset.chartsReady")
    shown = await browser.js(
        "return document.querySelector(`#chart-spend rect[data-day='${arguments[0]}']`)"
        ".dataset.value;",
        today,
    )
    assert float(shown) == pytest.approx(row.cost_micros / 1_000_000)
    images = await browser.js(
        "return document.querySelector(`#chart-images rect[data-day='${arguments[0]}']`)"
        ".dataset.value;",
        today,
    )
    assert (row.jobs, row.images) == (3, 4)
    assert int(images) == row.images


async def test_forged_and_expired_links_get_the_403_page(browser: Browser, live: Live) -> None:
    good = live.link(ALICE, "gallery")
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    expired = live.link(ALICE, "gallery", now=time.time() - 3600)
    for url in (forged, expired):
        await browser.get(url)
        assert "This link cannot be used" in await browser.text("main")
        assert await browser.js("return location.pathname.startsWith('/l/')")
    await browser.get(f"{live.base}/gallery")
    assert "This link cannot be used" in await browser.text("main")
    await browser.screenshot("forbidden")
    # a good link still works once, then no more
    await browser.get(good)
    await browser.wait_for("location.pathname === '/gallery'")
    await browser.get(good)
    assert "This link cannot be used" in await browser.text("main")
