"""Prompt flags and request validation: bad input is a typed error before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest

from core.catalog import Catalog
from core.errors import InvalidRequest
from core.request import Options, build_request, parse_prompt
from core.types import Identity, ImageRequest, PreparedImage

ME = Identity("cli", "me")
CATALOG = Catalog.from_settings()


def build(text: str, **kw: Any) -> ImageRequest:
    return build_request(text, identity=ME, catalog=CATALOG, default_model="gpt-image-1", **kw)


def test_flags_are_split_off_and_the_rest_kept_verbatim() -> None:
    prompt, opts = parse_prompt('a cat\'s "toy" --ar 2:3 --q high\nline two --n 2 --force')
    assert prompt == 'a cat\'s "toy" \nline two'
    assert (opts.aspect, opts.quality, opts.n, opts.force) == ("2:3", "high", 2, True)


def test_plain_prompt_untouched() -> None:
    assert parse_prompt("  just words, no flags  ") == ("just words, no flags", Options())


def test_aspect_maps_to_size_and_auto_is_omitted() -> None:
    assert build("x --ar 2:3").size == "1024x1536"
    assert build("x --ar 3:2").size == "1536x1024"
    assert build("x --ar square").size == "1024x1024"
    assert build("x --size auto").size is None
    assert build("x").size is None


def test_explicit_options_win_over_flags() -> None:
    req = build("x --q low --n 3", options=Options(quality="high"))
    assert (req.quality, req.n) == ("high", 3)


def test_default_model_and_override() -> None:
    assert build("x").model == "gpt-image-1"
    assert build("x --model gpt-image-1-mini").model == "gpt-image-1-mini"


def test_moderation_kept_for_generate_dropped_for_edit() -> None:
    assert build("x --moderation low").moderation == "low"
    image = PreparedImage(b"png", "image/png", 10, 10)
    assert build("x --moderation low", images=(image,)).moderation is None


def test_flexible_sizes_only_on_models_that_take_them() -> None:
    req = build_request(
        "x --size 1536x864", identity=ME, catalog=CATALOG, default_model="gpt-image-2"
    )
    assert req.size == "1536x864"
    with pytest.raises(InvalidRequest) as err:
        build("x --size 1536x864")
    assert err.value.key == "invalid.size"


@pytest.mark.parametrize(
    ("text", "kwargs", "key"),
    [
        ("", {}, "invalid.empty_prompt"),
        ("   --ar 2:3", {}, "invalid.empty_prompt"),
        ("x" * 32001, {}, "invalid.prompt_too_long"),
        ("x --n 0", {}, "invalid.n_range"),
        ("x --n 11", {}, "invalid.n_range"),
        ("x --n two", {}, "invalid.not_a_number"),
        ("x --q ultra", {}, "invalid.option"),
        ("x --bg purple", {}, "invalid.option"),
        ("x --ar 5:4", {}, "invalid.aspect"),
        ("x --size 999x999", {}, "invalid.size"),
        ("x --size 1024x1024 --ar 2:3", {}, "invalid.size_and_aspect"),
        ("x --model dall-e-9", {}, "invalid.unknown_model"),
        ("x --bogus 1", {}, "invalid.unknown_flag"),
        ("x --ar", {}, "invalid.flag_value"),
        ("x --bg transparent --format jpeg", {}, "invalid.transparent_jpeg"),
        ("x --model gpt-4o-image --q high", {}, "invalid.option"),
        ("x --model gpt-4o-image --n 2", {}, "invalid.n_range"),
        ("x --format gif", {}, "invalid.option"),
        (
            "x --fidelity high",
            {"images": tuple(PreparedImage(b"", "image/png", 1, 1) for _ in range(17))},
            "invalid.too_many_images",
        ),
        ("x", {"mask": PreparedImage(b"", "image/png", 1, 1)}, "invalid.mask_without_image"),
        (
            "x --fidelity high --model gpt-image-1-mini",
            {"images": (PreparedImage(b"", "image/png", 1, 1),)},
            "invalid.option",
        ),
    ],
)
def test_bad_input_is_a_clear_typed_error(text: str, kwargs: dict[str, object], key: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        build(text, **kwargs)
    assert err.value.key == key
    assert err.value.exit_code == 2


def test_prompt_limit_is_configurable() -> None:
    with pytest.raises(InvalidRequest):
        build_request(
            "x" * 11, identity=ME, catalog=CATALOG, default_model="gpt-image-1", max_prompt_chars=10
        )
