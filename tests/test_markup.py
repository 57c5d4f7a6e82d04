"""A sketch (``markup``) over the first image guides a GPT Image 2.5 edit, end to end.

The SDK's docstring: "markup: A transparent PNG overlaid on the first image to guide the edit.
Must match that image's dimensions after orientation and contain transparent pixels. Supports GPT
Image 2.5. Cannot be combined with mask." The fake gateway refuses it on any other model.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from core.errors import InvalidImage, InvalidRequest
from core.request import Options
from core.service import Attachment, ImageService
from core.types import Identity
from tests.fakes.gateway import FakeGateway
from tests.fakes.images import mask_png, solid_png

ALICE = Identity(platform="cli", user_id="alice")
EDIT = "/v1/images/edits"


def sketch(width: int, height: int) -> bytes:
    """A red stroke on a transparent canvas."""
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    img.paste((255, 0, 0, 255), (width // 4, height // 4, width // 2, height // 2))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def svc(service: ImageService) -> ImageService:
    """The root conftest's service, under this module's short name."""
    return service


async def test_markup_reaches_the_gateway_for_a_2_5_model(
    gateway: FakeGateway, svc: ImageService
) -> None:
    images = await svc.prepare_images([Attachment(solid_png(2048, 1536), "room.png")])
    markup = await svc.prepare_markup(Attachment(sketch(2048, 1536), "sketch.png"), images[0])
    request = svc.build(
        "a lamp where the red stroke is",
        ALICE,
        options=Options(model="gpt-image-2.5-flare"),
        images=images,
        markup=markup,
    )
    assert request.summary()["markup"] is True
    result = await svc.run(request)
    assert len(result.images) == 1
    (call,) = gateway.calls_to(EDIT)
    (sent,) = [f for f in call.files if f.field == "markup"]
    first = next(f for f in call.files if f.field == "image")
    assert first.width is not None and first.height is not None
    assert sent.format == "PNG" and (sent.width, sent.height) == (first.width, first.height)
    with Image.open(io.BytesIO(sent.data)) as img:  # the colours of the sketch are kept
        rgba = img.convert("RGBA")
        assert rgba.getpixel((first.width * 3 // 8, first.height * 3 // 8)) == (255, 0, 0, 255)


async def test_markup_is_refused_before_sending_where_it_is_not_published(
    gateway: FakeGateway, svc: ImageService
) -> None:
    images = await svc.prepare_images([Attachment(solid_png(64, 64), "a.png")])
    markup = await svc.prepare_markup(Attachment(sketch(64, 64), "s.png"), images[0])
    for model in ("gpt-image-2", "gpt-image-2.6-flare", "gpt-4o-image"):
        with pytest.raises(InvalidRequest) as caught:
            svc.build("x", ALICE, options=Options(model=model), images=images, markup=markup)
        assert caught.value.key == "invalid.markup_unsupported"
    mask = await svc.prepare_mask(Attachment(mask_png(64, 64), "m.png"), images[0])
    with pytest.raises(InvalidRequest) as both:
        svc.build(
            "x",
            ALICE,
            options=Options(model="gpt-image-2.5-sunburst"),
            images=images,
            mask=mask,
            markup=markup,
        )
    assert both.value.key == "invalid.markup_with_mask"
    with pytest.raises(InvalidRequest):
        svc.build("x", ALICE, options=Options(model="gpt-image-2.5-flare"), markup=markup)
    assert gateway.calls == []


async def test_an_opaque_or_wrong_sized_markup_is_a_clear_error(svc: ImageService) -> None:
    images = await svc.prepare_images([Attachment(solid_png(64, 64), "a.png")])
    with pytest.raises(InvalidImage):
        await svc.prepare_markup(Attachment(solid_png(64, 64), "opaque.png"), images[0])
    with pytest.raises(InvalidImage):
        await svc.prepare_markup(Attachment(sketch(32, 32), "small.png"), images[0])
