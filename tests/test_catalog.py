"""Catalog entries, overrides from config, and cost arithmetic in integer micro-dollars."""

from __future__ import annotations

from datetime import date

from core.catalog import Catalog, ModelOverride, PricesOverride
from core.types import Usage

CATALOG = Catalog.from_settings()


def test_builtin_models_and_api_kinds() -> None:
    assert {
        "gpt-image-2",
        "gpt-image-1",
        "gpt-image-1-mini",
        "gpt-4o-image",
        "gpt-4o-image-vip",
    } <= set(CATALOG.names())
    assert CATALOG.get("gpt-4o-image-vip").api == "chat_stream"  # type: ignore[union-attr]
    assert CATALOG.get("gpt-image-1").retired(date(2026, 11, 24))  # type: ignore[union-attr]


def test_per_image_prices_from_the_reference() -> None:
    spec = CATALOG.get("gpt-image-1")
    assert spec is not None
    assert spec.image_price("low", "1024x1024") == 0.011
    assert spec.image_price("high", "1536x1024") == 0.25
    # auto quality and size: the dearest, for a worst-case reservation
    assert spec.image_price(None, None) == 0.25


def test_cost_from_usage_matches_the_reference_formula() -> None:
    spec = CATALOG.get("gpt-image-1")
    assert spec is not None
    usage = Usage(text_tokens=150, image_tokens=0, output_tokens=6240)
    # 150 * $5/M + 6240 * $40/M = 0.00075 + 0.2496
    assert spec.cost_micros(usage, images=1, quality="high", size="1024x1536") == 250_350


def test_cost_without_usage_is_per_image() -> None:
    vip = CATALOG.get("gpt-4o-image-vip")
    assert vip is not None
    assert vip.cost_micros(None, images=2, quality=None, size=None) == 18_000


def test_worst_case_bounds_expected() -> None:
    spec = CATALOG.get("gpt-image-1")
    assert spec is not None
    kw = {"prompt": "a fox", "quality": "auto", "size": None, "n": 2}
    worst = spec.worst_micros(**kw)  # type: ignore[arg-type]
    expected = spec.expected_micros(**kw)  # type: ignore[arg-type]
    assert worst >= expected > 0
    assert worst >= 2 * 250_000
    # a real answer for the same request never exceeds the reservation
    usage = Usage(text_tokens=5, output_tokens=2 * 6240)
    assert spec.cost_micros(usage, images=2, quality="high", size="1024x1536") <= worst


def test_reverse_models_reserve_for_two_images() -> None:
    vip = CATALOG.get("gpt-4o-image-vip")
    assert vip is not None
    assert vip.worst_micros(prompt="x", quality=None, size=None, n=1) == 18_000


def test_config_overrides_and_new_models() -> None:
    catalog = Catalog.from_settings(
        {
            "gpt-image-2": ModelOverride(
                prices=PricesOverride(image_out_per_m=30.0), prices_verified=True
            ),
            "house-model": ModelOverride(base="gpt-image-1-mini", n_max=4),
            "gpt-4o-image": ModelOverride(api="images_compat"),
        }
    )
    two = catalog.get("gpt-image-2")
    assert two is not None and two.prices.image_out_per_m == 30.0 and two.prices_verified
    assert two.prices.text_in_per_m == 5.0  # untouched keys survive the override
    house = catalog.get("house-model")
    assert house is not None and house.n_max == 4 and house.prices.image_out_per_m == 8.0
    assert catalog.get("gpt-4o-image").api == "images_compat"  # type: ignore[union-attr]


def test_flexible_size_price_scales_with_pixels() -> None:
    spec = CATALOG.get("gpt-image-2")
    assert spec is not None
    assert spec.image_price("low", "2048x2048") == 0.006 * 4
