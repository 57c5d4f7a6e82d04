"""Every key core raises has a sentence in both languages, and no sentence leaks internals."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core import messages
from core.errors import (
    Charge,
    ConfigError,
    PreflightMatch,
    PreflightRefused,
    QuotaExceeded,
    Refused,
    UpstreamError,
)

ROOT = Path(__file__).resolve().parents[1]


def _keys_used_in_code() -> set[str]:
    pattern = re.compile(
        r"""["']((?:invalid|image|refused|quota|upstream|config|note|output|"""
        r"""cli|console|reaper|run|doctor|job)\.[a-z_]+)["']"""
    )
    keys: set[str] = set()
    for path in list((ROOT / "core").rglob("*.py")) + list((ROOT / "bots").rglob("*.py")):
        if path.name == "messages.py":
            continue
        keys.update(pattern.findall(path.read_text("utf-8")))
    # File names and reason codes that look like keys but are never rendered.
    return keys - {"config.toml", "image.png", "image.undecodable", "job.id"}


def test_every_key_in_the_code_has_english_and_chinese() -> None:
    missing_en = sorted(k for k in _keys_used_in_code() if k not in messages.EN)
    missing_zh = sorted(k for k in messages.EN if k not in messages.ZH)
    assert missing_en == []
    assert missing_zh == []


def test_locale_choice() -> None:
    assert messages.lang("zh-CN") == "zh" and messages.lang("zh_TW.UTF-8") == "zh"
    assert messages.lang("en-US") == "en" and messages.lang(None) == "en"
    assert "提示词" in messages.text("invalid.empty_prompt", "zh-CN")


def test_preflight_message_names_terms_and_suggestion() -> None:
    failure = PreflightRefused(
        matches=[PreflightMatch("Hayao Miyazaki", "living_artist", "anime style")],
        suggestion="a castle in a anime style",
    )
    text = messages.render(failure, "en")
    assert "Hayao Miyazaki" in text and "a castle in a anime style" in text
    assert "nothing was charged" in text.lower()
    assert "Van Gogh" in text  # styles-over-artists examples


def test_upstream_refusal_names_stage_and_categories() -> None:
    text = messages.render(Refused(stage="output", categories=["violence"], suggestion=None), "en")
    assert "output" in text and "violence" in text and "billed" in text


def test_quota_says_when_to_come_back() -> None:
    when = datetime(2026, 11, 25, tzinfo=UTC)
    failure = QuotaExceeded(limit="user_daily_images", remaining=0, unit="images", resets_at=when)
    text = messages.render(failure, "en", time_format=lambda t: f"<t:{int(t.timestamp())}:R>")
    assert "daily image limit" in text and f"<t:{int(when.timestamp())}:R>" in text
    zh = messages.render(failure, "zh")
    assert "每日图片上限" in zh and "2026-11-25" in zh


def test_account_problem_user_vs_admin() -> None:
    failure = UpstreamError("upstream.bad_key", charge=Charge.NONE, status=401, admin=True)
    assert "tell your admin" in messages.render(failure, "en")
    admin = messages.render(failure, "en", admin=True, base_url="https://gw/v1")
    assert "PIXELSMITH_API_KEY" in admin


def test_unknown_charge_is_said() -> None:
    failure = UpstreamError("upstream.timeout", charge=Charge.UNKNOWN)
    assert "may have been billed" in messages.render(failure, "en")
    failure = UpstreamError("upstream.network", charge=Charge.NONE)
    assert "Nothing was charged" in messages.render(failure, "en")


def test_config_error_names_the_key() -> None:
    text = messages.render(
        ConfigError(
            "config.invalid",
            key="provider.timeout_s",
            problem="Input should be greater than 0",
            path="c.toml",
        )
    )
    assert "provider.timeout_s" in text and "c.toml" in text


@pytest.mark.parametrize("key", sorted(messages.EN))
def test_every_sentence_formats_without_params(key: str) -> None:
    # A missing parameter must never crash a reply.
    assert messages.text(key, "en") and messages.text(key, "zh")
