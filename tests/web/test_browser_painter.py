"""End to end in a real headless Chromium: open an "Edit region" link, paint, submit; the fake
gateway receives an edit whose mask is transparent exactly where the stroke went, and the result
is handed back to the chat adapter."""

from __future__ import annotations

import io
import math
from typing import Any

import pytest
from PIL import Image, ImageDraw

from bots.web.backend import KeptImage
from tests.web.browser import Browser
from tests.web.conftest import ALICE, Live, make_job

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 768, 512
BRUSH = 40


def picture(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """A recognisable source image: sky, sun, hills."""
    img = Image.new("RGB", (width, height), (120, 170, 230))
    draw = ImageDraw.Draw(img)
    for y in range(height // 2):
        shade = int(120 + 100 * y / (height / 2))
        draw.line([(0, y), (width, y)], fill=(shade - 60, shade - 10, 235))
    draw.ellipse([width * 0.68, 50, width * 0.68 + 120, 170], fill=(255, 214, 90))
    draw.polygon(
        [(0, height), (0, 330), (260, 250), (520, 340), (width, 280), (width, height)],
        fill=(70, 140, 80),
    )
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def distance_to_segment(
    px: float, py: float, a: tuple[float, float], b: tuple[float, float]
) -> float:
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


async def drag(browser: Browser, points: list[tuple[int, int]], kind: str = "mouse") -> None:
    await drag_at(browser, points, WIDTH, HEIGHT, kind)


async def drag_at(
    browser: Browser, points: list[tuple[int, int]], width: int, height: int, kind: str = "mouse"
) -> None:
    """A stroke through image-pixel ``points`` on the painter's canvas (zoom 1: CSS px = image px)."""
    from selenium.webdriver.common.actions import pointer_input
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.interaction import POINTER_MOUSE, POINTER_TOUCH

    make_pointer: Any = pointer_input.PointerInput  # selenium's own code is untyped

    canvas = await browser.find("#paint")
    box = await browser.js(
        "const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.width, r.height];",
        canvas,
    )
    assert round(box[2]) == width and round(box[3]) == height, box  # shown at zoom 1

    left, top = box[0], box[1]

    def act() -> None:
        # Viewport coordinates (the canvas is shown at zoom 1, so image px = CSS px).
        pointer = make_pointer(POINTER_TOUCH if kind == "touch" else POINTER_MOUSE, kind)
        actions: Any = ActionBuilder(browser.driver, mouse=pointer)
        first, *rest = points
        actions.pointer_action.move_to_location(round(left + first[0]), round(top + first[1]))
        actions.pointer_action.pointer_down()
        for x, y in rest:
            actions.pointer_action.move_to_location(round(left + x), round(top + y))
        actions.pointer_action.pointer_up()
        actions.perform()

    await browser.run(act)


def transparent(mask: Image.Image) -> set[tuple[int, int]]:
    alpha = mask.getchannel("A")
    return {
        (x, y) for y in range(mask.height) for x in range(mask.width) if alpha.getpixel((x, y)) == 0
    }


async def open_painter(browser: Browser, live: Live) -> str:
    job_id = await make_job(live.service, ALICE, "a quiet valley at noon")
    live.kept[job_id] = [KeptImage(picture())]
    await browser.get(live.link(ALICE, "edit", job=str(job_id)))
    await browser.wait_for(
        "document.getElementById('editor') && document.getElementById('editor').dataset.ready"
    )
    assert await browser.js("return location.pathname") == f"/edit/{job_id}"
    await browser.js(
        "const s = document.getElementById('size'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('input'));",
        str(BRUSH),
    )
    return job_id


async def submit_and_get_mask(browser: Browser, live: Live, prompt: str) -> Image.Image:
    await browser.type("#prompt", prompt)
    await browser.click("#submit")
    state = await browser.wait_for("document.getElementById('editor').dataset.state")
    assert state == "done", await browser.text("#status")
    edits = live.gateway.calls_to("/v1/images/edits")
    assert len(edits) == 1
    call = edits[0]
    assert call.form["prompt"] == prompt
    masks = [f for f in call.files if f.field == "mask"]
    assert len(masks) == 1 and masks[0].format == "PNG"
    assert (masks[0].width, masks[0].height) == (WIDTH, HEIGHT)
    mask = Image.open(io.BytesIO(masks[0].data))
    assert mask.size == (WIDTH, HEIGHT) and "A" in mask.getbands()
    return mask.convert("RGBA")


async def test_a_painted_stroke_becomes_exactly_the_transparent_area_of_the_mask(
    browser: Browser, live: Live
) -> None:
    await open_painter(browser, live)
    start, end = (150, 200), (450, 200)
    await drag(browser, [start, (300, 200), end])
    await browser.screenshot("edit-region")
    mask = await submit_and_get_mask(browser, live, "a red barn in the painted area")
    holes = transparent(mask)
    radius = BRUSH / 2
    for y in range(HEIGHT):
        for x in range(WIDTH):
            d = distance_to_segment(x + 0.5, y + 0.5, start, end)
            if d <= radius - 2:
                assert (x, y) in holes, ("not transparent inside the stroke", x, y)
            elif d >= radius + 2:
                assert (x, y) not in holes, ("transparent outside the stroke", x, y)
    capsule = 2 * radius * 300 + math.pi * radius**2
    assert abs(len(holes) - capsule) / capsule < 0.05
    # the result went back through the chat adapter, made as the clicker
    assert len(live.poster.posted) == 1
    identity, result = live.poster.posted[0]
    assert (identity.user_id, identity.community_id, identity.channel_id) == ("111", "900", "5001")
    assert result.images and result.request.mask is not None
    await browser.wait_for("document.getElementById('status').textContent.length > 0")
    await browser.screenshot("edit-region-done")


async def test_touch_undo_redo_and_eraser_shape_the_mask(browser: Browser, live: Live) -> None:
    await open_painter(browser, live)
    await drag(browser, [(100, 100), (300, 100)], kind="touch")  # kept
    await drag(browser, [(100, 400), (600, 400)])  # undone
    await browser.click("#undo")
    await browser.click("#redo")
    await browser.click("#undo")
    assert await browser.js("return document.getElementById('redo').disabled") is False
    await browser.click("#tool-eraser")
    await drag(browser, [(200, 70), (200, 130)])  # erases a band across the first stroke
    mask = await submit_and_get_mask(browser, live, "a fence")
    holes = transparent(mask)
    assert (120, 100) in holes and (280, 100) in holes  # the touch stroke
    assert (200, 100) not in holes  # erased again
    assert not any(y > 300 for _, y in holes)  # the undone stroke is not in the mask


async def test_on_a_phone_sized_screen_the_image_fits_and_touch_paints_image_pixels(
    browser: Browser, live: Live
) -> None:
    from selenium.webdriver.common.actions import pointer_input
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.interaction import POINTER_TOUCH

    await browser.run(browser.driver.set_window_size, 412, 915)
    await open_painter(browser, live)
    box = await browser.js(
        "const r = document.getElementById('paint').getBoundingClientRect();"
        "return [r.left, r.top, r.width, r.height];"
    )
    scale = box[2] / WIDTH
    assert 0.3 < scale < 0.6  # fitted to the screen, not cut off
    assert await browser.js("return document.documentElement.scrollWidth") <= 412
    make_pointer: Any = pointer_input.PointerInput
    # a finger from image (100, 256) to (600, 256), in screen pixels
    start, end = (100, 256), (600, 256)

    def act() -> None:
        actions: Any = ActionBuilder(browser.driver, mouse=make_pointer(POINTER_TOUCH, "finger"))
        sx, sy = box[0] + start[0] * scale, box[1] + start[1] * scale
        ex, ey = box[0] + end[0] * scale, box[1] + end[1] * scale
        actions.pointer_action.move_to_location(round(sx), round(sy))
        actions.pointer_action.pointer_down()
        actions.pointer_action.move_to_location(round((sx + ex) / 2), round(sy))
        actions.pointer_action.move_to_location(round(ex), round(ey))
        actions.pointer_action.pointer_up()
        actions.perform()

    await browser.run(act)
    await browser.screenshot("edit-region-phone")
    mask = await submit_and_get_mask(browser, live, "a sail boat")
    holes = transparent(mask)
    radius = BRUSH / 2  # the brush is in image pixels whatever the zoom
    tolerance = 2 + 1 / scale  # one screen pixel of rounding, in image pixels
    for y in range(0, HEIGHT, 2):
        for x in range(0, WIDTH, 2):
            d = distance_to_segment(x + 0.5, y + 0.5, start, end)
            if d <= radius - tolerance:
                assert (x, y) in holes, (x, y)
            elif d >= radius + tolerance:
                assert (x, y) not in holes, (x, y)


async def test_sketch_sends_the_strokes_as_markup_for_a_model_that_takes_it(
    browser: Browser, live: Live
) -> None:
    job_id = await make_job(live.service, ALICE, "a quiet valley --model gpt-image-2.5-sunburst")
    live.kept[job_id] = [KeptImage(picture())]
    await browser.get(live.link(ALICE, "edit", job=str(job_id)))
    await browser.wait_for("document.getElementById('editor').dataset.ready")
    await browser.click('input[name="mode"][value="sketch"]')
    await browser.js(
        "const c = document.getElementById('colour'); c.value = '#2050ff';"
        "c.dispatchEvent(new Event('input'));"
        "const s = document.getElementById('size'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('input'));",
        str(BRUSH),
    )
    start, end = (200, 300), (560, 300)
    await drag(browser, [start, end])
    await browser.screenshot("edit-region-sketch")
    await browser.type("#prompt", "a blue river along my line")
    await browser.click("#submit")
    state = await browser.wait_for("document.getElementById('editor').dataset.state")
    assert state == "done", await browser.text("#status")
    [call] = live.gateway.calls_to("/v1/images/edits")
    assert call.form["model"] == "gpt-image-2.5-sunburst"
    assert [f for f in call.files if f.field == "mask"] == []
    [part] = [f for f in call.files if f.field == "markup"]
    markup = Image.open(io.BytesIO(part.data)).convert("RGBA")
    assert markup.size == (WIDTH, HEIGHT)
    alpha = markup.getchannel("A")
    radius = BRUSH / 2
    for y in range(0, HEIGHT, 2):
        for x in range(0, WIDTH, 2):
            d = distance_to_segment(x + 0.5, y + 0.5, start, end)
            if d <= radius - 2:
                assert markup.getpixel((x, y)) == (0x20, 0x50, 0xFF, 255), (x, y)
            elif d >= radius + 2:
                assert alpha.getpixel((x, y)) == 0, (x, y)
    [(identity, result)] = live.poster.posted
    assert identity.channel_id == ALICE.channel_id and result.request.markup is not None
    assert result.request.mask is None
