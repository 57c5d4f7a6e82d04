"""Finishing moves on a result — Upscale, Vary (subtle), Vary (strong) — decided in one place.

Adapters only show the moves a result offers (:attr:`core.types.ImageResult.moves`) and ask the
service for the request of a click (:meth:`core.service.ImageService.finish`); every size,
prompt and price rule lives here:

- **Upscale**: an edit of the result's first image at the next size up — both edges doubled
  (1024x1536 -> 2048x3072), or, when that is beyond the model's catalog limits (pixels, longest
  edge, edges divisible by 16), the largest size of the same aspect within them — with a prompt
  that asks to keep the image and add detail, one image, the original quality; ``input_fidelity``
  high only where the model takes it (the catalog). Only for models with flexible sizes (the SDK
  documents arbitrary ``WIDTHxHEIGHT`` for gpt-image-2 and the 2.5 models). It usually costs more
  than a normal image: adapters show :func:`quote`'s estimate and ask first.
- **Vary (subtle)**: an edit with the result's first image as the input, the original prompt and
  options, ``input_fidelity`` high where the model takes it: the composition and subject stay.
- **Vary (strong)**: a new generation from the original prompt and options with a varied seed
  phrase (a different one per click): a re-interpretation.

The instructions added to a prompt speak to the model, not to a person (the model reads English
best); the result shows the prompt that was sent.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from core.catalog import ModelSpec

UPSCALE, VARY_SUBTLE, VARY_STRONG = "upscale", "vary_subtle", "vary_strong"
MOVES = (UPSCALE, VARY_SUBTLE, VARY_STRONG)

UPSCALE_INSTRUCTION = (
    "Upscale this image: keep it exactly as it is (the same composition, subject, colours, "
    "lighting and style) and render it at this higher resolution with finer, sharper detail. "
    "Do not add, remove or move anything."
)
STRONG_PHRASES = (
    "Reinterpret this freely: a different composition and viewpoint for the same idea.",
    "A fresh take on the same idea: new framing, new lighting, a different moment.",
    "Imagine this anew: change the composition, the angle and the mood, keep the subject.",
    "Another version of the same idea, composed differently, seen from somewhere else.",
)
# An upscale must grow the image by at least this much (pixels) to be worth a paid job.
MIN_GROWTH = 1.25


def parse_size(size: str | None) -> tuple[int, int] | None:
    if not size or "x" not in size:
        return None
    w, _, h = size.lower().partition("x")
    if not (w.isdigit() and h.isdigit()) or len(w) > 5 or len(h) > 5:
        return None
    return int(w), int(h)


def next_size(spec: ModelSpec, width: int, height: int) -> str | None:
    """The next size up for an upscale of a ``width`` x ``height`` image, or None."""
    if not spec.flexible_sizes or not spec.edits or spec.api != "images" or width <= 0:
        return None
    if height <= 0:
        return None
    doubled = (_down16(width * 2), _down16(height * 2))
    if spec.size_ok(*doubled):
        return f"{doubled[0]}x{doubled[1]}"
    scale = min(spec.max_edge / max(width, height), math.sqrt(spec.max_pixels / (width * height)))
    w, h = _down16(width * scale), _down16(height * scale)
    if w * h < MIN_GROWTH * width * height or not spec.size_ok(w, h):
        return None
    return f"{w}x{h}"


def _down16(value: float) -> int:
    return int(value) // 16 * 16


def high_fidelity(spec: ModelSpec) -> str | None:
    """``high`` where the model takes ``input_fidelity`` high (catalog), else omitted."""
    return "high" if "high" in spec.input_fidelity else None


def upscale_prompt(prompt: str, limit: int) -> str:
    """The upscale instruction, then as much of the original prompt as fits in ``limit``."""
    head = f"{UPSCALE_INSTRUCTION}\n\n"
    return (head + prompt)[: max(limit, len(head))].rstrip()


def strong_prompt(prompt: str, seed: str, limit: int) -> str:
    """The original prompt with a seed phrase chosen by ``seed`` (the click's key)."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    phrase = STRONG_PHRASES[digest[0] % len(STRONG_PHRASES)]
    tail = f"\n\n({phrase} Variation {int.from_bytes(digest[1:3], 'big') % 1000:03d}.)"
    return prompt[: max(limit - len(tail), 0)] + tail


@dataclass(frozen=True)
class Quote:
    """What an Upscale would make and cost, shown before it runs."""

    size: str
    estimate_micros: int  # the expected cost of the upscale
    normal_micros: int  # the expected cost of one image like the original

    @property
    def needs_confirmation(self) -> bool:
        return self.estimate_micros > self.normal_micros
