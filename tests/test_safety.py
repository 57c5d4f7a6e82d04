"""Pre-flight checks and the classification of every upstream error row."""

from __future__ import annotations

import pytest

from core.errors import Charge, PreflightRefused, Refused, UpstreamError
from core.safety import check_prompt, classify_status, preflight


def test_living_artist_gets_a_style_rewrite() -> None:
    found = preflight("a castle in the sky in the style of Hayao Miyazaki, golden hour")
    assert found is not None
    assert [m.category for m in found.matches] == ["living_artist"]
    assert "Miyazaki" not in found.suggestion
    assert "hand-painted Japanese animation style" in found.suggestion
    assert found.suggestion.endswith("golden hour")


def test_makoto_shinkai_becomes_the_gateways_own_advice() -> None:
    found = preflight("sunset over Tokyo by Makoto Shinkai")
    assert found is not None
    assert found.suggestion == "sunset over Tokyo in a bright modern Japanese anime style"


def test_chinese_names_match_without_word_boundaries() -> None:
    found = preflight("宫崎骏风格的城堡")
    assert found is not None and found.matches[0].term == "宫崎骏"


def test_public_figures_and_characters() -> None:
    found = preflight("Taylor Swift hugging Pikachu")
    assert found is not None
    assert {m.category for m in found.matches} == {"public_figure", "character"}


@pytest.mark.parametrize(
    "prompt",
    [
        "a starry night in the style of Van Gogh",  # deceased artists are fine
        "Pixar-style 3D render of a robot",  # styles are fine
        "a cat named Batmanuel",  # no partial-word matches
        "the spiderweb at dawn",
    ],
)
def test_safe_prompts_pass(prompt: str) -> None:
    assert preflight(prompt) is None


def test_policy_block_warn_off_and_force() -> None:
    risky = "portrait by Greg Rutkowski"
    with pytest.raises(PreflightRefused) as err:
        check_prompt(risky, policy="block", force=False)
    assert err.value.exit_code == 3 and err.value.params["suggestion"]
    assert check_prompt(risky, policy="block", force=True) is not None
    assert check_prompt(risky, policy="warn", force=False) is not None
    assert check_prompt(risky, policy="off", force=False) is None


def _err(code: str | None, message: str = "x", **extra: object) -> dict[str, object]:
    return {
        "message": message,
        "type": "invalid_request_error",
        "param": None,
        "code": code,
        **extra,
    }


@pytest.mark.parametrize(
    ("status", "body", "key", "charge"),
    [
        (400, _err("moderation_blocked"), "refused.upstream", Charge.CHARGED),
        (400, _err("content_policy_violation"), "refused.upstream", Charge.CHARGED),
        (
            400,
            _err(None, "Your request was rejected as a result of our safety system."),
            "refused.upstream",
            Charge.CHARGED,
        ),
        (400, _err("prompt_too_long"), "upstream.invalid_request", Charge.CHARGED),
        (400, _err("size_not_supported"), "upstream.invalid_request", Charge.CHARGED),
        (400, _err("n_not_within_range"), "upstream.invalid_request", Charge.CHARGED),
        (400, _err("invalid_value"), "upstream.invalid_request", Charge.CHARGED),
        (400, _err("billing_hard_limit_reached"), "upstream.no_balance", Charge.NONE),
        (401, _err("invalid_api_key"), "upstream.bad_key", Charge.NONE),
        (403, _err("insufficient_user_quota"), "upstream.no_balance", Charge.NONE),
        (403, _err(None, "region not supported"), "upstream.forbidden", Charge.NONE),
        (
            404,
            _err("model_not_found", "Incorrect model ID"),
            "upstream.model_unavailable",
            Charge.NONE,
        ),
        (
            503,
            _err(None, "No available channel for model gpt-image-1"),
            "upstream.model_unavailable",
            Charge.NONE,
        ),
        (429, _err("insufficient_quota"), "upstream.no_balance", Charge.NONE),
        (429, _err("rate_limit_exceeded"), "upstream.rate_limited", Charge.NONE),
        (429, _err(None), "upstream.rate_limited", Charge.NONE),
        (500, _err(None, "internal"), "upstream.server", Charge.CHARGED),
        (502, "<html>bad gateway</html>", "upstream.server", Charge.CHARGED),
    ],
)
def test_error_table(status: int, body: object, key: str, charge: Charge) -> None:
    failure = classify_status(status, body, model="gpt-image-1", prompt="a fox")
    assert failure.key == key
    assert failure.charge == charge


def test_refusal_carries_stage_categories_and_a_rewrite() -> None:
    body = _err(
        "moderation_blocked",
        moderation_details={"moderation_stage": "input", "categories": ["copyright"]},
    )
    failure = classify_status(400, body, model="m", prompt="Mickey Mouse surfing")
    assert isinstance(failure, Refused)
    assert failure.params["stage"] == "input"
    assert failure.params["categories"] == ["copyright"]
    assert "cartoon mouse" in failure.params["suggestion"]


def test_account_problems_are_for_the_admin() -> None:
    failure = classify_status(401, _err("invalid_api_key"), model="m", prompt="p")
    assert isinstance(failure, UpstreamError) and failure.params["admin"] is True


def test_the_quick_check_never_hides_a_match_the_patterns_find() -> None:
    """Every term, written as the catalog has it, upper-cased, possessive, and with Unicode
    look-alikes the case-blind patterns also match: the same findings with and without the
    quick check."""
    from core.safety import load_terms

    terms = load_terms()
    for term in terms:
        for prompt in (
            f"in the style of {term.name}",
            f"A CASTLE BY {term.name.upper()}",
            f"{term.name}'s garden",
            f"by {term.name.replace('s', LONG_S).replace('k', KELVIN)}",
        ):
            quick = preflight(prompt, terms)
            slow = [t for t in terms if t.pattern.search(prompt)]
            assert (quick is not None) == bool(slow), prompt


LONG_S, KELVIN = "\u017f", "\u212a"  # case-fold to "s" and "k" in a case-blind pattern
