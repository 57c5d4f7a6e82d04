"""The catalog against what OpenAI publishes (the ``openai`` SDK 3.57 docstrings in
``resources/images.py`` and ``types/image_model.py``, and OpenAI's pricing page), model by model.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from core.catalog import Catalog, ModelSpec
from core.errors import InvalidRequest
from core.request import build_request
from core.types import Identity, ImageRequest, PreparedImage, Usage

ME = Identity("cli", "me")
CATALOG = Catalog.from_settings()
IMAGE = PreparedImage(b"png", "image/png", 1024, 1024)
TODAY = date(2026, 12, 1)

# Every image model the SDK lists for generations and edits (ImageModel, minus the shut-down
# gpt-image-1 and DALL-E models).
SDK_MODELS = (
    "gpt-image-1-mini",
    "gpt-image-1.5",
    "gpt-image-2",
    "gpt-image-2-2026-04-21",
    "gpt-image-2.5-sunburst",
    "gpt-image-2.5-sunburst-2026-09-08",
    "gpt-image-2.5-flare",
    "gpt-image-2.5-flare-2026-09-08",
    "gpt-image-2.6-sunburst",
    "gpt-image-2.6-flare",
    "chatgpt-image-latest",
)
FLEXIBLE = (
    "gpt-image-2",
    "gpt-image-2-2026-04-21",
    "gpt-image-2.5-sunburst",
    "gpt-image-2.5-sunburst-2026-09-08",
    "gpt-image-2.5-flare",
    "gpt-image-2.5-flare-2026-09-08",
)


def build(text: str, model: str, images: tuple[PreparedImage, ...] = ()) -> ImageRequest:
    return build_request(text, identity=ME, catalog=CATALOG, default_model=model, images=images)


def spec(name: str) -> ModelSpec:
    found = CATALOG.get(name)
    assert found is not None, name
    return found


def test_every_sdk_model_is_in_the_catalog_and_every_entry_cites_a_source() -> None:
    assert set(SDK_MODELS) <= set(CATALOG.names())
    for s in CATALOG.specs():
        assert s.source.strip(), f"{s.name} has no source"


def test_gpt_image_2_has_the_published_prices() -> None:
    two = spec("gpt-image-2")
    assert two.prices_verified
    assert (two.prices.text_in_per_m, two.prices.image_in_per_m, two.prices.image_out_per_m) == (
        5.0,
        8.0,
        30.0,
    )
    assert [two.image_price(q, "1024x1024") for q in ("low", "medium", "high")] == [
        0.006,
        0.053,
        0.211,
    ]
    # cost from usage, per token kind: text in, image in, image out
    usage = Usage(text_tokens=1_000, image_tokens=2_000, output_tokens=10_000)
    assert two.cost_micros(usage, images=1, quality="high", size=None) == 5_000 + 16_000 + 300_000


def test_input_fidelity_is_omitted_for_gpt_image_2() -> None:
    req = build("x", "gpt-image-2", images=(IMAGE,))
    assert req.input_fidelity is None
    with pytest.raises(InvalidRequest) as caught:
        build("x --fidelity high", "gpt-image-2", images=(IMAGE,))
    assert caught.value.key == "invalid.option"
    assert caught.value.params["option"] == "input_fidelity"


def test_gpt_image_1_mini_takes_only_low_fidelity() -> None:
    assert build("x --fidelity low", "gpt-image-1-mini", images=(IMAGE,)).input_fidelity == "low"
    with pytest.raises(InvalidRequest):
        build("x --fidelity high", "gpt-image-1-mini", images=(IMAGE,))
    assert spec("gpt-image-1.5").input_fidelity == ("high", "low")


@pytest.mark.parametrize("model", FLEXIBLE)
@pytest.mark.parametrize(
    ("size", "ok"),
    [
        ("1536x864", True),  # the SDK's own example
        ("3840x2160", True),  # the maximum
        ("2160x3840", True),
        ("1024x640", True),  # 655,360 pixels: the minimum
        ("16x16", False),  # far below the minimum
        ("1008x640", False),  # 645,120 pixels
        ("1000x1000", False),  # not divisible by 16
        ("3072x1008", False),  # aspect beyond 3:1
        ("3856x2160", False),  # edge above 3840
        ("3840x2176", False),  # above 3840x2160 pixels
    ],
)
def test_flexible_size_rules(model: str, size: str, ok: bool) -> None:
    if ok:
        assert build(f"x --size {size}", model).size == size
    else:
        with pytest.raises(InvalidRequest):
            build(f"x --size {size}", model)


def test_above_2560x1440_is_marked_experimental() -> None:
    two = spec("gpt-image-2")
    assert not two.experimental(2560, 1440)
    assert two.experimental(3840, 2160)


@pytest.mark.parametrize(
    "model", ["gpt-image-2.6-sunburst", "gpt-image-2.6-flare", "chatgpt-image-latest"]
)
def test_models_without_documented_flexible_sizes_take_the_standard_ones(model: str) -> None:
    assert build("x --size 1536x1024", model).size == "1536x1024"
    with pytest.raises(InvalidRequest):
        build("x --size 1536x864", model)


def test_xhigh_and_max_only_where_documented() -> None:
    for name in FLEXIBLE[2:]:
        assert {"xhigh", "max"} <= set(spec(name).qualities), name
        assert build("x --q max", name).quality == "max"
    for name in ("gpt-image-2", "gpt-image-2.6-sunburst", "chatgpt-image-latest"):
        with pytest.raises(InvalidRequest):
            build("x --q xhigh", name)


def test_markup_is_a_gpt_image_2_5_input() -> None:
    assert all(spec(n).markup for n in FLEXIBLE[2:])
    assert not any(spec(n).markup for n in ("gpt-image-2", "gpt-image-2.6-sunburst"))


def test_transparent_background_is_a_preview_on_gpt_image_2_and_needs_png_or_webp() -> None:
    assert spec("gpt-image-2").transparent_preview
    assert not spec("gpt-image-2.5-sunburst").transparent_preview
    assert build("x --bg transparent --format webp", "gpt-image-2").background == "transparent"
    with pytest.raises(InvalidRequest) as caught:
        build("x --bg transparent --format jpeg", "gpt-image-2")
    assert caught.value.key == "invalid.transparent_jpeg"


def test_new_models_prices_are_unverified_until_a_source_is_found() -> None:
    for name in ("gpt-image-2.5-sunburst", "gpt-image-2.6-flare", "chatgpt-image-latest"):
        s = spec(name)
        assert not s.prices_verified
        assert "not verified" in s.source
        # a reservation is still possible: never zero
        assert s.worst_micros(prompt="x", quality=None, size=None, n=1) > 100_000


def test_shutdown_dates() -> None:
    for name in ("gpt-image-1.5", "gpt-image-1-mini"):
        assert spec(name).retired_on == date(2026, 12, 1)
        assert spec(name).retired(TODAY)
    assert spec("gpt-image-1").retired_on == date(2026, 10, 23)
    assert not spec("gpt-image-2").retired(TODAY)
    assert not spec("gpt-image-2.5-flare").retired(TODAY)


def test_published_prices_of_the_retiring_models() -> None:
    one5 = spec("gpt-image-1.5")
    assert (one5.prices.text_in_per_m, one5.prices.image_in_per_m) == (5.0, 8.0)
    assert one5.prices.image_out_per_m == 32.0
    assert one5.image_price("high", "1024x1024") == 0.133 and one5.prices_verified
    mini = spec("gpt-image-1-mini")
    assert (mini.prices.text_in_per_m, mini.prices.image_in_per_m) == (2.0, 2.5)
    assert mini.prices.image_out_per_m == 8.0 and mini.image_price("low", "1024x1024") == 0.005


def test_reverse_models_take_no_quality_and_cost_per_image() -> None:
    for name, price in (("gpt-4o-image", 0.005), ("gpt-4o-image-vip", 0.009)):
        s = spec(name)
        assert s.qualities == () and s.input_fidelity == ()
        assert s.prices.flat_per_image == price
        with pytest.raises(InvalidRequest):
            build("x --q high", name)


def test_config_may_still_say_input_fidelity_true() -> None:
    from core.catalog import ModelOverride

    catalog = Catalog.from_settings(
        {"house": ModelOverride(base="gpt-image-2", input_fidelity=True)}
    )
    house = catalog.get("house")
    assert house is not None and house.input_fidelity == ("high", "low")
    assert house.min_pixels == 655_360


def test_auto_size_reserves_for_the_dearest_standard_size() -> None:
    two = spec("gpt-image-2")
    # auto size may come back 1536x1024: the square price scaled by pixels is the bound
    assert two.image_price("high", None) == pytest.approx(0.211 * 1.5)


def test_the_readme_model_section_names_every_catalog_model() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("**Models are configuration.**", 1)[1].split("## Commands", 1)[0]
    for name in CATALOG.names():
        # snapshots are named by their suffix next to the model they copy
        short = name.removesuffix("-2026-09-08").removesuffix("-2026-04-21")
        assert f"`{short}" in section, name


def test_gpt_image_2_6_sunburst_prices_come_from_openais_model_page() -> None:
    """OpenAI's model page lists gpt-image-2.6-sunburst at text in $5, image in $8, image out
    $30 per 1M tokens, text as input only (no text-output price); its flare sibling has no such
    page and stays unverified."""
    sunburst, flare = spec("gpt-image-2.6-sunburst"), spec("gpt-image-2.6-flare")
    assert sunburst.prices_verified and not flare.prices_verified
    assert "developers.openai.com/api/docs/models/gpt-image-2.6-sunburst" in sunburst.source
    p = sunburst.prices
    assert (p.text_in_per_m, p.image_in_per_m, p.image_out_per_m) == (5.0, 8.0, 30.0)
    assert p.text_out_per_m is None and p.text_out_rate == p.image_out_per_m
    assert "not verified" in flare.source


def _readme_rows() -> dict[str, str]:
    """The README's model table: each catalog model name -> the row that describes it."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("**Models are configuration.**", 1)[1].split("## Commands", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        named = re.findall(r"`([^`]+)`", line.split("|")[1])
        suffixes = [n for n in named if n.startswith("-")]
        for name in CATALOG.names():
            if name in named or any(
                name.endswith(s) and name.removesuffix(s) in named for s in suffixes
            ):
                assert name not in rows, f"{name} is in two rows of the README table"
                rows[name] = line
    return rows


def _dollars(text: str) -> set[float]:
    return {float(x) for x in re.findall(r"\$(\d+(?:\.\d+)?)", text)}


def _price_figures(s: ModelSpec) -> set[float]:
    p = s.prices
    if p.flat_per_image is not None:
        return {p.flat_per_image}
    per_m = {p.text_in_per_m, p.image_in_per_m, p.image_out_per_m}
    return per_m | ({p.text_out_per_m} if p.text_out_per_m is not None else set())


def test_the_readme_model_table_matches_the_catalog() -> None:
    """Each row's sizes, qualities, prices, verification and shutdown date are the catalog's, so
    the README cannot drift from core/data/models.toml."""
    rows = _readme_rows()
    assert set(rows) == set(CATALOG.names())
    for name, row in rows.items():
        s = spec(name)
        _, _, sizes, qualities, prices, notes, _ = (c.strip() for c in row.split("|"))
        # qualities: the catalog's, in its order ("none" for the reverse models)
        assert qualities == (", ".join(s.qualities) if s.qualities else qualities), name
        assert s.qualities or qualities.startswith("none"), name
        # sizes: the flexible limits, or the standard three
        like = re.fullmatch(r"as `?([\w.-]+)`?", sizes)
        if like:  # "as gpt-image-2": that model's limits, and its row says them
            other = spec(like[1])
            limits = (other.flexible_sizes, other.min_pixels, other.max_pixels, other.max_edge)
            assert limits == (s.flexible_sizes, s.min_pixels, s.max_pixels, s.max_edge), name
            sizes = rows[other.name].split("|")[2]
        if s.flexible_sizes:
            assert f"{s.min_pixels:,}\N{EN DASH}{s.max_pixels:,} pixels" in sizes, name
            assert f"≤ {s.max_edge}" in sizes, name
        else:
            assert "standard" in sizes, name
        # prices: every per-token (or flat) figure, and the 1024x1024 ones where the row lists them
        like = re.search(r"^as `?([\w.-]+)`?", prices)
        if like:
            assert spec(like[1]).prices == s.prices, name
        else:
            assert _price_figures(s) <= _dollars(prices), name
            if "per 1024x1024" in prices:
                square = {t["1024x1024"] for t in s.prices.per_image.values() if "1024x1024" in t}
                assert square <= _dollars(prices), name
        # verified or not, as the catalog says
        short = name.rsplit("-", 1)[-1]
        if not s.prices_verified:
            assert "not verified" in prices, name
        elif "not verified" in prices:
            assert f"verified for {short}" in prices, name
        # shutdown: the catalog's date, and no shutdown claimed for an active model
        if s.retired_on is not None:
            assert s.retired_on.isoformat() in notes, name
        elif not any(spec(n).retired_on for n, r in rows.items() if r == row):
            assert "shut" not in notes, name
