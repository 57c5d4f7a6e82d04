"""The message catalogs: every key in every language renders, nothing leaks, plurals are real.

The catalog test renders each message of each catalog (core, chat, terminal, Discord, Slack) in
English and Chinese with a value for every variable it uses (once with 1 and once with 2, so both
plural branches run) in strict mode, and fails on a key missing from a language, a leftover
placeholder, a Fluent error, or English words inside a Chinese sentence.
"""

from __future__ import annotations

import fnmatch
import logging
import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

import bots.discord
import bots.slack
import bots.web  # noqa: F401  (each package registers its catalog on import)
from core import messages
from core.config import Settings
from core.errors import (
    Charge,
    ConfigError,
    InvalidImage,
    InvalidRequest,
    PreflightMatch,
    PreflightRefused,
    QuotaExceeded,
    Refused,
    UpstreamError,
)

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = tuple(messages.LANGUAGES)
CATALOG_FILES = sorted(ROOT.glob("*/**/locales/*/*.ftl"))

# Capitalised words are product names and the platforms' own UI labels ("Basic Information",
# "OAuth & Permissions"); these lowercase words are literal values a person types.
TYPED_WORDS = {"id", "alpha", "http", "socket"}


def _english_words(sentence: str) -> list[str]:
    s = re.sub(r"`[^`]*`|“[^”]*”|\"[^\"]*\"|'[^']*'", " ", sentence)  # code and quoted input
    s = re.sub(r"https?://\S+", " ", s)
    s = re.sub(r"\S+ = \S+|--\S+ \S+", " ", s)  # config assignments, flags with a value
    s = re.sub(
        r"[A-Za-z0-9_.]*[./_=@:<>\[\]|+-][A-Za-z0-9./_=@:<>\[\]|+…-]*", " ", s
    )  # keys, paths
    return [w for w in re.findall(r"[A-Za-z]{2,}", s) if w.islower() and w not in TYPED_WORDS]


def _all_ids() -> set[str]:
    return set().union(*(messages.entries(language) for language in LANGUAGES))


def test_every_catalog_has_both_languages() -> None:
    owners = {(p.parent.parent, p.name) for p in CATALOG_FILES}
    names = {name for _, name in owners}
    assert {"core.ftl", "chat.ftl", "terminal.ftl", "discord.ftl", "slack.ftl", "web.ftl"} <= names
    for root, name in owners:
        for locale in messages.LANGUAGES.values():
            assert (root / locale / name).is_file(), f"{root}/{locale}/{name}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_key_is_missing_from_a_language(language: str) -> None:
    assert sorted(_all_ids() - messages.entries(language).keys()) == []


def test_every_message_renders_in_every_language() -> None:
    problems: list[str] = []
    english = messages.entries("en")
    for language in LANGUAGES:
        for message_id, entry in sorted(messages.entries(language).items()):
            if entry.variables != english[message_id].variables:
                problems.append(f"{message_id} [{language}] takes {sorted(entry.variables)}")
            for sample in (1, 2):
                params = {name: sample for name in entry.variables}
                try:
                    out = messages.text(message_id, language, **params)
                except messages.MessageError as exc:
                    problems.append(f"{message_id} [{language}]: {exc}")
                    continue
                if not out.strip() or re.search(r"[{}]|\$[a-z_]", out):
                    problems.append(f"{message_id} [{language}] renders {out!r}")
                if language == "zh" and (words := _english_words(out)):
                    problems.append(f"{message_id} [zh] has English {words}: {out!r}")
    assert problems == []


def _keys_used_in_code() -> set[str]:
    prefixes = {message_id.split("-", 1)[0] for message_id in _all_ids()}
    alternatives = "|".join(sorted(prefixes))
    pattern = re.compile(rf"""["']((?:{alternatives})\.[A-Za-z_.]+)["']""")
    keys: set[str] = set()
    sources = [*(ROOT / "core").rglob("*.py"), *(ROOT / "bots").rglob("*.py")]
    for path in [*sources, *(ROOT / "bots").rglob("*.html")]:
        keys.update(pattern.findall(path.read_text("utf-8")))
    # Config keys, file names, modules, columns and reason codes look like keys but are not sentences.
    config = {
        f"{section}.{key}"
        for section, field in Settings.model_fields.items()
        for key in getattr(field.annotation, "model_fields", {})
    }
    return (
        keys
        - config
        - {"config.toml", "discord.gateway", "image.png", "image.undecodable", "job.id"}
    )


def test_every_key_in_the_code_exists() -> None:
    assert sorted(k for k in _keys_used_in_code() if not messages.has(k)) == []


def test_strict_mode_fails_on_unknown_keys_and_missing_parameters() -> None:
    with pytest.raises(messages.MessageError, match="unknown key"):
        messages.text("invalid.no_such_sentence", "en")
    with pytest.raises(messages.MessageError, match="missing parameter limit"):
        messages.text("invalid.prompt_too_long", "zh", length=5000)


def test_production_logs_once_and_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    messages.set_strict(False)
    try:
        with caplog.at_level(logging.ERROR, logger="pixelsmith.messages"):
            first = messages.text("invalid.prompt_too_long", "en", length=5000)
            again = messages.text("invalid.prompt_too_long", "en", length=5000)
            unknown = messages.text("invalid.no_such_sentence_either", "zh")
    finally:
        messages.set_strict(True)
    assert first == again == "The prompt is 5000 characters; the limit is …. Please shorten it."
    assert unknown == messages.text("error.internal", "zh")
    logged = [r.getMessage() for r in caplog.records]
    assert len([m for m in logged if "missing parameter limit" in m]) == 1
    assert any("unknown key" in m for m in logged)


def test_a_remembered_sentence_is_the_one_formatting_gives() -> None:
    def queued(locale: str, position: object) -> str:
        return messages.text("status.queued", locale, model="m", percent=0, position=position)

    messages._texts.clear()
    assert queued("en", 3) == queued("en", 3) == "Queued (position 3)…"
    assert queued("zh-CN", 3) == "排队中（第 3 位）…"  # the language is part of the key
    assert queued("en", True) == "Queued (position True)…"  # so is the type: True == 1
    assert queued("en", 1) == "Queued (position 1)…"
    with pytest.raises(messages.MessageError, match="missing parameter limit"):
        messages.text("invalid.prompt_too_long", "en", length=5000)  # never remembered
    with pytest.raises(messages.MessageError, match="missing parameter limit"):
        messages.text("invalid.prompt_too_long", "en", length=5000)


def test_plurals_follow_each_language() -> None:
    assert messages.text("unit.images", "en", value=1) == "1 image"
    assert messages.text("unit.images", "en", value=3) == "3 images"
    assert messages.text("result.saved", "en", count=1, dir="out") == "Saved 1 image to out"
    assert messages.text("doctor.some_failed", "en", count=2).startswith("2 checks failed")
    assert messages.text("unit.images", "zh", value=1) == messages.text(
        "unit.images", "zh", value=1
    )
    assert "1 张" in messages.text("unit.images", "zh", value=1)
    assert "3 张" in messages.text("unit.images", "zh", value=3)
    for files in CATALOG_FILES:
        assert "(s)" not in files.read_text("utf-8").replace("http(s)", ""), files


def test_numbers_keep_their_digits() -> None:
    # Ids and ports are copied by people: no thousands separators; money keeps its decimals.
    assert "id 123456789012" in messages.text(
        "doctor.discord_ok", "en", name="bot", id=123456789012
    )
    assert messages.text("unit.usd", "en", value=1234.5) == "$1234.50"


def test_locale_choice() -> None:
    assert messages.lang("zh-CN") == "zh" and messages.lang("zh_TW.UTF-8") == "zh"
    assert messages.lang("en-US") == "en" and messages.lang(None) == "en"
    assert "提示词" in messages.text("invalid.empty_prompt", "zh-CN")


def test_render_puts_no_english_into_chinese() -> None:
    size = InvalidRequest(
        "invalid.size", value="5000x5000", model="gpt-image-2", allowed=["1024x1024"], flexible=True
    )
    failures = [
        size,
        InvalidImage("image.corrupt"),
        PreflightRefused(
            matches=[PreflightMatch("Hayao Miyazaki", "living_artist", "anime style")],
            suggestion="一座城堡",
        ),
        Refused(stage="output", categories=["violence", "self-harm/intent"], suggestion=None),
    ]
    for failure in failures:
        zh = messages.render(failure, "zh")
        words = _english_words(zh.replace("Hayao Miyazaki", "").replace("gpt-image-2", ""))
        assert words == [], zh
    assert "multiples of 16" in messages.render(size, "en")


def test_moderation_categories_are_named_in_the_readers_language() -> None:
    refused = Refused(stage="input", categories=["violence", "sexual/minors"], suggestion=None)
    assert "(categories: violence, sexual/minors)" in messages.render(refused, "en")
    zh = messages.render(refused, "zh")
    assert "（阶段：输入）（类别：暴力、涉及未成年人的色情）" in zh
    unknown = Refused(stage=None, categories=["new-category"], suggestion=None)
    assert "new-category" in messages.render(unknown, "zh")  # unknown names pass through


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
    assert "daily image limit: 0 images left" in text and f"<t:{int(when.timestamp())}:R>" in text
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


def test_catalog_files_ship_in_the_package() -> None:
    # `pip install .` (and so the Docker image) only carries files listed as package data.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    package_data = pyproject["tool"]["setuptools"]["package-data"]
    for path in CATALOG_FILES:
        package, _, inside = path.relative_to(ROOT).as_posix().partition("/")
        assert any(fnmatch.fnmatch(inside, glob) for glob in package_data.get(package, [])), path


@pytest.mark.parametrize("path", CATALOG_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_splitting_a_catalog_file_finds_what_parsing_it_whole_finds(path: Path) -> None:
    """Entries are parsed one by one on first use (start-up): each piece, parsed alone, is the
    same message or term as in the whole file parsed at once, and no piece is left over."""
    from fluent.syntax import FluentParser, ast

    source = path.read_text("utf-8")
    whole = {
        item.id.name: item
        for item in FluentParser(with_spans=False).parse(source).body
        if isinstance(item, ast.Message | ast.Term)
    }
    assert not [i for i in FluentParser().parse(source).body if isinstance(i, ast.Junk)]
    pieces: dict[str, ast.BaseNode] = {}
    for name, chunk in messages._split(source):
        assert name is not None, f"text outside any entry: {chunk[:80]!r}"
        [item] = [
            i
            for i in FluentParser(with_spans=False).parse(chunk).body
            if not isinstance(i, ast.Comment | ast.GroupComment | ast.ResourceComment)
        ]
        assert isinstance(item, ast.Message | ast.Term) and not isinstance(item, ast.Junk)
        pieces[name.lstrip("-")] = item
    assert sorted(pieces) == sorted(whole)
    for name, item in whole.items():
        assert item.equals(pieces[name], ignored_fields=["span", "comment"]), name


def test_a_syntax_error_in_a_catalog_is_reported(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "broken.ftl").write_text(
        "good-one = fine\nthis is not fluent\nbad-two = { $open\n", encoding="utf-8"
    )
    problems: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(messages, "_problem", lambda *what: problems.append(": ".join(what)))
        catalog = messages._Catalog("en", roots=[tmp_path])
        assert catalog.entry("good-one") is not None
        assert catalog.entry("bad-two") is None
    assert any("syntax error" in p and "this is not fluent" in p for p in problems), problems
    assert any("syntax error" in p and "bad-two" in p for p in problems), problems
