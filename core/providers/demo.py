"""The offline demo provider: draws labelled placeholder PNGs locally. No network, no key, no cost.

Every image says DEMO in large letters so nobody mistakes it for a real generation.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

from core.providers.base import ProviderCall
from core.types import GeneratedImage, Progress, ProgressCallback, ProviderResult, Stage


def _size(size: str | None) -> tuple[int, int]:
    if not size:
        return 1024, 1024
    w, h = size.lower().split("x")
    return int(w), int(h)


def draw_placeholder(prompt: str, size: str | None, index: int, model: str) -> bytes:
    """A gradient card with the prompt, the model and a DEMO banner, as PNG bytes."""
    width, height = _size(size)
    seed = hashlib.sha256(f"{prompt}|{index}".encode()).digest()
    top, bottom = seed[:3], seed[3:6]
    base = Image.new("RGB", (1, 256))
    for y in range(256):
        t = y / 255
        base.putpixel((0, y), tuple(int(top[c] * (1 - t) + bottom[c] * t) for c in range(3)))
    img = base.resize((width, height))
    draw = ImageDraw.Draw(img)
    big = ImageFont.load_default(size=max(24, width // 8))
    small = ImageFont.load_default(size=max(14, width // 40))
    draw.rectangle((0, 0, width, height // 6), fill=(20, 20, 20))
    draw.text((width // 2, height // 12), "DEMO", font=big, fill=(255, 215, 0), anchor="mm")
    body = "\n".join(textwrap.wrap(prompt, width=max(20, width // 22))[:12])
    draw.multiline_text(
        (width // 16, height // 4),
        body,
        font=small,
        fill=(255, 255, 255),
        stroke_width=2,
        stroke_fill=(0, 0, 0),
    )
    footer = f"pixelsmith demo provider - {model} - {width}x{height} - #{index + 1}"
    draw.text(
        (width // 16, height - height // 12),
        footer,
        font=small,
        fill=(255, 255, 255),
        stroke_width=2,
        stroke_fill=(0, 0, 0),
    )
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=1)
    return out.getvalue()


class DemoProvider:
    """Placeholder images drawn locally; used by ``provider.kind = "demo"`` and without a key."""

    demo = True

    def __init__(self, latency_s: float = 0.0) -> None:
        self._latency = latency_s

    async def list_models(self) -> list[str]:
        return []

    async def close(self) -> None:
        return None

    async def run(self, call: ProviderCall, on_progress: ProgressCallback | None) -> ProviderResult:
        req = call.request
        if on_progress:
            await on_progress(Progress(Stage.GENERATING, percent=0))
        if self._latency:
            await asyncio.sleep(self._latency)
        size = req.size or (f"{req.images[0].width}x{req.images[0].height}" if req.images else None)
        images = []
        for i in range(req.n):
            data = await asyncio.to_thread(draw_placeholder, req.prompt, size, i, req.model)
            w, h = _size(size)
            images.append(GeneratedImage(data=data, mime="image/png", width=w, height=h))
        if on_progress:
            await on_progress(Progress(Stage.DONE, percent=100))
        return ProviderResult(images=tuple(images), usage=None)
