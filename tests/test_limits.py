"""The one limit and grant language (core/limits.py), property-based over the parser.

The published rule: a limit is a finite number from 0 to the key's maximum (whole for images and
jobs) or a word of the shared "unlimited" list; a grant is finite, non-zero, at most the maximum
in size; everything else is a LimitError naming the value, and nothing else comes out.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core import messages
from core.catalog import ModelOverride, PricesOverride
from core.limits import (
    LIMIT_UNITS,
    MAX_COUNT,
    MAX_PRICE_USD,
    MAX_SECONDS,
    MAX_USD,
    UNLIMITED_WORDS,
    LimitError,
    parse_grant,
    parse_limit,
)
from core.store.policy import QuotaOverrides, QuotaSettings, usd_to_micros

BIGINT = 2**63 - 1
COUNT_KEYS = [k for k, u in LIMIT_UNITS.items() if u in ("images", "jobs")]
USD_KEYS = [k for k, u in LIMIT_UNITS.items() if u == "usd"]
MAXIMUM = {"images": MAX_COUNT, "jobs": MAX_COUNT, "usd": MAX_USD, "seconds": MAX_SECONDS}

keys = st.sampled_from(sorted(LIMIT_UNITS))
numbers = st.one_of(
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
)
typed = st.one_of(
    st.text(max_size=30),
    numbers.map(str),
    numbers.map(repr),
    st.sampled_from(["inf", "-inf", "nan", "1e300", "1e309", "1e30", "Infinity", "∞", "0x10"]),
)


def _in_store_range(key: str, value: int | float) -> bool:
    unit = LIMIT_UNITS[key]
    stored = usd_to_micros(value) if unit == "usd" else value
    # limit + granted + reserved + spent, each at most the maximum, still fits a BIGINT
    return 0 <= 4 * stored <= BIGINT


@given(keys, st.one_of(typed, numbers, st.booleans(), st.none(), st.lists(st.integers())))
@example("user_daily_usd", "inf")
@example("user_daily_usd", "1e300")
@example("user_daily_images", "1e30")
@example("user_daily_usd", "1e309")
@example("user_daily_usd", float("inf"))
@example("user_daily_images", True)
@example("user_daily_images", "5.5")
@example("user_monthly_usd", "-0.01")
def test_parse_limit_returns_a_storable_value_or_a_clear_error(key: str, raw: object) -> None:
    try:
        value = parse_limit(key, raw)
    except LimitError as exc:
        text = messages.render(exc, "en")
        assert exc.exit_code == 2
        assert key in text and f"{MAXIMUM[LIMIT_UNITS[key]]:,}" in text
        assert "\x1b" not in text and "\n" not in text
        assert "{" not in text.replace(exc.params["value"], "")  # every parameter filled
        zh = messages.render(exc, "zh")
        assert key in zh and "{" not in zh.replace(exc.params["value"], "")
        return
    if value is None:
        assert raw is None or (isinstance(raw, str) and raw.strip().lower() in UNLIMITED_WORDS)
        return
    assert not isinstance(value, bool)
    assert math.isfinite(value)
    assert 0 <= value <= MAXIMUM[LIMIT_UNITS[key]]
    if key in COUNT_KEYS:
        assert isinstance(value, int)
    assert _in_store_range(key, value)


@given(keys, st.data())
def test_every_whole_number_in_range_is_accepted_typed_or_as_a_number(
    key: str, data: st.DataObject
) -> None:
    n = data.draw(st.integers(min_value=0, max_value=MAXIMUM[LIMIT_UNITS[key]]))
    assert parse_limit(key, str(n)) == n
    assert parse_limit(key, n) == n
    assert parse_limit(key, f" {n:,} ") == n


@given(st.sampled_from(USD_KEYS), st.floats(min_value=0, max_value=MAX_USD))
def test_usd_amounts_in_range(key: str, usd: float) -> None:
    assert parse_limit(key, repr(usd)) == pytest.approx(usd)
    assert parse_limit(key, f"${usd!r}") == pytest.approx(usd)


@pytest.mark.parametrize("word", [*UNLIMITED_WORDS, "Unlimited", " NONE ", "no  limit"])
def test_the_shared_unlimited_words(word: str) -> None:
    for key in LIMIT_UNITS:
        assert parse_limit(key, word) is None


@pytest.mark.parametrize("raw", ["inf", "Infinity", "1e309", "-1", "nan", "5 images", "", "∞"])
def test_infinity_and_junk_are_errors_not_unlimited(raw: str) -> None:
    with pytest.raises(LimitError) as exc:
        parse_limit("user_daily_usd", raw)
    assert exc.value.params["value"] == raw


def test_unknown_key() -> None:
    with pytest.raises(LimitError) as exc:
        parse_limit("user_dialy_usd", "5")
    assert "user_daily_usd" in messages.render(exc.value, "en")


@given(st.sampled_from(["images", "usd"]), st.one_of(typed, numbers, st.booleans()))
@example("images", "-3")
@example("usd", "1e309")
@example("images", "0")
def test_parse_grant(unit: str, raw: object) -> None:
    try:
        value = parse_grant(unit, raw)
    except LimitError as exc:
        assert "{" not in messages.render(exc, "en").replace(exc.params["value"], "")
        return
    assert value != 0 and math.isfinite(value)
    assert abs(value) <= MAXIMUM[unit]
    if unit == "images":
        assert isinstance(value, int) and not isinstance(value, bool)


def test_negative_grants_take_back() -> None:
    assert parse_grant("images", "-3") == -3
    assert parse_grant("usd", "-0.5") == -0.5


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_prices_are_finite_and_not_negative(price: float) -> None:
    ok = math.isfinite(price) and 0 <= price <= MAX_PRICE_USD
    for data in (
        {"flat_per_image": price},
        {"text_in_per_m": price},
        {"per_image": {"low": {"1024x1024": price}}},
    ):
        try:
            PricesOverride.model_validate(data)
            ModelOverride.model_validate({"prices": data})
        except ValueError:
            assert not ok, data
        else:
            assert ok, data


@pytest.mark.parametrize("raw", [math.inf, "inf", 1e309, "1e300", -1, "lots"])
def test_quota_models_built_in_python_use_the_language(raw: object) -> None:
    for model in (QuotaSettings, QuotaOverrides):
        with pytest.raises(ValueError, match="user_daily_usd"):
            model.model_validate({"user_daily_usd": raw})
    assert QuotaOverrides.model_validate({"user_daily_usd": "no limit"}).given() == {
        "user_daily_usd": None
    }
    assert QuotaSettings.model_validate({"user_daily_images": "1e3"}).user_daily_images == 1000


@pytest.mark.parametrize(
    "pair", ["user_daily_usd=1e309", "user_daily_usd=inf", "user_daily_images=1e30"]
)
def test_slack_admin_limits_refuse_values_outside_the_language(pair: str) -> None:
    from bots.slack.admin import AdminInput, _limits

    with pytest.raises(AdminInput):
        _limits([pair])
    assert _limits(["user_daily_usd=unlimited", "user_daily_images=5"]) == {
        "user_daily_usd": None,
        "user_daily_images": 5,
    }
