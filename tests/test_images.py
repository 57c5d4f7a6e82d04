"""Attachment intake: every bad input gets its own key; good inputs come out clean and small."""

from __future__ import annotations

import io
import os
import random
import struct
import zlib
from collections.abc import Callable

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from core.errors import InvalidImage
from core.images import (
    KEYS,
    IntakeLimits,
    display_name,
    intake,
    intake_many,
    intake_mask,
    precheck,
    sniff,
)
from core.types import PreparedImage

MB = 1024 * 1024

# ------------------------------------------------------------------------------------------------
# Builders (everything is generated; no binary fixtures)


def encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def noise(w: int, h: int, mode: str = "RGB", seed: int = 1) -> Image.Image:
    rnd = random.Random(seed)
    bands = len(mode)
    return Image.frombytes(mode, (w, h), rnd.randbytes(w * h * bands))


def photo(w: int, h: int) -> Image.Image:
    """Gradient + mild noise: compresses like a photo, not like random bytes."""
    grad = Image.linear_gradient("L").resize((w, h))
    r = grad
    g = grad.rotate(90).resize((w, h))
    b = Image.radial_gradient("L").resize((w, h))
    base = Image.merge("RGB", (r, g, b))
    return Image.blend(base, noise(w, h), 0.08)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def huge_gray_png(w: int, h: int) -> bytes:
    """A valid all-black grayscale PNG of any size, built in milliseconds.

    Deflate blocks ending in a full flush are byte-aligned and independent, so one compressed
    block of zero rows is repeated; the Adler-32 of n zero bytes is (n mod 65521) << 16 | 1.
    """
    rows = max(1, (8 << 20) // (w + 1))
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = co.compress(bytes(rows * (w + 1))) + co.flush(zlib.Z_FULL_FLUSH)
    full, rest = divmod(h, rows)
    parts = [block] * full
    if rest:
        co = zlib.compressobj(9, zlib.DEFLATED, -15)
        parts.append(co.compress(bytes(rest * (w + 1))) + co.flush(zlib.Z_FULL_FLUSH))
    parts.append(b"\x03\x00")  # final, empty fixed-Huffman block
    n = h * (w + 1)
    idat = b"\x78\xda" + b"".join(parts) + struct.pack(">I", ((n % 65521) << 16) | 1)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def small_png() -> bytes:
    return encode(noise(64, 48), "PNG")


def small_jpeg() -> bytes:
    return encode(photo(64, 48), "JPEG", quality=90)


def small_webp() -> bytes:
    return encode(photo(64, 48), "WEBP", quality=80)


def animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (32, 32), c) for c in ("red", "green", "blue")]
    kw: dict[str, object] = {"save_all": True, "append_images": frames[1:], "duration": 100}
    if fmt == "GIF":
        kw["loop"] = 0
    return encode(frames[0], fmt, **kw)


def bad_crc_png() -> bytes:
    data = bytearray(small_png())
    data[29] ^= 0xFF  # the IHDR CRC
    return bytes(data)


def zero_width_png() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 0, 10, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 10)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def truncated_webp() -> bytes:
    data = encode(noise(64, 64), "WEBP", quality=80)
    return data[: len(data) // 2]


def jpeg_garbage_after_header() -> bytes:
    return small_jpeg()[:20] + random.Random(7).randbytes(4000)


def jpeg_garbage_in_scan() -> bytes:
    data = bytearray(encode(photo(256, 256), "JPEG", quality=90))
    rnd = random.Random(3)
    sos = data.index(b"\xff\xda")
    for i in range(sos + 20, len(data) - 2):
        data[i] = rnd.randrange(256)
    return bytes(data[: len(data) // 2])


HTML_LOGIN = (
    b"\n\n<!DOCTYPE html>\n<html lang='en-US'><head><meta charset='utf-8'>"
    b"<title>Slack</title></head><body><form action='/signin'>Sign in</form></body></html>"
)

# (id, builder, expected key)
BAD_INPUTS: list[tuple[str, Callable[[], bytes], str]] = [
    ("truncated-png", lambda: small_png()[: len(small_png()) // 2], "image.truncated"),
    ("truncated-png-header-only", lambda: small_png()[:8], "image.truncated"),
    ("truncated-jpeg", lambda: small_jpeg()[: len(small_jpeg()) * 2 // 3], "image.truncated"),
    ("truncated-webp", truncated_webp, "image.truncated"),
    (
        "pdf-named-png",
        lambda: b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nendobj\n%%EOF",
        "image.pdf",
    ),
    ("html-login-page", lambda: HTML_LOGIN, "image.html_page"),
    ("html-with-bom", lambda: b"\xef\xbb\xbf  <html><body>hi</body></html>", "image.html_page"),
    ("bomb-20000x20000", lambda: huge_gray_png(20000, 20000), "image.bomb"),
    ("bomb-10000x10000-warning-zone", lambda: huge_gray_png(10000, 10000), "image.bomb"),
    ("animated-gif", lambda: animated("GIF"), "image.animated"),
    ("animated-webp", lambda: animated("WEBP"), "image.animated"),
    ("apng", lambda: animated("PNG"), "image.animated"),
    ("static-gif", lambda: encode(Image.new("P", (8, 8)), "GIF"), "image.unsupported_type"),
    ("zero-bytes", lambda: b"", "image.empty"),
    (
        "svg",
        lambda: b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
        "image.unsupported_type",
    ),
    ("bmp", lambda: encode(noise(8, 8), "BMP"), "image.unsupported_type"),
    ("tiff", lambda: encode(noise(8, 8), "TIFF"), "image.unsupported_type"),
    ("ico", lambda: encode(noise(16, 16), "ICO"), "image.unsupported_type"),
    (
        "heic",
        lambda: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64),
        "image.unsupported_type",
    ),
    (
        "mp4",
        lambda: b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(64),
        "image.unsupported_type",
    ),
    ("zip", lambda: b"PK\x03\x04" + bytes(100), "image.unsupported_type"),
    (
        "text-file",
        lambda: b"hello, this is a cat picture, trust me\n" * 20,
        "image.unsupported_type",
    ),
    ("json", lambda: b'{"error": "not_authed", "ok": false}', "image.unsupported_type"),
    (
        "random-bytes",
        lambda: random.Random(42).randbytes(5000).replace(b"\xff", b"\x00"),
        "image.unsupported_type",
    ),
    ("jpeg-garbage-after-header", jpeg_garbage_after_header, "image.corrupt"),
    ("jpeg-garbage-in-scan-and-cut", jpeg_garbage_in_scan, "image.truncated"),
    ("png-bad-ihdr-crc", bad_crc_png, "image.corrupt"),
    ("png-zero-width", zero_width_png, "image.corrupt"),
    ("png-magic-then-html", lambda: b"\x89PNG\r\n\x1a\n" + HTML_LOGIN, "image.corrupt"),
    ("webp-riff-garbage", lambda: b"RIFF\x20\x00\x00\x00WEBPVP8 " + bytes(24), "image.corrupt"),
]


def assert_plain(params: dict[str, object]) -> None:
    for value in params.values():
        assert value is None or isinstance(value, (str, int, float, bool)), params


async def refusal(data: bytes, **kw: object) -> InvalidImage:
    kw.setdefault("name", "cat.png")
    with pytest.raises(InvalidImage) as caught:
        await intake(data, **kw)  # type: ignore[arg-type]
    exc = caught.value
    assert exc.key in KEYS
    assert_plain(exc.params)
    return exc


# ------------------------------------------------------------------------------------------------
# Refusals


@pytest.mark.parametrize(
    ("builder", "key"), [(b, k) for _, b, k in BAD_INPUTS], ids=[i for i, _, _ in BAD_INPUTS]
)
async def test_bad_input_is_refused_with_its_own_key(
    builder: Callable[[], bytes], key: str
) -> None:
    exc = await refusal(builder(), name="cat.png")
    assert exc.key == key
    if key != "image.too_many":
        assert exc.params["name"] == "cat.png"


def test_there_are_at_least_25_distinct_bad_inputs() -> None:
    assert len({i for i, _, _ in BAD_INPUTS}) >= 25


@pytest.mark.parametrize(
    ("builder", "detected"),
    [
        (lambda: b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "svg"),
        (lambda: encode(noise(8, 8), "BMP"), "bmp"),
        (lambda: encode(noise(8, 8), "TIFF"), "tiff"),
        (lambda: encode(Image.new("P", (8, 8)), "GIF"), "gif"),
        (lambda: b"\x00\x00\x00\x18ftypheic" + bytes(64), "heic"),
        (lambda: b"\x00\x00\x00\x18ftypavif" + bytes(64), "avif"),
        (lambda: b"just words\n", "text"),
        (lambda: bytes(range(256)) * 4, "unknown"),
    ],
)
async def test_unsupported_type_names_what_was_found(
    builder: Callable[[], bytes], detected: str
) -> None:
    exc = await refusal(builder())
    assert exc.key == "image.unsupported_type"
    assert exc.params["detected"] == detected


async def test_declared_60mb_is_refused_before_looking_at_the_bytes() -> None:
    exc = await refusal(b"", declared_size=60 * MB)
    assert exc.key == "image.too_large"
    assert exc.params == {"name": "cat.png", "size_mb": 60.0, "limit_mb": 25.0}


async def test_actual_60mb_is_refused() -> None:
    data = small_png() + bytes(60 * MB)
    exc = await refusal(data, declared_size=1000)  # the platform may understate it
    assert exc.key == "image.too_large"
    assert exc.params["size_mb"] == pytest.approx(60.0, abs=0.1)


def test_precheck_refuses_from_metadata_alone() -> None:
    with pytest.raises(InvalidImage) as caught:
        precheck(name="a.png", declared_size=26 * MB)
    assert caught.value.key == "image.too_large"
    with pytest.raises(InvalidImage) as caught:
        precheck(name="a.pdf", declared_size=10, declared_type="application/pdf")
    assert caught.value.key == "image.pdf"
    with pytest.raises(InvalidImage) as caught:
        precheck(name="a.mp4", declared_size=10, declared_type="video/mp4")
    assert caught.value.key == "image.unsupported_type"
    precheck(name="a.png", declared_size=10, declared_type="image/png")  # fine
    precheck(name="a.bin", declared_size=None, declared_type="application/octet-stream")


async def test_declared_type_never_makes_a_non_image_acceptable() -> None:
    exc = await refusal(HTML_LOGIN, declared_type="image/png")
    assert exc.key == "image.html_page"


async def test_custom_pixel_limit_is_a_bomb_refusal_with_the_size() -> None:
    exc = await refusal(small_png(), limits=IntakeLimits(max_pixels=1000))
    assert exc.key == "image.bomb"
    assert (exc.params["width"], exc.params["height"]) == (64, 48)


async def test_bomb_params_carry_the_header_size() -> None:
    exc = await refusal(huge_gray_png(20000, 20000))
    assert (exc.params["width"], exc.params["height"]) == (20000, 20000)


def test_bomb_guard_is_left_on() -> None:
    assert Image.MAX_IMAGE_PIXELS is not None


async def test_seventeen_images_are_refused_before_any_work() -> None:
    items = [(b"not even an image", f"{i}.png", None, None) for i in range(17)]
    with pytest.raises(InvalidImage) as caught:
        await intake_many(items)
    assert caught.value.key == "image.too_many"
    assert caught.value.params == {"count": 17, "limit": 16}


async def test_intake_many_raises_the_first_bad_item_in_order() -> None:
    items = [
        (small_png(), "ok.png", None, None),
        (small_png()[:40], "second.png", None, None),
        (b"%PDF-1.4", "third.png", None, None),
    ]
    with pytest.raises(InvalidImage) as caught:
        await intake_many(items)
    assert caught.value.key == "image.truncated"
    assert caught.value.params["name"] == "second.png"


async def test_exception_text_never_reaches_params() -> None:
    exc = await refusal(jpeg_garbage_after_header())
    assert set(exc.params) == {"name"}
    assert "BytesIO" not in repr(exc)


# ------------------------------------------------------------------------------------------------
# Good inputs


def reopen(prepared: PreparedImage) -> Image.Image:
    img = Image.open(io.BytesIO(prepared.data))
    img.load()
    assert img.size == (prepared.width, prepared.height)
    assert Image.MIME[img.format or ""] == prepared.mime
    return img


def assert_no_metadata(prepared: PreparedImage) -> None:
    data = prepared.data
    for marker in (
        b"Exif",
        b"ICC_PROFILE",
        b"iCCP",
        b"tEXt",
        b"zTXt",
        b"iTXt",
        b"eXIf",
        b"ns.adobe.com/xap",
        b"GPS",
        b"secret",
    ):
        assert marker not in data, marker
    img = reopen(prepared)
    assert not img.getexif()
    assert "icc_profile" not in img.info
    assert "xmp" not in img.info


@pytest.mark.parametrize(
    ("builder", "mime"),
    [(small_png, "image/jpeg"), (small_jpeg, "image/jpeg"), (small_webp, "image/jpeg")],
    ids=["png", "jpeg", "webp"],
)
async def test_accepted_formats(builder: Callable[[], bytes], mime: str) -> None:
    out = await intake(builder(), name="x.bin")
    assert (out.width, out.height, out.source_width, out.source_height) == (64, 48, 64, 48)
    assert out.mime == mime  # noisy RGB: JPEG is smaller even from a PNG
    assert_no_metadata(out)


async def test_name_is_sanitized_and_extension_follows_the_content() -> None:
    out = await intake(small_png(), name="../../etc/my cat?.png")
    assert out.name == "my_cat.jpg"
    assert display_name("C:\\Users\\x\\pic.png\x00\n") == "pic.png"


async def test_cmyk_jpeg_comes_out_rgb() -> None:
    cmyk = Image.new("CMYK", (120, 80), (0, 255, 255, 0))  # pure red in CMYK
    out = await intake(encode(cmyk, "JPEG", quality=95), name="print.jpg")
    img = reopen(out)
    assert img.mode == "RGB"
    r, g, b = img.getpixel((60, 40))  # type: ignore[misc]
    assert r > 200 and g < 60 and b < 60


async def test_sixteen_bit_gray_png_is_scaled_not_clipped() -> None:
    raw = b"".join(struct.pack(">H", 257 * (x * 255 // 99)) for x in range(100))
    img16 = Image.frombytes("I;16B", (100, 1), raw).resize((100, 20))
    out = await intake(encode(img16, "PNG"), name="depth.png")
    img = reopen(out).convert("L")
    left, right = img.getpixel((2, 10)), img.getpixel((97, 10))
    assert isinstance(left, int) and isinstance(right, int)
    assert left < 30 and right > 220  # a plain convert("L") would clip it all to white
    assert out.mime in ("image/png", "image/jpeg")


async def test_sixteen_bit_rgba_png_keeps_alpha() -> None:
    w, h = 4, 2
    row = struct.pack(">HHHH", 65535, 0, 0, 0) * 2 + struct.pack(">HHHH", 0, 65535, 0, 65535) * 2
    raw = (b"\x00" + row) * h
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 6, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(raw))
        + png_chunk(b"IEND", b"")
    )
    out = await intake(data, name="deep.png")
    img = reopen(out)
    assert out.mime == "image/png" and img.mode == "RGBA"
    assert img.getpixel((0, 0))[3] == 0  # type: ignore[index]
    assert img.getpixel((3, 0)) == (0, 255, 0, 255)


async def test_palette_with_transparency_keeps_alpha() -> None:
    pal = Image.new("P", (40, 40), 0)
    pal.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    pal.paste(1, (20, 0, 40, 40))
    out = await intake(encode(pal, "PNG", transparency=0), name="sticker.png")
    img = reopen(out)
    assert out.mime == "image/png" and img.mode == "RGBA"
    assert img.getpixel((5, 5))[3] == 0  # type: ignore[index]
    assert img.getpixel((30, 5)) == (0, 0, 255, 255)


@pytest.mark.parametrize("mode", ["LA", "1", "L", "P"])
async def test_other_modes_are_normalized(mode: str) -> None:
    src = photo(50, 30).convert(mode)
    out = await intake(encode(src, "PNG"), name="m.png")
    img = reopen(out)
    assert img.mode in ("RGB", "RGBA")
    # one band: getextrema() is (lowest, highest)
    alpha_low = src.getchannel("A").getextrema()[0] if mode == "LA" else 255
    assert isinstance(alpha_low, int | float)
    assert img.mode == ("RGBA" if alpha_low < 255 else "RGB")


async def test_la_with_transparent_pixels_keeps_alpha() -> None:
    la = Image.new("LA", (20, 20), (128, 255))
    la.paste((0, 0), (0, 0, 10, 20))
    out = await intake(encode(la, "PNG"), name="la.png")
    img = reopen(out)
    assert img.mode == "RGBA" and img.getpixel((1, 1))[3] == 0  # type: ignore[index]


async def test_opaque_alpha_is_dropped_so_jpeg_can_be_used() -> None:
    rgba = photo(300, 200).convert("RGBA")
    out = await intake(encode(rgba, "PNG"), name="opaque.png")
    assert out.mime == "image/jpeg"


async def test_exif_rotated_jpeg_comes_out_rotated_without_exif() -> None:
    img = Image.new("RGB", (200, 100), "white")
    img.paste((255, 0, 0), (0, 0, 50, 100))  # red on the stored image's left edge
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    exif[0x010F] = "SecretCam"
    data = encode(img, "JPEG", quality=95, exif=exif.tobytes())
    out = await intake(data, name="phone.jpg")
    assert (out.width, out.height) == (100, 200)
    assert (out.source_width, out.source_height) == (100, 200)
    shown = reopen(out)
    assert shown.getpixel((50, 10))[0] > 200 and shown.getpixel((50, 10))[1] < 60  # type: ignore[index]
    assert shown.getpixel((50, 190))[1] > 200  # type: ignore[index]
    assert_no_metadata(out)
    assert b"SecretCam" not in out.data


async def test_large_photo_is_downscaled_and_smaller() -> None:
    data = encode(photo(4000, 3000), "JPEG", quality=95)
    out = await intake(data, name="big.jpg")
    assert (out.width, out.height) == (1536, 1152)
    assert (out.source_width, out.source_height) == (4000, 3000)
    assert out.mime == "image/jpeg"
    assert len(out.data) < len(data) / 4


async def test_portrait_png_downscaled_by_longest_side() -> None:
    out = await intake(encode(photo(1000, 3000), "PNG"), name="tall.png")
    assert (out.width, out.height) == (512, 1536)


async def test_screenshot_like_png_stays_png_when_smaller() -> None:
    img = Image.new("RGB", (800, 600), "white")
    for y in range(0, 600, 40):
        img.paste((30, 30, 30), (20, y, 700, y + 8))
    out = await intake(encode(img, "PNG"), name="shot.png")
    assert out.mime == "image/png"
    assert out.name == "shot.png"


async def test_metadata_is_stripped_from_png_and_jpeg() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret location")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta xmlns:x='adobe:ns:meta/'>secret</x:xmpmeta>")
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    src = noise(64, 64, "RGBA")
    png = encode(src, "PNG", pnginfo=info, icc_profile=srgb)
    assert b"secret" in png and b"iCCP" in png
    out_png = await intake(png, name="meta.png")
    assert_no_metadata(out_png)

    exif = Image.Exif()
    exif[0x010E] = "secret description"
    xmp = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>secret</x:xmpmeta>"
    jpg = encode(
        photo(64, 64), "JPEG", exif=exif.tobytes(), icc_profile=srgb, xmp=xmp, comment=b"secret"
    )
    assert b"secret" in jpg
    out_jpg = await intake(jpg, name="meta.jpg")
    assert_no_metadata(out_jpg)


def rgb_icc_profile(red: tuple[float, float, float], green: tuple[float, float, float]) -> bytes:
    """A minimal ICC v2 matrix/TRC display profile (D50 PCS, gamma 2.2) with chosen primaries."""

    def s15(v: float) -> bytes:
        return struct.pack(">i", round(v * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + bytes(4) + s15(x) + s15(y) + s15(z)

    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, round(2.2 * 256)) + bytes(2)
    desc_text = b"pixelsmith test\x00"
    desc = (
        b"desc"
        + bytes(4)
        + struct.pack(">I", len(desc_text))
        + desc_text
        + bytes(4 + 4 + 2 + 1 + 67)
    )
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(*red)),
        (b"gXYZ", xyz(*green)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, blobs = b"", b""
    for sig, data in tags:
        blob = data + bytes(-len(data) % 4)
        table += sig + struct.pack(">II", offset + len(blobs), len(blob))
        blobs += blob
    size = offset + len(blobs)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(4 + 4 + 4 + 4 + 8 + 4)
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + bytes(4 + 16 + 28)
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + blobs


SRGB_RED_D50 = (0.4361, 0.2225, 0.0139)
SRGB_GREEN_D50 = (0.3851, 0.7169, 0.0971)


async def test_icc_profile_is_applied_before_it_is_dropped() -> None:
    # A profile whose "red" channel is sRGB's green: a tagged (255, 0, 0) must arrive green.
    swapped = rgb_icc_profile(red=SRGB_GREEN_D50, green=SRGB_RED_D50)
    data = encode(Image.new("RGB", (16, 16), (255, 0, 0)), "PNG", icc_profile=swapped)
    out = await intake(data, name="wide.png")
    r, g, b = reopen(out).getpixel((8, 8))  # type: ignore[misc]
    assert g > 200 and r < 60 and b < 60
    assert_no_metadata(out)


async def test_broken_icc_profile_is_ignored_not_refused() -> None:
    data = encode(Image.new("RGB", (16, 16), (255, 0, 0)), "PNG", icc_profile=b"garbage" * 20)
    out = await intake(data, name="odd.png")
    assert reopen(out).getpixel((8, 8))[0] > 200  # type: ignore[index]


async def test_intake_many_keeps_order() -> None:
    items = [(encode(photo(100 + i, 50), "PNG"), f"{i}.png", None, "image/png") for i in range(5)]
    out = await intake_many(items)
    assert [p.width for p in out] == [100, 101, 102, 103, 104]
    assert [p.name for p in out] == [f"{i}.jpg" for i in range(5)]


def test_sniff_tokens() -> None:
    assert sniff(small_png()) == "png"
    assert sniff(small_jpeg()) == "jpeg"
    assert sniff(small_webp()) == "webp"
    assert sniff(HTML_LOGIN) == "html"
    assert sniff(b"%PDF-1.4") == "pdf"
    assert sniff(os.urandom(0)) == "unknown"


# ------------------------------------------------------------------------------------------------
# Masks


async def reference(w: int = 4000, h: int = 3000) -> PreparedImage:
    return await intake(encode(photo(w, h), "JPEG", quality=85), name="ref.jpg")


def fake_reference() -> PreparedImage:
    """What intake returns for a 4000x3000 photo (without paying for one in every test)."""
    return PreparedImage(
        data=b"", mime="image/jpeg", width=1536, height=1152, source_width=4000, source_height=3000
    )


def mask_png(w: int, h: int, *, mode: str = "RGBA") -> bytes:
    m = Image.new("RGBA", (w, h), (0, 0, 0, 255))
    m.paste((0, 0, 0, 0), (0, 0, w // 2, h // 2))
    if mode == "RGBA":
        return encode(m, "PNG")
    if mode == "LA":
        return encode(m.convert("LA"), "PNG")
    if mode == "P":
        pal = Image.new("P", (w, h), 1)
        pal.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
        pal.paste(0, (0, 0, w // 2, h // 2))
        return encode(pal, "PNG", transparency=0)
    if mode == "RGB+tRNS":
        rgb = Image.new("RGB", (w, h), (255, 255, 255))
        rgb.paste((0, 0, 0), (0, 0, w // 2, h // 2))
        return encode(rgb, "PNG", transparency=(0, 0, 0))
    raise AssertionError(mode)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "RGB+tRNS"])
async def test_mask_is_resized_to_the_prepared_image(mode: str) -> None:
    ref = await reference() if mode == "RGBA" else fake_reference()
    out = await intake_mask(mask_png(4000, 3000, mode=mode), name="mask.png", reference=ref)
    img = reopen(out)
    assert out.mime == "image/png" and img.mode == "RGBA"
    assert (out.width, out.height) == (ref.width, ref.height) == (1536, 1152)
    assert img.getpixel((10, 10))[3] == 0  # type: ignore[index]
    assert img.getpixel((1500, 1100))[3] == 255  # type: ignore[index]
    assert len(out.data) < 4 * MB


async def test_mask_made_from_the_photo_keeps_only_the_alpha() -> None:
    ref = await reference(1800, 1200)
    painted = photo(1800, 1200).convert("RGBA")
    painted.paste((0, 0, 0, 0), (100, 100, 900, 600))
    data = encode(painted, "PNG")
    assert len(data) < 4 * MB
    out = await intake_mask(data, name="m.png", reference=ref)
    assert (out.width, out.height) == (1536, 1024)
    assert len(out.data) < len(data) / 20
    img = reopen(out)
    assert img.getpixel((200, 200)) == (0, 0, 0, 0)
    assert img.getpixel((1500, 1000))[3] == 255  # type: ignore[index]


@pytest.mark.parametrize(
    ("builder", "key"),
    [
        (lambda: mask_png(3999, 3000), "image.mask_size_mismatch"),
        (lambda: encode(Image.new("RGB", (4000, 3000)), "PNG"), "image.mask_no_alpha"),
        (lambda: encode(Image.new("L", (4000, 3000)), "PNG"), "image.mask_no_alpha"),
        (
            lambda: encode(Image.new("RGBA", (4000, 3000), (0, 0, 0, 255)), "PNG"),
            "image.mask_opaque",
        ),
        (lambda: encode(Image.new("RGB", (4000, 3000)), "JPEG"), "image.mask_not_png"),
        (
            lambda: encode(Image.new("RGBA", (4000, 3000)), "WEBP", lossless=True),
            "image.mask_not_png",
        ),
        (lambda: b"%PDF-1.4 mask", "image.mask_not_png"),
        (lambda: HTML_LOGIN, "image.html_page"),
        (lambda: b"\x89PNG\r\n\x1a\n" + noise(1500, 1000).tobytes(), "image.mask_too_large"),
        (lambda: b"", "image.empty"),
        (lambda: mask_png(4000, 3000)[:300], "image.truncated"),
        (lambda: animated("PNG"), "image.animated"),
    ],
    ids=[
        "wrong-size",
        "rgb-no-alpha",
        "gray-no-alpha",
        "all-opaque",
        "jpeg",
        "webp",
        "pdf",
        "html",
        "5mb",
        "empty",
        "truncated",
        "apng",
    ],
)
async def test_bad_masks(builder: Callable[[], bytes], key: str) -> None:
    ref = fake_reference()
    with pytest.raises(InvalidImage) as caught:
        await intake_mask(builder(), name="mask.png", reference=ref)
    assert caught.value.key == key
    assert_plain(caught.value.params)


async def test_mask_size_mismatch_names_both_sizes() -> None:
    ref = fake_reference()
    with pytest.raises(InvalidImage) as caught:
        await intake_mask(mask_png(1536, 1152), name="mask.png", reference=ref)
    assert caught.value.params == {
        "name": "mask.png",
        "mask_w": 1536,
        "mask_h": 1152,
        "image_w": 4000,
        "image_h": 3000,
    }
