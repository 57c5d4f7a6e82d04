"""Packing generated images into a platform's upload limits.

Contract:

- A file that fits is sent byte for byte (PNG stays PNG). One that does not is re-encoded, in
  order, to WEBP q90, then lossy steps (JPEG q85..q60 for opaque images, WEBP q80..q60 when
  there is transparency, which JPEG would lose), then downscaled in steps of 0.8 until it fits.
  A ``Note("output.reencoded", {"count": n, "downscaled": m})`` says how many were touched.
- Files are split across messages honouring ``max_files_per_message`` and
  ``max_message_bytes``; order is kept.
- After a 413 (the platform's real limit was lower than believed), call :func:`repack_smaller`
  with the same images and the limits that failed.
- Pillow work runs in the shared image thread pool, never on the event loop.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from PIL import Image

from core.errors import Note, PixelsmithError
from core.images import IntakeLimits, open_guarded, run_cpu, sniff
from core.types import GeneratedImage

__all__ = ["OutputFile", "UploadLimits", "pack_outputs", "repack_smaller", "smaller_limits"]

PACKING_KEYS: frozenset[str] = frozenset(
    {
        "output.reencoded",  # Note: count, downscaled
        "output.too_large",  # PixelsmithError: limit_mb (nothing fits, even downscaled)
        "output.unreadable",  # PixelsmithError: an output too large to send as is is no image
    }
)

_MIN_SIDE = 256  # below this a "fitting" image is useless: refuse instead
_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


@dataclass(frozen=True)
class UploadLimits:
    """What one platform accepts. ``max_message_bytes`` None = no per-message total.

    Adapters pass real values read at run time (Discord: ``Interaction.filesize_limit``) and keep
    their own margin for multipart overhead in ``max_message_bytes``.
    """

    max_file_bytes: int
    max_files_per_message: int = 10
    max_message_bytes: int | None = None


@dataclass(frozen=True)
class OutputFile:
    data: bytes
    filename: str
    mime: str
    reencoded: bool


def smaller_limits(limits: UploadLimits, factor: float = 0.5) -> UploadLimits:
    """The limits to retry with after the platform answered 413 with ``limits``."""
    return replace(
        limits,
        max_file_bytes=max(1, int(limits.max_file_bytes * factor)),
        max_message_bytes=(
            None
            if limits.max_message_bytes is None
            else max(1, int(limits.max_message_bytes * factor))
        ),
    )


def _cap(limits: UploadLimits) -> int:
    if limits.max_message_bytes is None:
        return limits.max_file_bytes
    return min(limits.max_file_bytes, limits.max_message_bytes)


def _encode(img: Image.Image, fmt: str, quality: int) -> bytes:
    buf = io.BytesIO()
    if fmt == "WEBP":
        img.save(buf, "WEBP", quality=quality, method=4)
    else:
        img.save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def _open(data: bytes) -> Image.Image:
    try:
        img = open_guarded(data, ["PNG", "JPEG", "WEBP"], IntakeLimits().max_pixels)
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError, EOFError):
        raise PixelsmithError("output.unreadable") from None
    if img.mode not in ("RGB", "RGBA"):
        has_alpha = "A" in img.getbands() or "transparency" in img.info
        img = img.convert("RGBA" if has_alpha else "RGB")
    if img.mode == "RGBA" and img.getchannel("A").getextrema() == (255, 255):
        img = img.convert("RGB")
    img.info = {}
    return img


def _shrink(data: bytes, cap: int) -> tuple[bytes, str, bool]:
    """Re-encode until ``len <= cap``; returns (bytes, mime, downscaled)."""
    img = _open(data)
    alpha = img.mode == "RGBA"
    steps: list[tuple[str, int]] = [("WEBP", 90)]
    steps += [("WEBP", q) for q in (80, 70, 60)] if alpha else [("JPEG", q) for q in (85, 75, 60)]
    for fmt, quality in steps:
        out = _encode(img, fmt, quality)
        if len(out) <= cap:
            return out, f"image/{fmt.lower()}", False
    fmt, quality = ("WEBP", 75) if alpha else ("JPEG", 75)
    while min(img.size) * 0.8 >= _MIN_SIDE:
        size = (max(1, round(img.width * 0.8)), max(1, round(img.height * 0.8)))
        img = img.resize(size, Image.Resampling.LANCZOS)
        out = _encode(img, fmt, quality)
        if len(out) <= cap:
            return out, f"image/{fmt.lower()}", True
    raise PixelsmithError("output.too_large", limit_mb=round(cap / (1024 * 1024), 2))


def _stem(stem: str) -> str:
    return re.sub(r"[^\w.-]+", "_", stem, flags=re.ASCII).strip("._")[:60] or "pixelsmith"


def _mime_of(image: GeneratedImage | OutputFile) -> str:
    fmt = sniff(image.data[:4096])
    return _MIME.get(fmt, image.mime)


def _pack_sync(
    images: Sequence[GeneratedImage | OutputFile], limits: UploadLimits, stem: str
) -> tuple[list[list[OutputFile]], list[Note]]:
    cap = _cap(limits)
    base = _stem(stem)
    files: list[OutputFile] = []
    reencoded = downscaled = 0
    for index, image in enumerate(images, start=1):
        name = base if len(images) == 1 else f"{base}-{index}"
        if len(image.data) <= cap:
            mime, data, touched = _mime_of(image), image.data, False
        else:
            data, mime, smaller = _shrink(image.data, cap)
            touched = True
            reencoded += 1
            downscaled += int(smaller)
        files.append(OutputFile(data, f"{name}.{_EXT.get(mime, 'bin')}", mime, touched))

    batches: list[list[OutputFile]] = []
    current: list[OutputFile] = []
    current_bytes = 0
    for file in files:
        over_count = len(current) >= max(1, limits.max_files_per_message)
        over_bytes = (
            limits.max_message_bytes is not None
            and current_bytes + len(file.data) > limits.max_message_bytes
        )
        if current and (over_count or over_bytes):
            batches.append(current)
            current, current_bytes = [], 0
        current.append(file)
        current_bytes += len(file.data)
    if current:
        batches.append(current)

    notes = []
    if reencoded:
        notes.append(Note("output.reencoded", {"count": reencoded, "downscaled": downscaled}))
    return batches, notes


async def pack_outputs(
    images: Sequence[GeneratedImage | OutputFile],
    limits: UploadLimits,
    *,
    stem: str = "pixelsmith",
) -> tuple[list[list[OutputFile]], list[Note]]:
    """Fit ``images`` into ``limits``: a list of messages (each a list of files) and notes.

    Raises ``PixelsmithError("output.too_large")`` when an image cannot fit even downscaled.
    """
    if not images:
        return [], []
    return await run_cpu(_pack_sync, list(images), limits, stem)


async def repack_smaller(
    images: Sequence[GeneratedImage | OutputFile],
    failed: UploadLimits,
    *,
    stem: str = "pixelsmith",
    factor: float = 0.5,
) -> tuple[list[list[OutputFile]], list[Note], UploadLimits]:
    """Pack again after a 413 with ``failed`` limits; returns the new limits for a further retry.

    Pass the original images (re-encoding from the source is better than re-encoding again).
    """
    limits = smaller_limits(failed, factor)
    batches, notes = await pack_outputs(images, limits, stem=stem)
    return batches, notes, limits
