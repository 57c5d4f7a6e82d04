"""The painter's Sketch mode over HTTP: for a model whose catalog entry takes a ``markup`` edit
input, the strokes go to the gateway as the markup image (never with a mask); anywhere else Sketch
is not offered and a forged sketch is refused before anything is reserved or sent."""

from __future__ import annotations

import io
from typing import Any

import aiohttp
from PIL import Image

from bots.web.backend import KeptImage
from tests.fakes.gateway import FakeGateway
from tests.web.conftest import ALICE, Web, make_job
from tests.web.test_pages import H, W, finish, png

MARKUP_MODEL = "gpt-image-2.5-sunburst"  # markup = true in core/data/models.toml (the SDK's rule)
STROKE = (200, 150, 400, 250)


def strokes(width: int = W, height: int = H) -> bytes:
    """What the page sends in Sketch mode: the strokes opaque on a transparent layer."""
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    img.paste((255, 40, 120, 255), STROKE)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def sketch_form(markup: bytes | None, *, mask: bytes | None = None, form: str = "s1") -> Any:
    data = aiohttp.FormData(default_to_multipart=True)
    data.add_field("prompt", "a lamp where the pink stroke is")
    data.add_field("form", form)
    data.add_field("mode", "sketch")
    if markup is not None:
        data.add_field("markup", markup, filename="markup.png", content_type="image/png")
    if mask is not None:
        data.add_field("mask", mask, filename="mask.png", content_type="image/png")
    return data


async def open_painter(webapp: Web, model: str | None) -> tuple[str, str, str]:
    prompt = "a quiet room" + (f" --model {model}" if model else "")
    job = await make_job(webapp.service, ALICE, prompt)
    webapp.kept[job] = [KeptImage(png())]
    await webapp.login(ALICE, "edit", job=str(job))
    html = await (await webapp.client.get(f"/edit/{job}")).text()
    return job, await webapp.csrf(f"/edit/{job}"), html


async def test_sketch_is_offered_only_where_the_model_takes_markup(webapp: Web) -> None:
    _, _, plain = await open_painter(webapp, None)
    assert 'value="sketch"' not in plain and 'id="paint"' in plain
    _, _, offered = await open_painter(webapp, MARKUP_MODEL)
    assert 'name="mode" value="mask" checked' in offered and 'value="sketch"' in offered


async def test_a_sketch_reaches_the_gateway_as_markup_and_the_result_the_chat(
    webapp: Web, gateway: FakeGateway
) -> None:
    job, csrf, _ = await open_painter(webapp, MARKUP_MODEL)
    answer = await webapp.client.post(
        f"/api/edit/{job}", data=sketch_form(strokes()), headers={"X-CSRF-Token": csrf}
    )
    status = await finish(webapp, answer)
    assert status["state"] == "done" and status["posted"] is True, status
    [call] = gateway.calls_to("/v1/images/edits")
    assert call.form["model"] == MARKUP_MODEL
    assert [f.field for f in call.files if f.field == "mask"] == []
    [sent] = [f for f in call.files if f.field == "markup"]
    assert sent.format == "PNG" and (sent.width, sent.height) == (W, H)
    drawn = Image.open(io.BytesIO(sent.data)).convert("RGBA")
    x0, y0, x1, y1 = STROKE
    assert drawn.getpixel(((x0 + x1) // 2, (y0 + y1) // 2)) == (255, 40, 120, 255)
    alpha = drawn.getchannel("A")
    assert alpha.getpixel((10, 10)) == 0 and alpha.getpixel((W - 10, H - 10)) == 0
    [(identity, result)] = webapp.poster.posted
    assert identity.channel_id == ALICE.channel_id and result.request.markup is not None
    history = await webapp.service.history(ALICE, limit=5)
    assert history[0].request.get("markup") is True and history[0].request.get("mask") is False
    assert await webapp.service.store.check() == []


async def test_a_sketch_for_a_model_without_markup_is_refused_and_costs_nothing(
    webapp: Web, gateway: FakeGateway
) -> None:
    job, csrf, _ = await open_painter(webapp, None)
    answer = await webapp.client.post(
        f"/api/edit/{job}", data=sketch_form(strokes()), headers={"X-CSRF-Token": csrf}
    )
    assert answer.status == 400
    error = (await answer.json())["error"]
    assert "gpt-image-2" in error and "Traceback" not in error
    assert gateway.calls_to("/v1/images/edits") == []
    assert len(await webapp.service.history(ALICE, limit=5)) == 1  # only the original job
    assert webapp.poster.posted == []


async def test_odd_sketch_forms_are_400_and_a_bad_drawing_is_explained(
    webapp: Web, gateway: FakeGateway
) -> None:
    job, csrf, _ = await open_painter(webapp, MARKUP_MODEL)
    headers = {"X-CSRF-Token": csrf}
    url = f"/api/edit/{job}"
    both = await webapp.client.post(
        url, data=sketch_form(strokes(), mask=png(hole=(0, 0, 9, 9))), headers=headers
    )
    assert both.status == 400
    nothing = await webapp.client.post(url, data=sketch_form(None), headers=headers)
    assert nothing.status == 400 and "Paint" in (await nothing.json())["error"]
    odd_mode = aiohttp.FormData(default_to_multipart=True)
    for name, value in (("prompt", "x"), ("form", "s9"), ("mode", "scribble")):
        odd_mode.add_field(name, value)
    odd_mode.add_field("markup", strokes(), filename="m.png", content_type="image/png")
    assert (await webapp.client.post(url, data=odd_mode, headers=headers)).status == 400
    for i, bad in enumerate([png(), strokes(320, 240)]):  # opaque; not the image's size
        answer = await webapp.client.post(
            url, data=sketch_form(bad, form=f"bad{i}"), headers=headers
        )
        status = await finish(webapp, answer)
        assert status["state"] == "failed" and status["message"], status
        assert "Traceback" not in status["message"]
    assert gateway.calls_to("/v1/images/edits") == []
    assert await webapp.service.store.check() == []
