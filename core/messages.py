"""Every sentence a person reads, in English and Simplified Chinese, from Fluent catalogs.

Words live in Project Fluent files (``locales/<locale>/*.ftl``), one folder per owner: core keeps
its own sentences next to this module (``core/locales``); each adapter keeps its catalog in its
own package and registers the folder with :func:`register` when it is imported, so core knows no
platform. Fluent, not gettext, because its messages are keyed by id (our callers already pass
keys), plural rules come from CLDR (``one``/``other`` for English, a single form for Chinese) and
are written by the translator as selectors inside the sentence, and a translation can reorder or
drop variables freely; gettext's msgid-is-English model and C-style plural formulas fit neither.

A key such as ``invalid.flag_value`` is the Fluent id with its dots as hyphens
(``invalid-flag_value``). Callers use :func:`text` (any key), :func:`render` (a typed failure, for
its audience: users get "tell your admin" for account problems, admins get the exact fix),
:func:`progress` and :func:`note`. Numbers keep their digits as given (no grouping: ids and ports
must stay copyable); ``NUMBER()`` in a catalog fixes decimals. Times are formatted by a callable
the adapter passes (Discord and Slack have their own markup).

To add a sentence, write ``id = ...`` into both ``en`` and ``zh-CN`` files of the catalog that owns
it (core, ``bots/locales`` chat.ftl for what Discord and Slack share or terminal.ftl for the CLI,
console and doctor, or the adapter's own); ``tests/test_messages.py`` renders every id in both
languages and finds keys the code uses that no catalog has.

A missing parameter, an unknown key or a key missing from one language is a bug. In strict mode
(the tests, or ``PIXELSMITH_STRICT_MESSAGES=1``) it raises :class:`MessageError`; in production it
is logged once and the reader still gets a sentence: the English one when a translation is
missing, the generic "something went wrong" for an unknown key, "…" for a missing parameter.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import Note, PixelsmithError, PreflightMatch
from core.types import Progress, Stage

if TYPE_CHECKING:
    pass

log = logging.getLogger("pixelsmith.messages")

TimeFormat = Callable[[datetime], str]

LANGUAGES: dict[str, str] = {"en": "en", "zh": "zh-CN"}
"""Our language codes -> the locale folder (and CLDR locale) of their catalog files."""

MISSING = "…"


class MessageError(LookupError):
    """A catalog bug: unknown key, missing translation, missing parameter, bad Fluent syntax."""


@dataclass(frozen=True)
class Entry:
    """One message of one language's catalog: its Fluent id, file and the variables it uses."""

    id: str
    path: Path
    variables: frozenset[str]


def set_strict(on: bool) -> None:
    """Strict mode: catalog bugs raise :class:`MessageError` instead of being logged once."""
    _mode["strict"] = on


def register(root: Path) -> None:
    """Add a catalog folder (``root/<locale>/*.ftl``); adapters call this on import."""
    with _lock:
        if root not in _roots:
            _roots.append(root)
            _bundles.clear()
            _texts.clear()


def key_id(key: str) -> str:
    """``invalid.flag_value`` -> ``invalid-flag_value`` (Fluent ids cannot contain dots)."""
    return key.replace(".", "-")


def lang(locale: str | None) -> str:
    """``zh``, ``zh-CN``, ``zh-TW`` ... -> zh; everything else -> en."""
    return "zh" if (locale or "").lower().startswith("zh") else "en"


def default_time_format(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


_roots: list[Path] = [Path(__file__).resolve().parent / "locales"]
_lock = threading.Lock()
_bundles: dict[str, _Catalog] = {}
# Finished sentences by (language, id, params): formatting is pure, and a busy process says the
# same few sentences over and over (a queue position, "generating ..."). Only plain parameters
# (the type is part of the key: 1, 1.0 and True are different words) and only clean results.
_texts: dict[tuple[Any, ...], str] = {}
_TEXTS_MAX = 4096
_PLAIN = (str, int, float, bool, type(None))
_reported: set[tuple[str, ...]] = set()
_mode = {"strict": os.environ.get("PIXELSMITH_STRICT_MESSAGES") == "1"}


def _problem(*what: str) -> None:
    message = ": ".join(what)
    if _mode["strict"]:
        raise MessageError(message)
    if what not in _reported:
        _reported.add(what)
        log.error("message catalog: %s", message)


def _variables(node: Any) -> set[str]:
    from fluent.syntax import Visitor, ast

    found: set[str] = set()

    class Finder(Visitor):
        def visit_VariableReference(self, ref: ast.VariableReference) -> None:
            found.add(ref.id.name)
            self.generic_visit(ref)

    Finder().visit(node)
    return found


def _number(value: Any, **options: Any) -> Any:
    """Fluent's NUMBER(), letting the "…" of a missing parameter through unchanged."""
    from fluent.runtime.types import fluent_number

    return value if isinstance(value, str) else fluent_number(value, **options)


# A Fluent entry (message or term) starts at the beginning of a line with its id and "="; every
# line of its value after the first is indented, and comments start with "#" (Fluent's syntax).
_ENTRY_START = re.compile(r"^(-?[a-zA-Z][a-zA-Z0-9_-]*)[ \t]*=", re.MULTILINE)
_TOP_LEVEL = re.compile(r"^[#a-zA-Z-]", re.MULTILINE)


def _split(source: str) -> list[tuple[str | None, str]]:
    """A catalog file's entries as ``(id, source)``, without parsing them: each runs from its id
    to the next line that starts another entry or a comment. ``None`` names text outside any
    entry that is not a comment (a syntax error: parsed when the file is read, so reported)."""
    cuts = sorted({0, *(m.start() for m in _TOP_LEVEL.finditer(source))})
    out: list[tuple[str | None, str]] = []
    for begin, end in zip(cuts, [*cuts[1:], len(source)], strict=True):
        chunk = source[begin:end]
        match = _ENTRY_START.match(chunk)
        if match is not None:
            out.append((match.group(1), chunk))
        elif chunk.strip() and not chunk.startswith("#"):
            out.append((None, chunk))
    return out


class _Catalog:
    """One language's messages from every registered root. Files are split into entries when
    first needed; an entry is parsed (and added to the Fluent bundle) the first time it is
    used, so a one-shot command pays for the few sentences it says, not for all of them."""

    def __init__(self, language: str, roots: Iterable[Path] | None = None) -> None:
        from fluent.runtime import FluentBundle

        locale = LANGUAGES[language]
        self.bundle = FluentBundle([locale], use_isolating=False, functions={"NUMBER": _number})
        self._sources: dict[str, tuple[Path, str]] = {}
        self._entries: dict[str, Entry] = {}
        for root in _roots if roots is None else roots:  # the caller holds _lock
            for path in sorted((root / locale).glob("*.ftl")):
                for name, chunk in _split(path.read_text("utf-8")):
                    if name is None:
                        self._parse(path, chunk)  # reports the syntax error
                    elif name in self._sources:
                        _problem(name, f"defined in {self._sources[name][0]} and {path}")
                    else:
                        self._sources[name] = (path, chunk)
        for name in [n for n in self._sources if n.startswith("-")]:
            self.entry(name)  # terms: any message may use them

    def _parse(self, path: Path, chunk: str) -> list[Any]:
        from fluent.syntax import FluentParser, ast

        resource = FluentParser(with_spans=False).parse(chunk)
        for item in resource.body:
            if isinstance(item, ast.Junk):
                _problem(str(path), "syntax error", (item.content or "").strip()[:80])
        self.bundle.add_resource(resource)
        return list(resource.body)

    def __contains__(self, message_id: str) -> bool:
        return message_id in self._sources and not message_id.startswith("-")

    def entry(self, message_id: str) -> Entry | None:
        """The entry ``message_id``, parsed on first use; None if no file has it."""
        from fluent.syntax import ast

        found = self._entries.get(message_id)
        if found is not None or message_id not in self._sources:
            return found
        path, chunk = self._sources[message_id]
        parsed = [
            item
            for item in self._parse(path, chunk)
            if isinstance(item, ast.Message | ast.Term) and item.id.name == message_id.lstrip("-")
        ]
        if not parsed:  # a syntax error (reported): as if the file did not have it
            del self._sources[message_id]
            return None
        variables = frozenset(_variables(parsed[0]))
        found = self._entries[message_id] = Entry(message_id, path, variables)
        return found

    def all(self) -> dict[str, Entry]:
        found = (self.entry(name) for name in self._sources if not name.startswith("-"))
        return {entry.id: entry for entry in found if entry is not None}


def _catalog(language: str) -> _Catalog:
    with _lock:
        if language not in _bundles:
            _bundles[language] = _Catalog(language)
        return _bundles[language]


def entries(language: str) -> dict[str, Entry]:
    """Every message of a language (``en`` or ``zh``) by Fluent id, from every registered root."""
    catalog = _catalog(language)
    with _lock:
        return catalog.all()


def has(key: str) -> bool:
    return key_id(key) in _catalog("en")


def _argument(value: Any, language: str) -> Any:
    from fluent.runtime.types import fluent_number

    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int | float | Decimal):
        return fluent_number(value, useGrouping=False)
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return default_time_format(value)
    if isinstance(value, list | tuple | set | frozenset):
        return ("、" if language == "zh" else ", ").join(str(v) for v in value)
    return str(value)


def text(key: str, locale: str | None = "en", /, **params: Any) -> str:
    """The sentence for ``key`` in the locale's language, with ``params`` filled in."""
    language = lang(locale)
    message_id = key_id(key)
    memo: tuple[Any, ...] | None = (language, message_id)
    for name, value in params.items():
        if type(value) not in _PLAIN:
            memo = None
            break
        memo += (name, type(value), value)  # type: ignore[operator]
    if memo is not None and (found := _texts.get(memo)) is not None:
        return found
    catalog = _catalog(language)
    with _lock:
        entry = catalog.entry(message_id)
    if entry is None:
        if message_id not in _catalog("en"):
            _problem(key, "unknown key")
            return text("error.internal", language) if has("error.internal") else key
        _problem(key, f"missing in {LANGUAGES[language]}")
        return text(key, "en", **params)
    args = {name: _argument(value, language) for name, value in params.items()}
    for name in sorted(entry.variables - args.keys()):
        _problem(key, f"missing parameter {name}")
        args[name] = MISSING
        memo = None
    message = catalog.bundle.get_message(message_id)
    if message.value is None:
        _problem(key, "has no value")
        return key
    result, errors = catalog.bundle.format_pattern(message.value, args)
    for error in errors:
        _problem(key, repr(error))
    said = str(result)
    if memo is not None and not errors:
        if len(_texts) >= _TEXTS_MAX:
            _texts.clear()
        _texts[memo] = said
    return said


def _terms_by_category(matches: Iterable[PreflightMatch], locale: str) -> str:
    groups: dict[str, list[str]] = {}
    for m in matches:
        groups.setdefault(m.category, []).append(m.term)
    sep = "、" if lang(locale) == "zh" else "; "
    return sep.join(
        text(f"category.{cat}", locale, terms=list(dict.fromkeys(terms)))
        for cat, terms in groups.items()
    )


def render(
    failure: PixelsmithError,
    locale: str | None = "en",
    *,
    admin: bool = False,
    time_format: TimeFormat = default_time_format,
    base_url: str = "",
) -> str:
    """The sentence for a typed failure. ``admin=True`` gives account problems their fix."""
    loc = lang(locale)
    p = dict(failure.params)
    key = failure.key
    if admin and has(f"admin.{key}"):
        return text(f"admin.{key}", loc, base_url=base_url, **p)
    why = text("refused.why", loc, examples=text("refused.examples", loc))
    if key == "refused.preflight":
        return text(
            key,
            loc,
            terms=_terms_by_category(p.get("matches", []), loc),
            why=why,
            suggestion=p.get("suggestion") or "",
        )
    if key == "refused.upstream":
        return _refused(p, loc, why)
    if key == "config.invalid" and not p.get("path_or_env"):
        p["path_or_env"] = p.get("path") or "config.toml"
    if key in ("quota.exceeded", "quota.cooldown"):
        return _quota(p, loc, key, time_format)
    if key in ("upstream.timeout", "upstream.network"):
        charge = "charge.none" if failure.charge == "none" else "charge.unknown"
        return text(key, loc, **{**p, "charge_line": text(charge, loc)})
    if key == "upstream.invalid_request":
        detail = ", ".join(str(v) for v in (p.get("code"), p.get("param")) if v) or "HTTP 400"
        return text(key, loc, detail=detail)
    if key == "invalid.size":
        p["flex_hint"] = text("invalid.size_flex_hint", loc) if p.get("flexible") else ""
    if key.startswith("image.") and not p.get("name"):
        p["name"] = text("image.default_name", loc)
    return text(key, loc, **p)


def _refused(p: Mapping[str, Any], loc: str, why: str) -> str:
    stage = text("refused.stage", loc, stage=p["stage"]) if p.get("stage") else ""
    cats = [
        text("refused.category", loc, name=str(c), category=str(c).replace("/", "-"))
        for c in p.get("categories") or ()
    ]
    categories = text("refused.categories", loc, categories=cats) if cats else ""
    suggestion = p.get("suggestion")
    line = text("refused.suggestion", loc, suggestion=suggestion) if suggestion else ""
    return text(
        "refused.upstream", loc, stage=stage, categories=categories, why=why, suggestion_line=line
    )


def _quota(p: dict[str, Any], loc: str, key: str, time_format: TimeFormat) -> str:
    resets_at = p.get("resets_at")
    resets = time_format(resets_at) if isinstance(resets_at, datetime) else ""
    if key == "quota.cooldown":
        return text(key, loc, resets=resets)
    unit = p.get("unit", "images")
    remaining = p.get("remaining", 0)
    remaining_text = (
        text(f"unit.{unit}", loc, value=remaining)
        if unit in ("images", "usd", "jobs")
        else str(remaining)
    )
    limit_name = text(f"limit.{p.get('limit', '')}", loc)
    if not resets:
        return text("quota.exceeded_noreset", loc, limit_name=limit_name, remaining=remaining_text)
    return text(key, loc, limit_name=limit_name, remaining=remaining_text, resets=resets)


def progress(p: Progress, locale: str | None, model: str) -> str:
    """The status line of a job in progress, the same words on every adapter."""
    return text(
        f"status.{p.stage.value}",
        locale,
        model=model,
        percent=p.percent or 0,
        position=p.queue_position or 1,
    )


def progress_bar(p: Progress, cells: int, full: str, empty: str) -> str | None:
    """The bar of a picture being drawn (``cells`` wide, in the adapter's own glyphs); None
    while there is no percent to show (queued, finishing, or a model that reports none)."""
    if p.percent is None or p.stage not in (Stage.GENERATING, Stage.PARTIAL):
        return None
    filled = max(0, min(cells, round(p.percent * cells / 100)))
    return full * filled + empty * (cells - filled)


def note(item: Note, locale: str | None = "en") -> str:
    params = dict(item.params)
    if item.key == "note.preflight_warn":
        params["terms"] = _terms_by_category(params.get("matches", []), lang(locale))
    return text(item.key, locale, **params)
