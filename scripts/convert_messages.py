"""Convert old-style ``EN``/``ZH`` dict sentences (str.format templates) into the Fluent catalogs.

    python scripts/convert_messages.py OLD_MESSAGES_PY [--dry-run]

OLD_MESSAGES_PY is a module with ``EN`` and ``ZH`` dicts (e.g. ``git show REV:core/messages.py``
saved to a file). Keys already in a catalog are skipped, so the script can be re-run after a rebase
to pick up sentences someone added in the old form. Each converted sentence is checked: its Fluent
rendering must equal the old ``str.format`` rendering for sample parameters (plural rewrites in
``PLURALS`` are checked for the plural case).
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import string
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOCALES = {"en": "en", "zh": "zh-CN"}

# Sentences that were written twice (discord.* and slack.*) live once in the chat catalog.
SHARED = {
    "discord.button.reroll": "chat.button.reroll",
    "slack.button.reroll": "chat.button.reroll",
    "discord.button.edit": "chat.button.edit",
    "slack.button.edit": "chat.button.edit",
    "discord.button.suggest": "chat.button.suggest",
    "slack.button.use_suggestion": "chat.button.suggest",
    "discord.button.force": "chat.button.force",
    "discord.button.region": "chat.button.region",
    "slack.button.region": "chat.button.region",
    "slack.button.send_anyway": "chat.button.force",
    "discord.modal.prompt_label": "chat.modal.prompt",
    "slack.modal.prompt": "chat.modal.prompt",
    "discord.no_image_in_message": "chat.no_images",
    "slack.no_images": "chat.no_images",
    "discord.cmd.history": "chat.recent",
    "slack.home.recent": "chat.recent",
    "discord.quota.unlimited": "chat.quota.unlimited",
    "slack.home.unlimited": "chat.quota.unlimited",
    "discord.history.line": "chat.history.line",
    "slack.home.job": "chat.history.line",
    **{
        f"{platform}.state.{state}": f"chat.state.{state}"
        for platform in ("discord", "slack")
        for state in (
            "RESERVED",
            "SUBMITTED",
            "SUCCEEDED",
            "FAILED_CHARGED",
            "UNKNOWN_CHARGED",
            "RELEASED",
        )
    },
    **{
        f"{platform}.admin.{what}": f"chat.admin.{what}"
        for platform in ("discord", "slack")
        for what in ("banned", "already_banned", "unbanned", "not_banned")
    },
}
# The first spelling wins for shared keys (Discord's); Slack's admin sentences said {user}.
RENAME_PARAMS = {"chat.admin": {"user": "target"}}

# English sentences that said "image(s)": real plural selectors now.
PLURALS: dict[str, str] = {
    "output.reencoded": """{ $count ->
        [one] { $count } image was
       *[other] { $count } images were
    } re-encoded to fit the upload limit.""",
    "result.saved": """Saved { $count ->
        [one] { $count } image
       *[other] { $count } images
    } to { $dir }""",
    "doctor.some_failed": """{ $count ->
        [one] { $count } check failed: fix it, then run `pixelsmith doctor` again.
       *[other] { $count } checks failed: fix them, then run `pixelsmith doctor` again.
    }""",
    "doctor.gateway_ok": """accepted by { $base_url } ({ $count ->
        [one] { $count } model
       *[other] { $count } models
    } listed; nothing generated, nothing billed)""",
    "doctor.model_retiring": """retires on { $date }, in { $days ->
        [one] { $days } day
       *[other] { $days } days
    }""",
    "cli.check_bad": """{ $count ->
        [one] { $count } difference
       *[other] { $count } differences
    } between counters and the ledger:""",
    "unit.images": """{ $value ->
        [one] { $value } image
       *[other] { $value } images
    }""",
    "unit.jobs": """{ $value ->
        [one] { $value } job
       *[other] { $value } jobs
    }""",
    "note.filtered": """{ $filtered } of { $requested } { $filtered ->
        [one] images was
       *[other] images were
    } filtered by the safety system.""",
    "result.quota_left": """Left today: { $images_today ->
        [one] { $images_today } image
       *[other] { $images_today } images
    }, ${ $usd_today }""",
    "invalid.n_range": """{ $model } makes { $max ->
        [one] 1 image
       *[other] 1 to { $max } images
    } per request; you asked for { $n }.""",
    "invalid.too_many_images": """{ $model } takes at most { $max ->
        [one] 1 input image
       *[other] { $max } input images
    }; you attached { $count }.""",
    "discord.left.images_today": """{ $value ->
        [one] { $value } image
       *[other] { $value } images
    } today""",
    "discord.left.images_month": """{ $value ->
        [one] { $value } image
       *[other] { $value } images
    } this month""",
    "discord.admin.usage_line": """{ $group }: { $jobs ->
        [one] { $jobs } job
       *[other] { $jobs } jobs
    }, { $images ->
        [one] { $images } image
       *[other] { $images } images
    }, ${ NUMBER($cost, minimumFractionDigits: 2, maximumFractionDigits: 2) }""",
    "slack.admin.usage_line": """{ $group }: { $jobs ->
        [one] { $jobs } job
       *[other] { $jobs } jobs
    }, { $images ->
        [one] { $images } image
       *[other] { $images } images
    }, ${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) }""",
}

HEADER = """\
# The {owner} catalog, {locale}. Fluent syntax (https://projectfluent.org/fluent/guide/):
#   key-with-hyphens = Sentence with { $param } and a plural { $n ->
#       [one] form
#      *[other] forms
#   }
# A key in the code is its id with dots for hyphens: `invalid.flag_value` is `invalid-flag_value`.
# Every id exists in en and zh-CN (tests/test_messages.py renders them all).
"""

TERMINAL = ("doctor", "cli", "console", "run", "reaper")


def target(key: str) -> Path:
    """The catalog file (relative to a locale folder's parent) that owns ``key``."""
    prefix = key.split(".", 1)[0]
    if prefix == "discord":
        return Path("bots/discord/locales/{locale}/discord.ftl")
    if prefix == "slack":
        return Path("bots/slack/locales/{locale}/slack.ftl")
    if prefix == "web":
        return Path("bots/web/locales/{locale}/web.ftl")
    if prefix == "chat":
        return Path("bots/locales/{locale}/chat.ftl")
    if prefix in TERMINAL:
        return Path("bots/locales/{locale}/terminal.ftl")
    return Path("core/locales/{locale}/core.ftl")


def to_fluent(template: str, params: dict[str, str]) -> str:
    """A str.format template -> a Fluent pattern (single line)."""
    parts: list[str] = []
    for literal, field, spec, conversion in string.Formatter().parse(template):
        parts.append(literal.replace("{", '{"{"}').replace("}", '{"}"}'))
        if field is None:
            continue
        name = params.get(field, field)
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"field {field!r} in {template!r}")
        if spec:
            m = re.fullmatch(r"\.(\d)f", spec)
            if not m:
                raise ValueError(f"format spec {spec!r} in {template!r}")
            d = m.group(1)
            place = f"{{ NUMBER(${name}, minimumFractionDigits: {d}, maximumFractionDigits: {d}) }}"
        else:
            place = f"{{ ${name} }}"
        parts.append(f"“{place}”" if conversion == "r" else place)
    pattern = "".join(parts)
    lead = len(pattern) - len(pattern.lstrip(" "))
    trail = len(pattern) - len(pattern.rstrip(" "))
    core = pattern.strip(" ")
    return '{" "}' * lead + core + '{" "}' * trail


def _load_old(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    spec = importlib.util.spec_from_file_location("old_messages", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.EN, module.ZH


def _existing_ids(path: Path) -> set[str]:
    if not path.exists():
        return set()
    return set(re.findall(r"^([a-zA-Z][a-zA-Z0-9_-]*) =", path.read_text("utf-8"), re.M))


def _check(key: str, old: str, new: str, language: str) -> None:
    from fluent.runtime import FluentBundle, FluentResource
    from fluent.runtime.types import fluent_number

    fields = {f for _, f, _, _ in string.Formatter().parse(old) if f}
    rename = next((v for k, v in RENAME_PARAMS.items() if key.startswith(k)), {})
    sample: dict[str, Any] = {f: 7 for f in fields}
    bundle = FluentBundle([LOCALES[language]], use_isolating=False)
    resource = FluentResource(f"m = {new}\n")
    bundle.add_resource(resource)
    args = {rename.get(f, f): fluent_number(v, useGrouping=False) for f, v in sample.items()}
    got, errors = bundle.format_pattern(bundle.get_message("m").value, args)
    want = old.format(**sample)
    if key in PLURALS:
        want = want.replace("(s)", "s")
    if errors or got.replace("“", "").replace("”", "") != want.replace("“", "").replace("”", ""):
        if key in PLURALS and language == "en" and not errors:
            return _check_loose(key, got, want)
        raise SystemExit(f"{key} [{language}]: {old!r} -> {new!r} renders {got!r} {errors}")


def _report_change(key: str, template: str, path: Path, language: str) -> None:
    """Say when a sentence already in the catalog now reads differently in the old form."""
    if key in PLURALS or key in SHARED.values():
        return
    source = path.read_text("utf-8")
    message_id = key.replace(".", "-")
    match = re.search(rf"^{re.escape(message_id)} = (.*(?:\n[ \t]+.*)*)", source, re.M)
    if match is None:
        return
    rename = next((v for k, v in RENAME_PARAMS.items() if key.startswith(k)), {})
    try:
        _check(key, template, match.group(1), language)
    except SystemExit:
        print(f"CHANGED {key} [{language}]: now {to_fluent(template, rename)!r}")


def _check_loose(key: str, got: str, want: str) -> None:
    norm = lambda s: re.sub(r"\s+", " ", s.replace("“", "").replace("”", ""))  # noqa: E731
    if norm(got) != norm(want):
        raise SystemExit(f"{key}: plural rewrite renders {got!r}, old sentence {want!r}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("old", type=Path)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    en, zh = _load_old(args.old)
    written: dict[Path, list[str]] = {}
    for language, table in (("en", en), ("zh", zh)):
        seen: set[str] = set()
        for old_key, template in table.items():
            key = SHARED.get(old_key, old_key)
            if key in seen:
                continue
            seen.add(key)
            path = ROOT / str(target(key)).format(locale=LOCALES[language])
            message_id = key.replace(".", "-")
            if message_id in _existing_ids(path):
                _report_change(key, template, path, language)
                continue
            if any(f"{message_id} =" in line for line in written.get(path, [])):
                continue
            rename = next((v for k, v in RENAME_PARAMS.items() if key.startswith(k)), {})
            if language == "en" and key in PLURALS:
                pattern = PLURALS[key]
            else:
                pattern = to_fluent(template, rename)
            _check(key, template, pattern, language)
            group = key.split(".", 1)[0]
            lines = written.setdefault(path, [])
            if (_group(lines) or _file_group(path)) != group:
                lines.append(f"\n## {group}\n")
            lines.append(f"{message_id} = {pattern}\n")
    for path, lines in written.items():
        print(f"{path.relative_to(ROOT)}: +{sum(1 for x in lines if ' = ' in x)}")
        if args.dry_run:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text(
                HEADER.replace("{owner}", path.stem).replace("{locale}", path.parent.name), "utf-8"
            )
        with path.open("a", encoding="utf-8") as f:
            f.writelines(lines)


def _file_group(path: Path) -> str:
    groups = re.findall(r"^## (.*)$", path.read_text("utf-8"), re.M) if path.exists() else []
    return groups[-1].strip() if groups else ""


def _group(lines: list[str]) -> str:
    for line in reversed(lines):
        if line.startswith("\n## "):
            return line[4:].strip()
    return ""


if __name__ == "__main__":
    main()
