"""Attachment intake: sniff, sanitize, normalize and downscale images before they go upstream.

Contract (every adapter and provider relies on it):

- Images are opened by **content**, never by name or declared type: PNG, JPEG and WEBP only.
  Everything else is refused with a specific :class:`core.errors.InvalidImage` key (see
  :data:`KEYS`); params are plain data (names, numbers, short format tokens), never exception text.
- Pillow's decompression-bomb guard stays on and is turned into a refusal (``image.bomb``);
  truncated files are refused (a full decode is forced).
- The output carries no metadata: EXIF orientation is applied first, then EXIF/XMP/ICC/text chunks
  are dropped (embedded ICC profiles are converted to sRGB before being dropped).
- Every mode is normalized to RGB, or RGBA when the image really has transparency; the longest side
  is brought down to ``max_side`` and the result recompressed (PNG with alpha; otherwise JPEG q90,
  or PNG when it is smaller for a lossless source such as a screenshot).
- CPU work runs in a small thread pool (cores - 1 threads, at least one), never on the event
  loop; that pool is also the global bound on concurrent decodes (memory, GIL and CPU pressure).
  Leaving one core to the event loop is what keeps its lag low on small machines
  (``bench/preprocess.py`` measures it).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import os
import re
import struct
import threading
import unicodedata
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import InvalidImage
from core.types import GeneratedImage, PreparedImage

__all__ = [
    "KEYS",
    "IntakeItem",
    "IntakeLimits",
    "configure_cpu_pool",
    "default_cpu_workers",
    "intake",
    "intake_many",
    "intake_mask",
    "open_guarded",
    "precheck",
    "run_cpu",
    "sniff",
]

KEYS: frozenset[str] = frozenset(
    {
        "image.too_large",  # name, size_mb (None if unknown), limit_mb
        "image.empty",  # name
        "image.unsupported_type",  # name, detected
        "image.html_page",  # name
        "image.pdf",  # name
        "image.animated",  # name, detected
        "image.truncated",  # name
        "image.corrupt",  # name
        "image.bomb",  # name, width, height, limit_pixels
        "image.too_many",  # count, limit
        "image.mask_not_png",  # name, detected
        "image.mask_no_alpha",  # name
        "image.mask_opaque",  # name
        "image.mask_size_mismatch",  # name, mask_w, mask_h, image_w, image_h
        "image.mask_too_large",  # name, size_mb, limit_mb
    }
)

_MB = 1024 * 1024


@dataclass(frozen=True)
class IntakeLimits:
    """Caps applied to every attachment. ``max_pixels`` is the decompression-bomb threshold."""

    max_bytes: int = 25 * _MB
    max_side: int = 1536
    max_pixels: int = 89_478_485
    max_images: int = 16
    mask_max_bytes: int = 4 * _MB


# (data, name, declared_size, declared_type)
IntakeItem = tuple[bytes, str, int | None, str | None]

# --------------------------------------------------------------------------------------------
# The CPU pool: bounded to the cores so N concurrent requests never decode N images at once.

_T = TypeVar("_T")
_open_lock = threading.Lock()  # warnings.catch_warnings() is process-global: serialize it


def default_cpu_workers() -> int:
    """One thread per core but one: the event loop keeps a core (bench/preprocess.py)."""
    return max(1, (os.cpu_count() or 1) - 1)


class _CpuPool:
    """The process-wide image pool, made on first use with the configured size."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._workers: int | None = None
        self._lock = threading.Lock()

    def configure(self, workers: int | None) -> None:
        with self._lock:
            old, self._executor, self._workers = self._executor, None, workers
        if old is not None:
            old.shutdown(wait=False)

    def executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=max(1, self._workers or default_cpu_workers()),
                    thread_name_prefix="pixelsmith-image",
                )
            return self._executor


_POOL = _CpuPool()


def configure_cpu_pool(workers: int | None) -> None:
    """Size the image pool (None: :func:`default_cpu_workers`). Call at start-up."""
    _POOL.configure(workers)


async def run_cpu(fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
    """Run ``fn`` in the bounded image thread pool (shared by intake and output packing)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_POOL.executor(), functools.partial(fn, *args, **kwargs))


# --------------------------------------------------------------------------------------------
# Sniffing


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # the sample may cut a multi-byte character in half
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    printable = sum(1 for c in text if c.isprintable() or c in "\r\n\t\f")
    return printable >= 0.95 * max(1, len(text))


OUTPUT_MIMES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def read_output(data: bytes, *, decode: bool = False) -> GeneratedImage | None:
    """An image an upstream made, as a :class:`GeneratedImage`; None when it is not one.

    The format is named by content (:func:`sniff`: PNG, JPEG or WEBP only), the size read from
    the header; with ``decode`` every pixel is decoded too, so a truncated body is refused.
    Pillow's decompression-bomb guard stays on. The one reader both providers use.
    """
    mime = OUTPUT_MIMES.get(sniff(data))
    if mime is None:
        return None
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if decode:
                img.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    return GeneratedImage(data=data, mime=mime, width=width, height=height)


def sniff(data: bytes) -> str:
    """Name the format of ``data`` by its first bytes.

    Returns ``png``, ``jpeg``, ``webp`` (accepted) or a short token for what was found instead:
    ``gif``, ``pdf``, ``html``, ``svg``, ``xml``, ``bmp``, ``tiff``, ``ico``, ``heic``, ``avif``,
    ``jxl``, ``jpeg2000``, ``psd``, ``qoi``, ``video``, ``zip``, ``gzip``, ``json``, ``text``,
    ``unknown``.
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data.startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return "pdf"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"avif", b"avis"):
            return "avif"
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"):
            return "heic"
        return "video"
    if data.startswith(b"\xff\x0a") or data.startswith(b"\x00\x00\x00\x0cJXL "):
        return "jxl"
    if data.startswith(b"\x00\x00\x00\x0cjP  ") or data.startswith(b"\xff\x4f\xff\x51"):
        return "jpeg2000"
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if data.startswith(b"BM") and len(data) >= 26:
        return "bmp"
    if data[:4] in (b"\x00\x00\x01\x00", b"\x00\x00\x02\x00"):
        return "ico"
    if data.startswith(b"8BPS"):
        return "psd"
    if data.startswith(b"qoif"):
        return "qoi"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    if data.startswith(b"\x1f\x8b"):
        return "gzip"
    if data[:4] == b"RIFF" or data[:4] == b"\x1aE\xdf\xa3" or data[:3] == b"ID3":
        return "video"
    head = data[:4096]
    for bom in (b"\xef\xbb\xbf",):
        if head.startswith(bom):
            head = head[len(bom) :]
    stripped = head.lstrip().lower()
    if stripped.startswith(b"<"):
        if stripped.startswith((b"<svg", b"<!doctype svg")) or (
            stripped.startswith((b"<?xml", b"<!--")) and b"<svg" in stripped
        ):
            return "svg"
        if re.search(rb"<(!doctype\s+html|html|head|body|meta|title|script|form|div)\b", stripped):
            return "html"
        return "xml"
    if stripped.startswith((b"{", b"[")) and _looks_like_text(head):
        return "json"
    if _looks_like_text(head):
        return "text"
    return "unknown"


_PIL_FORMAT = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}

# --------------------------------------------------------------------------------------------
# Names


def display_name(name: str) -> str:
    """A short, path-free, control-free version of a user-supplied file name."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    if len(base) > 100:
        base = base[:97] + "..."
    return base or "image"


def _upload_name(name: str, mime: str) -> str:
    base = display_name(name)
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = re.sub(r"[^\w.-]+", "_", stem, flags=re.ASCII).strip("._") or "image"
    return f"{stem[:60]}.{_EXT[mime]}"


def _mb(n: int) -> float:
    return round(n / _MB, 1)


# --------------------------------------------------------------------------------------------
# Checks that need no decoding


def precheck(
    *,
    name: str,
    declared_size: int | None,
    declared_type: str | None = None,
    limits: IntakeLimits = IntakeLimits(),
) -> None:
    """Refuse from the platform's metadata alone, before downloading anything.

    Only what cannot be an image no matter the content is refused here (too large; declared as
    PDF, video, audio or text). The content decides everything else in :func:`intake`.
    """
    shown = display_name(name)
    if declared_size is not None and declared_size > limits.max_bytes:
        raise InvalidImage(
            "image.too_large",
            name=shown,
            size_mb=_mb(declared_size),
            limit_mb=_mb(limits.max_bytes),
        )
    if declared_type:
        mime = declared_type.split(";", 1)[0].strip().lower()
        if mime == "application/pdf":
            raise InvalidImage("image.pdf", name=shown)
        family = mime.split("/", 1)[0]
        if family in ("video", "audio", "text"):
            detected = {"text/html": "html", "image/svg+xml": "svg"}.get(mime, family)
            raise InvalidImage("image.unsupported_type", name=shown, detected=detected)
        if mime == "image/svg+xml":
            raise InvalidImage("image.unsupported_type", name=shown, detected="svg")


def _refuse_format(fmt: str, shown: str, *, mask: bool = False) -> InvalidImage:
    if fmt == "html":
        return InvalidImage("image.html_page", name=shown)
    if mask:
        return InvalidImage("image.mask_not_png", name=shown, detected=fmt)
    if fmt == "pdf":
        return InvalidImage("image.pdf", name=shown)
    return InvalidImage("image.unsupported_type", name=shown, detected=fmt)


def _header_truncated(data: bytes, fmt: str) -> bool:
    """True when the headers run past the end of the data (cut off), not merely malformed."""
    n = len(data)
    if fmt == "png":
        if n >= 16 and data[8:16] != b"\x00\x00\x00\x0dIHDR":
            return False  # not a PNG header at all: corrupt, however long
        pos = 8
        while pos + 8 <= n:
            (length,) = struct.unpack(">I", data[pos : pos + 4])
            if length > 0x7FFFFFFF:
                return False
            if pos + 12 + length > n:
                return True
            if data[pos + 4 : pos + 8] == b"IDAT":
                return False
            pos += 12 + length
        return True
    if fmt == "jpeg":
        i = 2
        while True:
            if i + 2 > n:
                return True
            if data[i] != 0xFF:
                return False
            marker = data[i + 1]
            if marker == 0xFF:
                i += 1
                continue
            if marker == 0xDA:
                return False
            if marker == 0x01 or 0xD0 <= marker <= 0xD8:
                i += 2
                continue
            if i + 4 > n:
                return True
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            if i + 2 + length > n:
                return True
            i += 2 + length
    if fmt == "webp":
        if n < 16:
            return True
        riff_size: int = struct.unpack("<I", data[4:8])[0]
        return n - 8 < riff_size
    return False


def _data_truncated(data: bytes, fmt: str, exc: BaseException) -> bool:
    """After a failed decode: did the data end early? (Pillow says so when a read comes up short.)"""
    if "truncated" in str(exc).lower() or _header_truncated(data, fmt):
        return True
    if fmt == "png":
        return b"IEND" not in data
    if fmt == "jpeg":
        return b"\xff\xd9" not in data
    return False


# --------------------------------------------------------------------------------------------
# Decoding (runs in the pool)


def _draft_size(size: tuple[int, int], max_side: int) -> tuple[int, int] | None:
    w, h = size
    longest = max(w, h)
    if longest <= max_side:
        return None
    k = max_side / longest
    return max(1, int(w * k + 0.999)), max(1, int(h * k + 0.999))


def _open(
    data: bytes, fmt: str, shown: str, limits: IntakeLimits
) -> tuple[Image.Image, tuple[int, int]]:
    """Open by content with the bomb guard as an error.

    Returns the fully decoded image (a large JPEG is decoded at a reduced scale, never below
    ``max_side``) and the stored size from the header.
    """
    pil_format = _PIL_FORMAT[fmt]
    try:
        with _open_lock, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=[pil_format])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow refused before we could read the size: parse it ourselves for the params.
        w, h = _header_size(data, fmt)
        raise InvalidImage(
            "image.bomb", name=shown, width=w, height=h, limit_pixels=limits.max_pixels
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error):
        if _header_truncated(data, fmt):
            raise InvalidImage("image.truncated", name=shown) from None
        raise InvalidImage("image.corrupt", name=shown) from None

    w, h = img.size
    if w <= 0 or h <= 0:
        raise InvalidImage("image.corrupt", name=shown)
    if w * h > limits.max_pixels:
        raise InvalidImage(
            "image.bomb", name=shown, width=w, height=h, limit_pixels=limits.max_pixels
        )
    if fmt in ("png", "webp") and getattr(img, "is_animated", False):
        raise InvalidImage("image.animated", name=shown, detected="apng" if fmt == "png" else fmt)
    # MPO (multi-picture JPEG from phones) decodes as its first, primary frame.

    if fmt == "jpeg":
        target = _draft_size(img.size, limits.max_side)
        if target is not None:
            # libjpeg decodes at 1/2, 1/4, 1/8 scale for free; never below the target size.
            img.draft(img.mode, target)
    try:
        img.load()
    except Image.DecompressionBombError:
        raise InvalidImage(
            "image.bomb", name=shown, width=w, height=h, limit_pixels=limits.max_pixels
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, MemoryError) as exc:
        if _data_truncated(data, fmt, exc):
            raise InvalidImage("image.truncated", name=shown) from None
        raise InvalidImage("image.corrupt", name=shown) from None
    return img, (w, h)


def _header_size(data: bytes, fmt: str) -> tuple[int | None, int | None]:
    """Width and height from the header alone (for the params of a refused bomb)."""
    try:
        if fmt == "png" and data[12:16] == b"IHDR":
            w, h = struct.unpack(">II", data[16:24])
            return int(w), int(h)
        if fmt == "webp":
            kind = data[12:16]
            if kind == b"VP8X":
                w = int.from_bytes(data[24:27], "little") + 1
                h = int.from_bytes(data[27:30], "little") + 1
                return w, h
            if kind == b"VP8L":
                bits = int.from_bytes(data[21:25], "little")
                return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            if kind == b"VP8 ":
                w, h = struct.unpack("<HH", data[26:30])
                return w & 0x3FFF, h & 0x3FFF
        if fmt == "jpeg":
            i = 2
            while i + 9 < len(data):
                if data[i] != 0xFF:
                    i += 1
                    continue
                marker = data[i + 1]
                if marker in (0xD8, 0x01, 0xFF) or 0xD0 <= marker <= 0xD7:
                    i += 2 if marker != 0xFF else 1
                    continue
                if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                    h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                    return int(w), int(h)
                (length,) = struct.unpack(">H", data[i + 2 : i + 4])
                i += 2 + length
    except (struct.error, IndexError):
        pass
    return None, None


def open_guarded(data: bytes, formats: list[str], max_pixels: int) -> Image.Image:
    """Open and fully decode with the bomb guard as an error (for trusted-ish data, e.g. outputs).

    Raises Pillow's exceptions (``DecompressionBombError`` and ``OSError`` family) unchanged.
    """
    with _open_lock, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        img = Image.open(io.BytesIO(data), formats=formats)
    if img.width * img.height > max_pixels:
        raise Image.DecompressionBombError(f"{img.width}x{img.height}")
    img.load()
    return img


def _has_transparency(img: Image.Image) -> bool:
    return "A" in img.getbands() or "transparency" in img.info


def _to_srgb(img: Image.Image) -> Image.Image:
    """Convert through the embedded ICC profile to sRGB when there is one; otherwise plainly."""
    icc = img.info.get("icc_profile")
    target = "RGBA" if img.mode in ("RGBA", "LA", "PA") else "RGB"
    if icc and img.mode in ("RGB", "RGBA", "CMYK"):
        try:
            from PIL import ImageCms

            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.createProfile("sRGB")
            out = ImageCms.profileToProfile(
                img, src, dst, outputMode=target, renderingIntent=ImageCms.Intent.PERCEPTUAL
            )
            if out is not None:
                return out
        except Exception:  # a broken profile is not the user's fault: fall back to a plain convert
            pass
    return img if img.mode == target else img.convert(target)


def _normalize_mode(img: Image.Image) -> Image.Image:
    """Bring any decoded mode to RGB, RGBA or (temporarily, for ICC conversion) CMYK."""
    mode = img.mode
    if mode in ("RGB", "RGBA", "CMYK"):
        if mode == "RGB" and "transparency" in img.info:
            return img.convert("RGBA")
        return img
    if mode in ("I", "F") or mode.startswith("I;16"):
        trns = img.info.get("transparency")
        wide = img.convert("I") if mode != "F" else img.convert("F")
        gray = wide.point(lambda v: v * (1 / 257)).convert("L")
        if isinstance(trns, int):
            t8 = min(255, trns // 257)
            alpha = gray.point(lambda v: 0 if v == t8 else 255)
            return Image.merge("RGBA", (gray, gray, gray, alpha))
        return gray.convert("RGB")
    if mode == "P":
        return img.convert("RGBA" if _has_transparency(img) else "RGB")
    if mode in ("LA", "La", "PA", "RGBa"):
        return img.convert("RGBA")
    if mode == "1":
        return img.convert("L").convert("RGB")
    if mode == "L":
        return img.convert("RGBA" if "transparency" in img.info else "RGB")
    return img.convert("RGBA" if _has_transparency(img) else "RGB")


def _downscale(img: Image.Image, max_side: int) -> Image.Image:
    target = _draft_size(img.size, max_side)
    if target is None:
        return img
    return img.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(img: Image.Image, fmt: str, **kwargs: Any) -> bytes:
    buf = io.BytesIO()
    # No exif/icc_profile/pnginfo arguments: a fresh image carries no metadata.
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


def _fresh(img: Image.Image) -> Image.Image:
    """Drop every piece of metadata Pillow might carry into ``save``."""
    img.info = {}
    return img


def _prepare_sync(
    data: bytes, fmt: str, shown: str, name: str, limits: IntakeLimits
) -> PreparedImage:
    img, (full_w, full_h) = _open(data, fmt, shown, limits)
    lossless_source = fmt == "png" or (fmt == "webp" and b"VP8L" in data[12:4096])
    icc = img.info.get("icc_profile")
    stored_w, stored_h = img.size
    with contextlib.suppress(Exception):  # unreadable EXIF: keep the pixels as stored
        ImageOps.exif_transpose(img, in_place=True)
    # Size as the user sees it (orientation applied), before any draft scaling of a JPEG.
    swapped = img.size == (stored_h, stored_w) and stored_w != stored_h
    sw, sh = (full_h, full_w) if swapped else (full_w, full_h)
    work = _normalize_mode(img)
    work = _downscale(work, limits.max_side)
    if icc:
        work.info["icc_profile"] = icc
    work = _to_srgb(work)
    if work.mode == "RGBA" and work.getchannel("A").getextrema() == (255, 255):
        work = work.convert("RGB")  # alpha that hides nothing: lets JPEG be used
    work = _fresh(work)

    if work.mode == "RGBA":
        out, mime = _encode(work, "PNG", compress_level=6), "image/png"
    else:
        out, mime = _encode(work, "JPEG", quality=90, optimize=True), "image/jpeg"
        if lossless_source:
            png = _encode(work, "PNG", compress_level=6)
            if len(png) <= len(out):
                out, mime = png, "image/png"
    return PreparedImage(
        data=out,
        mime=mime,
        width=work.width,
        height=work.height,
        name=_upload_name(name, mime),
        source_width=sw,
        source_height=sh,
    )


def _precheck_bytes(data: bytes, shown: str, limits: IntakeLimits) -> None:
    if len(data) > limits.max_bytes:
        raise InvalidImage(
            "image.too_large", name=shown, size_mb=_mb(len(data)), limit_mb=_mb(limits.max_bytes)
        )
    if not data:
        raise InvalidImage("image.empty", name=shown)


def _intake_sync(data: bytes, name: str, limits: IntakeLimits) -> PreparedImage:
    shown = display_name(name)
    fmt = sniff(data)
    if fmt == "gif":
        raise InvalidImage(
            "image.animated" if _gif_is_animated(data) else "image.unsupported_type",
            name=shown,
            detected="gif",
        )
    if fmt not in _PIL_FORMAT:
        raise _refuse_format(fmt, shown)
    return _prepare_sync(data, fmt, shown, name, limits)


def _gif_is_animated(data: bytes) -> bool:
    # Counting image descriptors needs no pixel decoding beyond LZW skipping: let Pillow do it,
    # with the bomb guard on (a huge GIF is refused as unsupported anyway).
    try:
        with _open_lock, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=["GIF"])
            return bool(getattr(img, "is_animated", False))
    except Exception:
        return False


# --------------------------------------------------------------------------------------------
# Public coroutines


async def intake(
    data: bytes,
    *,
    name: str,
    declared_size: int | None = None,
    declared_type: str | None = None,
    limits: IntakeLimits = IntakeLimits(),
) -> PreparedImage:
    """Sanitize one attachment for upstream use, or raise :class:`InvalidImage`.

    Order: declared size/type (:func:`precheck`), actual size, empty, content sniff, then the
    decode in the CPU pool (bomb guard, full load, orientation, mode, downscale, re-encode).
    ``declared_type`` is never trusted to accept a file, only to refuse one early.
    """
    precheck(name=name, declared_size=declared_size, declared_type=declared_type, limits=limits)
    _precheck_bytes(data, display_name(name), limits)
    return await run_cpu(_intake_sync, data, name, limits)


async def intake_many(
    items: Iterable[IntakeItem],
    limits: IntakeLimits = IntakeLimits(),
) -> tuple[PreparedImage, ...]:
    """Intake several attachments, in order; refuse more than ``limits.max_images`` up front.

    Every item is checked (concurrency is bounded by the CPU pool); when several fail, the
    first failure in input order is raised.
    """
    batch = list(items)
    if len(batch) > limits.max_images:
        raise InvalidImage("image.too_many", count=len(batch), limit=limits.max_images)
    for data, name, declared_size, declared_type in batch:  # cheap refusals before any decode
        precheck(name=name, declared_size=declared_size, declared_type=declared_type, limits=limits)
        _precheck_bytes(data, display_name(name), limits)
    results = await asyncio.gather(
        *(
            intake(d, name=n, declared_size=s, declared_type=t, limits=limits)
            for d, n, s, t in batch
        ),
        return_exceptions=True,
    )
    prepared: list[PreparedImage] = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        prepared.append(result)
    return tuple(prepared)


def _mask_sync(
    data: bytes, name: str, reference: PreparedImage, limits: IntakeLimits, keep: bool = False
) -> PreparedImage:
    shown = display_name(name)
    fmt = sniff(data)
    if fmt != "png":
        raise _refuse_format(fmt, shown, mask=True)
    img, _ = _open(data, fmt, shown, limits)
    if not _has_transparency(img):
        raise InvalidImage("image.mask_no_alpha", name=shown)
    with contextlib.suppress(Exception):  # unreadable EXIF: keep the pixels as stored
        ImageOps.exif_transpose(img, in_place=True)
    ref_w = reference.source_width or reference.width
    ref_h = reference.source_height or reference.height
    if img.size != (ref_w, ref_h):
        raise InvalidImage(
            "image.mask_size_mismatch",
            name=shown,
            mask_w=img.width,
            mask_h=img.height,
            image_w=ref_w,
            image_h=ref_h,
        )
    rgba = _normalize_mode(img)
    if rgba.mode != "RGBA":
        rgba = rgba.convert("RGBA")
    alpha = rgba.getchannel("A")
    if alpha.getextrema()[0] == 255:
        raise InvalidImage("image.mask_opaque", name=shown)
    size = (reference.width, reference.height)
    if keep:
        # A markup drawing (``keep``): its colours are the guide, so keep them.
        if rgba.size != size:
            rgba = rgba.resize(size, Image.Resampling.LANCZOS)
        out = _encode(rgba, "PNG", optimize=True)
    else:
        if alpha.size != size:
            alpha = alpha.resize(size, Image.Resampling.LANCZOS)
        # Only the alpha channel means anything to the API; black colour channels keep it tiny.
        black = Image.new("L", alpha.size, 0)
        out = _encode(Image.merge("RGBA", (black, black, black, alpha)), "PNG", optimize=True)
    if len(out) > limits.mask_max_bytes:
        raise InvalidImage(
            "image.mask_too_large",
            name=shown,
            size_mb=_mb(len(out)),
            limit_mb=_mb(limits.mask_max_bytes),
        )
    return PreparedImage(
        data=out,
        mime="image/png",
        width=reference.width,
        height=reference.height,
        name=_upload_name(name, "image/png"),
        source_width=img.width,
        source_height=img.height,
    )


async def intake_mask(
    data: bytes,
    *,
    name: str,
    reference: PreparedImage,
    limits: IntakeLimits = IntakeLimits(),
    keep: bool = False,
) -> PreparedImage:
    """Check and prepare an edit mask for ``reference`` (the first prepared image).

    The mask must be a PNG (by content) under ``mask_max_bytes``, with an alpha channel (RGBA,
    LA, PA or tRNS) whose transparent pixels mark the area to change, and exactly the reference's
    *source* size (as the user sees it, orientation applied). It is resized to the reference's
    prepared size and re-encoded as an RGBA PNG carrying only the alpha.
    """
    shown = display_name(name)
    if not data:
        raise InvalidImage("image.empty", name=shown)
    if len(data) > limits.mask_max_bytes:
        raise InvalidImage(
            "image.mask_too_large",
            name=shown,
            size_mb=_mb(len(data)),
            limit_mb=_mb(limits.mask_max_bytes),
        )
    return await run_cpu(_mask_sync, data, name, reference, limits, keep)
