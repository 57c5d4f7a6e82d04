"""Tiny image helpers shared by the fakes and tests: real PNG bytes, fast, cached."""

from __future__ import annotations

import io
import os
from functools import lru_cache

from PIL import Image

PALETTE: tuple[tuple[int, int, int], ...] = (
    (220, 60, 60),
    (60, 160, 80),
    (50, 90, 210),
    (230, 180, 40),
    (150, 70, 190),
    (40, 180, 190),
    (240, 120, 30),
    (120, 120, 120),
    (200, 90, 150),
    (90, 60, 30),
)


def parse_size(size: str | None, default: tuple[int, int] = (1024, 1024)) -> tuple[int, int]:
    """'1536x1024' -> (1536, 1024); None/'auto'/garbage -> default."""
    if not size or size == "auto":
        return default
    try:
        w, h = size.lower().split("x", 1)
        return int(w), int(h)
    except ValueError:
        return default


@lru_cache(maxsize=64)
def solid_png(
    width: int, height: int, color: tuple[int, int, int] = PALETTE[0], mode: str = "RGB"
) -> bytes:
    """A single-colour PNG of the given size (a few KB even at 1536x1024)."""
    fill: tuple[int, ...] = color if mode == "RGB" else (*color, 255)
    img = Image.new(mode, (width, height), fill)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def png_for_index(width: int, height: int, index: int) -> bytes:
    """Distinguishable outputs: image i of a response has PALETTE[i % len] as colour."""
    return solid_png(width, height, PALETTE[index % len(PALETTE)])


@lru_cache(maxsize=8)
def noise_png(width: int = 1024, height: int = 1024) -> bytes:
    """Incompressible random-noise PNG (~3 MB at 1024x1024), generated once per size."""
    raw = os.urandom(width * height * 3)
    img = Image.frombytes("RGB", (width, height), raw)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def encode(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def jpeg_bytes(width: int, height: int, color: tuple[int, int, int] = PALETTE[2]) -> bytes:
    return encode(Image.new("RGB", (width, height), color), "JPEG")


def mask_png(width: int, height: int) -> bytes:
    """RGBA mask: transparent (alpha 0) left half = the area to edit, opaque right half."""
    img = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    img.paste((0, 0, 0, 0), (0, 0, width // 2, height))
    return encode(img, "PNG")


def sniff(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) read from the content, or None when Pillow cannot tell."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return (img.format or "?", img.width, img.height)
    except Exception:
        return None


def sketch_png(width: int, height: int) -> bytes:
    """A sketch (the SDK's ``markup``): a red stroke on a transparent canvas."""
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    img.paste((255, 0, 0, 255), (width // 4, height // 4, width // 2, height // 2))
    return encode(img, "PNG")
