"""Output packing: PNG kept when it fits, re-encoded when not, split to per-message limits."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from core.errors import PixelsmithError
from core.packing import (
    OutputFile,
    UploadLimits,
    pack_outputs,
    repack_smaller,
    smaller_limits,
)
from core.types import GeneratedImage

KB = 1024
MB = 1024 * 1024


def png_of(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def busy(w: int = 1024, h: int = 1024, mode: str = "RGB", seed: int = 0) -> bytes:
    """A PNG that compresses badly (like a detailed generated image): ~3 MB at 1024x1024."""
    rnd = random.Random(seed)
    base = Image.radial_gradient("L").resize((w, h)).convert(mode)
    noise = Image.frombytes(mode, (w, h), rnd.randbytes(w * h * len(mode)))
    return png_of(Image.blend(base, noise, 0.5))


def small(seed: int = 0) -> bytes:
    return png_of(Image.new("RGB", (64, 64), (seed % 255, 100, 200)))


def decode(file: OutputFile) -> Image.Image:
    img = Image.open(io.BytesIO(file.data))
    img.load()
    assert Image.MIME[img.format or ""] == file.mime
    return img


async def test_png_that_fits_is_sent_byte_for_byte() -> None:
    data = small()
    batches, notes = await pack_outputs([GeneratedImage(data)], UploadLimits(max_file_bytes=MB))
    assert notes == []
    [[file]] = batches
    assert file.data == data and file.filename == "pixelsmith.png" and not file.reencoded


async def test_too_large_png_becomes_webp_with_a_note() -> None:
    data = busy()
    limit = len(data) // 2
    batches, notes = await pack_outputs([GeneratedImage(data)], UploadLimits(max_file_bytes=limit))
    [[file]] = batches
    assert file.reencoded and len(file.data) <= limit
    assert file.mime == "image/webp" and file.filename == "pixelsmith.webp"
    assert decode(file).size == (1024, 1024)
    assert [(n.key, n.params) for n in notes] == [
        ("output.reencoded", {"count": 1, "downscaled": 0})
    ]


async def test_falls_back_to_jpeg_then_downscale_as_the_limit_shrinks() -> None:
    data = busy()
    results = {}
    for limit in (400 * KB, 150 * KB, 40 * KB):
        [[file]], notes = await pack_outputs([GeneratedImage(data)], UploadLimits(limit))
        assert len(file.data) <= limit
        results[limit] = (file.mime, decode(file).size, notes[0].params["downscaled"])
    assert results[40 * KB][1][0] < 1024 and results[40 * KB][2] == 1  # downscaled at the end
    assert any(mime == "image/jpeg" for mime, _, _ in results.values())


async def test_transparent_output_keeps_alpha_when_reencoded() -> None:
    data = busy(mode="RGBA")
    [[file]], _ = await pack_outputs([GeneratedImage(data)], UploadLimits(len(data) // 3))
    assert file.mime == "image/webp"
    assert decode(file).mode == "RGBA"


async def test_split_by_files_per_message() -> None:
    images = [GeneratedImage(small(i)) for i in range(23)]
    batches, notes = await pack_outputs(images, UploadLimits(MB, max_files_per_message=10))
    assert [len(b) for b in batches] == [10, 10, 3]
    names = [f.filename for b in batches for f in b]
    assert names == [f"pixelsmith-{i}.png" for i in range(1, 24)]
    assert notes == []


async def test_split_by_bytes_per_message() -> None:
    images = [GeneratedImage(busy(256, 256, seed=i)) for i in range(5)]
    size = max(len(i.data) for i in images)
    limits = UploadLimits(max_file_bytes=size, max_files_per_message=10, max_message_bytes=size * 2)
    batches, notes = await pack_outputs(images, limits)
    assert [len(b) for b in batches] == [2, 2, 1]
    assert all(sum(len(f.data) for f in b) <= size * 2 for b in batches)
    assert notes == []


async def test_a_file_over_the_message_total_is_shrunk_to_it() -> None:
    data = busy(512, 512)
    limits = UploadLimits(max_file_bytes=10 * MB, max_message_bytes=len(data) // 2)
    [[file]], notes = await pack_outputs([GeneratedImage(data)], limits)
    assert len(file.data) <= len(data) // 2 and notes


async def test_jpeg_output_keeps_its_extension() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(buf, "JPEG")
    image = GeneratedImage(buf.getvalue(), mime="image/png")  # the mime lies; the bytes decide
    [[file]], _ = await pack_outputs([image], UploadLimits(MB), stem="a cat/../x")
    assert file.filename == "a_cat_.._x.jpg" and file.mime == "image/jpeg"


async def test_repack_smaller_after_a_413() -> None:
    data = busy()
    first = UploadLimits(max_file_bytes=len(data) + 1, max_message_bytes=len(data) + 1)
    [[file]], notes = await pack_outputs([GeneratedImage(data)], first)
    assert not file.reencoded and notes == []
    # the platform said 413: its real limit is lower than it told us
    batches, notes, second = await repack_smaller([GeneratedImage(data)], first)
    assert second == smaller_limits(first)
    assert second.max_file_bytes == (len(data) + 1) // 2
    assert len(batches[0][0].data) <= second.max_file_bytes
    assert notes[0].key == "output.reencoded"


async def test_impossible_limit_is_a_typed_failure() -> None:
    with pytest.raises(PixelsmithError) as caught:
        await pack_outputs([GeneratedImage(busy(512, 512))], UploadLimits(max_file_bytes=100))
    assert caught.value.key == "output.too_large"


async def test_unreadable_oversized_output_is_a_typed_failure() -> None:
    with pytest.raises(PixelsmithError) as caught:
        await pack_outputs([GeneratedImage(b"\x89PNG" + bytes(5000))], UploadLimits(1000))
    assert caught.value.key == "output.unreadable"


async def test_empty_input() -> None:
    assert await pack_outputs([], UploadLimits(MB)) == ([], [])
