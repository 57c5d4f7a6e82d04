"""The model catalog: which upstream API each model speaks, what it accepts, what it costs.

Built-in entries live in ``core/data/models.toml``; ``[models.<name>]`` tables in the config add
models or override any key of a built-in one. Money leaves this module as integer micro-dollars.
"""

from __future__ import annotations

import copy
import math
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.limits import Price
from core.types import Usage

ApiKind = Literal["images", "chat_stream", "images_compat"]
MICROS = 1_000_000
# Upper bound of image-input tokens per prepared (<= 1536 px) input image.
INPUT_IMAGE_TOKENS_MAX = {"high": 6_500, "low": 1_600}
CLASSIC_SIZES = ("1024x1024", "1024x1536", "1536x1024")


class PricesOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Prices are finite and >= 0 (core/limits.py): a negative or infinite price would make the
    # worst-case reservation meaningless.
    text_in_per_m: Price | None = None
    image_in_per_m: Price | None = None
    image_out_per_m: Price | None = None
    text_out_per_m: Price | None = None
    flat_per_image: Price | None = None
    per_image: dict[str, dict[str, Price]] | None = None


class ModelOverride(BaseModel):
    """A ``[models.<name>]`` table: every key optional; ``base`` copies another entry first."""

    model_config = ConfigDict(extra="forbid")

    base: str | None = None
    api: ApiKind | None = None
    sizes: list[str] | None = None
    flexible_sizes: bool | None = None
    qualities: list[str] | None = None
    backgrounds: list[str] | None = None
    moderation: bool | None = None
    n_max: int | None = Field(default=None, ge=1, le=10)
    streaming: bool | None = None
    edits: bool | None = None
    max_input_images: int | None = Field(default=None, ge=0, le=16)
    # A list of the values the model takes ([] = omit the parameter); true/false still mean
    # ["high", "low"] / [] as before.
    input_fidelity: bool | list[str] | None = None
    markup: bool | None = None
    min_pixels: int | None = Field(default=None, ge=1)
    max_pixels: int | None = Field(default=None, ge=1)
    max_edge: int | None = Field(default=None, ge=16)
    experimental_pixels: int | None = Field(default=None, ge=1)
    transparent_preview: bool | None = None
    output_formats: list[str] | None = None
    worst_images: int | None = Field(default=None, ge=1, le=10)
    retired_on: date | None = None
    prices_verified: bool | None = None
    prices: PricesOverride | None = None
    enabled: bool | None = None
    source: str | None = None


@dataclass(frozen=True)
class Prices:
    text_in_per_m: float = 0.0
    image_in_per_m: float = 0.0
    image_out_per_m: float = 0.0
    #: Text output tokens (``usage.output_tokens_details.text_tokens``). None: the model has
    #: no published text-output price, and they are priced at the image-output rate, an upper
    #: bound (OpenAI's model pages list text as input only for most image models).
    text_out_per_m: float | None = None
    flat_per_image: float | None = None
    per_image: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def text_out_rate(self) -> float:
        return self.image_out_per_m if self.text_out_per_m is None else self.text_out_per_m


@dataclass(frozen=True)
class ModelSpec:
    name: str
    api: ApiKind = "images"
    sizes: tuple[str, ...] = CLASSIC_SIZES
    flexible_sizes: bool = False
    qualities: tuple[str, ...] = ("low", "medium", "high", "auto")
    backgrounds: tuple[str, ...] = ("transparent", "opaque", "auto")
    moderation: bool = True
    n_max: int = 10
    streaming: bool = True
    edits: bool = True
    max_input_images: int = 16
    #: The ``input_fidelity`` values the model takes; empty: the parameter must be omitted.
    input_fidelity: tuple[str, ...] = ()
    markup: bool = False
    #: Bounds of a free-form ``WIDTHxHEIGHT`` (flexible_sizes): both edges divisible by 16,
    #: aspect between 1:3 and 3:1, pixels and longest edge within these.
    min_pixels: int = 655_360
    max_pixels: int = 3840 * 2160
    max_edge: int = 3840
    experimental_pixels: int | None = None
    transparent_preview: bool = False
    output_formats: tuple[str, ...] = ("png", "jpeg", "webp")
    worst_images: int | None = None
    retired_on: date | None = None
    prices_verified: bool = True
    prices: Prices = field(default_factory=Prices)
    enabled: bool = True
    source: str = ""

    def retired(self, today: date) -> bool:
        return self.retired_on is not None and today >= self.retired_on

    def size_ok(self, width: int, height: int) -> bool:
        """A free-form size this model takes (only meaningful with ``flexible_sizes``)."""
        return (
            width % 16 == 0
            and height % 16 == 0
            and max(width, height) <= 3 * min(width, height)
            and max(width, height) <= self.max_edge
            and self.min_pixels <= width * height <= self.max_pixels
        )

    def experimental(self, width: int, height: int) -> bool:
        return self.experimental_pixels is not None and width * height > self.experimental_pixels

    # -- money -----------------------------------------------------------------------------

    def image_price(self, quality: str | None, size: str | None) -> float:
        """USD for one output image; ``None`` quality/size mean auto and take the dearest."""
        p = self.prices
        if p.flat_per_image is not None:
            return p.flat_per_image
        if not p.per_image:
            return 0.0
        qualities = [quality] if quality in p.per_image else list(p.per_image)
        best = 0.0
        for q in qualities:
            table = p.per_image[q]
            if size in table:
                best = max(best, table[size])
            elif size is None:
                # auto: the model picks the size, so the dearest standard one
                listed = max(table.values(), default=0.0)
                scaled = (_scaled_price(table, s) for s in self.sizes if s not in table)
                best = max(best, listed, *scaled)
            else:
                best = max(best, _scaled_price(table, size))
        return best

    def expected_micros(
        self,
        *,
        prompt: str,
        quality: str | None,
        size: str | None,
        n: int,
        input_images: int = 0,
        fidelity: str | None = None,
    ) -> int:
        """What this request should cost (``auto`` quality taken as medium)."""
        q = "medium" if quality in (None, "auto") and "medium" in self.prices.per_image else quality
        return self._estimate(prompt, q, size, n, input_images, fidelity, images=n)

    def worst_micros(
        self,
        *,
        prompt: str,
        quality: str | None,
        size: str | None,
        n: int,
        input_images: int = 0,
        fidelity: str | None = None,
    ) -> int:
        """An upper bound of what this request can cost: reserved before sending."""
        q = None if quality == "auto" else quality
        images = max(n, self.worst_images or n)
        return self._estimate(prompt, q, size, n, input_images, fidelity, images=images)

    def _estimate(
        self,
        prompt: str,
        quality: str | None,
        size: str | None,
        n: int,
        input_images: int,
        fidelity: str | None,
        *,
        images: int,
    ) -> int:
        p = self.prices
        usd = self.image_price(quality, size) * images
        if p.flat_per_image is None:
            # A token is at least one UTF-8 byte, so bytes bound the prompt's tokens.
            usd += len(prompt.encode("utf-8")) * p.text_in_per_m / MICROS
            per_image_tokens = INPUT_IMAGE_TOKENS_MAX["high" if fidelity == "high" else "low"]
            usd += input_images * per_image_tokens * p.image_in_per_m / MICROS
        return _micros(usd)

    def cost_micros(
        self, usage: Usage | None, *, images: int, quality: str | None, size: str | None
    ) -> int:
        """The real cost: from ``usage`` when the gateway reports it, each token kind at its
        own rate (text in, image in, image out, text out), else per image."""
        p = self.prices
        if usage is not None and usage.total > 0 and p.flat_per_image is None:
            usd = (
                usage.text_tokens * p.text_in_per_m
                + usage.image_tokens * p.image_in_per_m
                + usage.output_tokens * p.image_out_per_m
                + usage.output_text_tokens * p.text_out_rate
            ) / MICROS
            return _micros(usd)
        return _micros(self.image_price(quality, size) * images)


def _micros(usd: float) -> int:
    """USD -> integer micro-dollars, rounded up, without float noise (0.25035 -> 250350)."""
    return math.ceil(round(usd * MICROS, 3))


def _scaled_price(table: dict[str, float], size: str) -> float:
    """Price of a free-form size: the nearest listed price scaled by pixel count."""
    try:
        w, h = (int(v) for v in size.lower().split("x"))
    except ValueError:
        return max(table.values(), default=0.0)
    best = max(table.values(), default=0.0)
    base = table.get("1024x1024")
    if base is None:
        return best
    return max(base * (w * h) / (1024 * 1024), 0.0)


@lru_cache(maxsize=1)
def _parse_builtin() -> dict[str, dict[str, Any]]:
    text = resources.files("core").joinpath("data/models.toml").read_text(encoding="utf-8")
    return dict(tomllib.loads(text)["models"])


def _load_builtin() -> dict[str, dict[str, Any]]:
    """The built-in catalog, parsed once per process (the config check and the service both
    read it); each caller gets its own copy to merge overrides into."""
    return copy.deepcopy(_parse_builtin())


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if value is None or key == "base":
            continue
        if key == "prices" and isinstance(value, dict):
            prices = dict(merged.get("prices") or {})
            prices.update({k: v for k, v in value.items() if v is not None})
            merged["prices"] = prices
        else:
            merged[key] = value
    return merged


def _spec(name: str, raw: dict[str, Any]) -> ModelSpec:
    prices = raw.get("prices") or {}
    tuples = ("sizes", "qualities", "backgrounds", "output_formats", "input_fidelity")
    fidelity = raw.get("input_fidelity")
    if isinstance(fidelity, bool):  # the older form: true = both values
        raw = {**raw, "input_fidelity": ["high", "low"] if fidelity else []}
    kwargs: dict[str, Any] = {
        k: (tuple(v) if k in tuples else v) for k, v in raw.items() if k not in ("prices", "base")
    }
    return ModelSpec(name=name, prices=Prices(**prices), **kwargs)


def _resolve_bases(raw: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Built-in entries with ``base`` (snapshots): the base entry, then their own keys."""
    out: dict[str, dict[str, Any]] = {}
    for name, data in raw.items():
        base = data.get("base")
        out[name] = _merge(raw[base], data) if base in raw else dict(data)
    return out


class Catalog:
    """Model name -> :class:`ModelSpec`."""

    def __init__(self, specs: dict[str, ModelSpec]) -> None:
        self._specs = specs

    @classmethod
    def from_settings(cls, overrides: dict[str, ModelOverride] | None = None) -> Catalog:
        raw = _resolve_bases(_load_builtin())
        for name, override in (overrides or {}).items():
            data = override.model_dump(exclude_none=True)
            start = raw.get(override.base or name, raw.get(name, {}))
            raw[name] = _merge(start, data)
        return cls({name: _spec(name, data) for name, data in raw.items()})

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def get(self, name: str) -> ModelSpec | None:
        return self._specs.get(name)

    def names(self, *, enabled_only: bool = False) -> list[str]:
        return [n for n, s in self._specs.items() if s.enabled or not enabled_only]

    def specs(self) -> list[ModelSpec]:
        return list(self._specs.values())
