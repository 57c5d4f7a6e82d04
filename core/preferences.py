"""A member's own defaults (``/settings``): what they are, how a typed value is checked, and
how they fill a request.

Stored per member AND community (``Identity.member_scope``) through the store; everything here
is pure. Precedence when a request is built: explicit options (slash-command options, CLI
flags) > flags typed in the prompt > these preferences > the deployment's defaults. A stored
value is checked against the catalog again every time it is used: a default model that was
removed (or disabled) falls back to the deployment's default, a value the model in use does
not take is left out, each with a note on the result — never an error, so a catalog change
cannot lock a member into failing requests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from core.catalog import Catalog, ModelSpec
from core.errors import InvalidRequest, Note
from core.request import ASPECT_ALIASES, ASPECTS, FLEX_ASPECTS, Options, choice_of, size_of

# What a member may set, in the order they are shown.
FIELDS = (
    "model",
    "size",
    "quality",
    "n",
    "background",
    "output_format",
    "private",
    "language",
    "remix",
)
LANGUAGES = ("en", "zh-CN")
# Names people type (console, Slack) for each field.
ALIASES = {
    "ar": "size",
    "aspect": "size",
    "q": "quality",
    "bg": "background",
    "format": "output_format",
    "lang": "language",
    "m": "model",
}
_CLEAR = ("", "default", "none", "-", "auto")
_TRUE = ("on", "yes", "true", "1")
_FALSE = ("off", "no", "false", "0")
_ASSIGNMENT = re.compile(r"([A-Za-z_-]+)=(\S*)")


@dataclass(frozen=True)
class Preferences:
    """One member's defaults in one community; None / False: not set."""

    model: str | None = None
    size: str | None = None  # an aspect ratio (``2:3``, ``portrait``) or ``WxH``
    quality: str | None = None
    n: int | None = None
    background: str | None = None
    output_format: str | None = None
    private: bool = False  # answer ephemerally where the platform allows
    language: str | None = None  # overrides the platform's locale
    remix: bool = False  # job buttons open a modal with the prompt first

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> Preferences:
        """Leniently: a value of the wrong type (a hand-edited row) is ignored, not raised."""
        values: dict[str, Any] = {}
        for name in ("model", "size", "quality", "background", "output_format"):
            value = data.get(name)
            if isinstance(value, str) and 0 < len(value) <= 100:
                values[name] = value
        n = data.get("n")
        if isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 10:
            values["n"] = n
        language = data.get("language")
        if language in LANGUAGES:
            values["language"] = language
        for name in ("private", "remix"):
            if isinstance(data.get(name), bool):
                values[name] = data[name]
        return cls(**values)

    def stored(self) -> dict[str, Any]:
        """What the store keeps: only what is set."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and value is not False:
                out[f.name] = value
        return out

    @property
    def empty(self) -> bool:
        return not self.stored()

    def locale(self, platform_locale: str) -> str:
        """The language to answer in: the member's choice, else the platform's."""
        return self.language or platform_locale

    def options(self) -> Options:
        """The image defaults as options (``size`` an aspect ratio or a WxH size)."""
        aspect, size = _split_size(self.size)
        return Options(
            model=self.model,
            size=size,
            aspect=aspect,
            quality=self.quality,
            n=self.n,
            background=self.background,
            output_format=self.output_format,
        )


def _split_size(value: str | None) -> tuple[str | None, str | None]:
    """``(aspect, size)`` of a stored size preference."""
    if value is None:
        return None, None
    if ":" in value or value.lower() in ASPECT_ALIASES:
        return value, None
    return None, value


def field_name(name: str) -> str:
    """The field a typed name means (``ar`` -> ``size``); InvalidRequest for anything else."""
    low = name.strip().lower().replace("-", "_")
    low = ALIASES.get(low, low)
    if low not in FIELDS:
        raise InvalidRequest("invalid.pref_unknown", name=name[:40], known=list(FIELDS))
    return low


def parse_assignments(text: str) -> dict[str, str]:
    """``quality=high n=2 private=on`` -> ``{"quality": "high", "n": "2", "private": "on"}``
    (field names resolved); anything else in the text is an InvalidRequest naming the form."""
    text = text.strip()
    found: dict[str, str] = {}
    rest = _ASSIGNMENT.sub(" ", text).strip()
    if rest:
        raise InvalidRequest("invalid.pref_usage", example="quality=high n=2 private=on")
    for match in _ASSIGNMENT.finditer(text):
        found[field_name(match[1])] = match[2]
    return found


def change(
    current: Preferences,
    typed: Mapping[str, str | bool | int | None],
    *,
    catalog: Catalog,
    default_model: str,
) -> Preferences:
    """``current`` with the ``typed`` values (a field name -> what the member chose; None or
    ``default`` clears it), validated together against the catalog as a request with these
    defaults would be. Raises InvalidRequest naming the value and what is allowed."""
    values: dict[str, Any] = {}
    for raw_name, raw in typed.items():
        name = field_name(raw_name)
        values[name] = _value(name, raw)
    new = replace(current, **values)
    _validate(new, catalog, default_model)
    return new


def _value(name: str, raw: str | bool | int | None) -> Any:
    if name in ("private", "remix"):
        if isinstance(raw, bool):
            return raw
        word = str(raw if raw is not None else "").strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE or word in _CLEAR:
            return False
        raise InvalidRequest(
            "invalid.pref_value", name=name, value=word[:40], allowed=["on", "off"]
        )
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in _CLEAR):
        return None
    if name == "n":
        try:
            return int(str(raw).strip())
        except ValueError:
            raise InvalidRequest("invalid.not_a_number", option="n", value=str(raw)[:40]) from None
    word = str(raw).strip()
    if name == "language":
        match = {"en": "en", "zh": "zh-CN", "zh-cn": "zh-CN"}.get(word.lower())
        if match is None:
            raise InvalidRequest(
                "invalid.pref_value", name=name, value=word[:40], allowed=list(LANGUAGES)
            )
        return match
    if len(word) > 100:
        raise InvalidRequest("invalid.pref_value", name=name, value=word[:40], allowed=[])
    return word if name == "model" else word.lower()


def _validate(prefs: Preferences, catalog: Catalog, default_model: str) -> None:
    model = prefs.model or default_model
    spec = catalog.get(model)
    if spec is None or not spec.enabled:
        raise InvalidRequest(
            "invalid.unknown_model", model=model, known=catalog.names(enabled_only=True)
        )
    opts = prefs.options()
    size_of(opts, spec)
    for name, allowed in _choices(spec).items():
        choice_of(getattr(opts, name), allowed, name, spec)
    if prefs.n is not None and not 1 <= prefs.n <= spec.n_max:
        raise InvalidRequest("invalid.n_range", n=prefs.n, max=spec.n_max, model=spec.name)
    if prefs.background == "transparent" and prefs.output_format == "jpeg":
        raise InvalidRequest("invalid.transparent_jpeg")


def _choices(spec: ModelSpec) -> dict[str, tuple[str, ...]]:
    return {
        "quality": spec.qualities,
        "background": spec.backgrounds,
        "output_format": spec.output_formats,
    }


def fill(
    given: Options,
    prefs: Preferences,
    *,
    catalog: Catalog,
    default_model: str,
    edit: bool = False,
) -> tuple[Options, tuple[Note, ...]]:
    """``given`` (explicit options merged over the prompt's flags) with the member's defaults
    where nothing was given, each default checked against the model in use; what does not
    apply is left out with a note. The size default is not used for edits (an edit keeps its
    source's shape unless a size is typed)."""
    notes: list[Note] = []
    model = given.model
    if model is None and prefs.model is not None:
        spec = catalog.get(prefs.model)
        if spec is None or not spec.enabled or (edit and not spec.edits):
            notes.append(
                Note("note.pref_model_gone", {"model": prefs.model, "default": default_model})
            )
        else:
            model = spec.name
    spec = catalog.get(model or default_model)
    if spec is None:
        return given, tuple(notes)  # the request itself names the unknown model
    filled: dict[str, Any] = {"model": model}

    def ignored(option: str, value: object) -> None:
        notes.append(
            Note("note.pref_ignored", {"option": option, "value": value, "model": spec.name})
        )

    if not edit and given.size is None and given.aspect is None and prefs.size is not None:
        aspect, size = _split_size(prefs.size)
        try:
            size_of(Options(aspect=aspect, size=size), spec)
            filled |= {"aspect": aspect, "size": size}
        except InvalidRequest:
            ignored("size", prefs.size)
    for name, allowed in _choices(spec).items():
        value = getattr(prefs, name)
        if getattr(given, name) is None and value is not None:
            if value.lower() in allowed:
                filled[name] = value
            else:
                ignored(name, value)
    if given.n is None and prefs.n is not None:
        if prefs.n <= spec.n_max:
            filled["n"] = prefs.n
        else:
            ignored("n", prefs.n)
    out = replace(given, **filled)
    if out.background == "transparent" and (out.output_format or "").lower() == "jpeg":
        # only when one of the two came from the preferences: a typed pair is the user's error
        if "background" in filled and given.background is None:
            ignored("background", out.background)
            out = replace(out, background=None)
        elif "output_format" in filled and given.output_format is None:
            ignored("output_format", out.output_format)
            out = replace(out, output_format=None)
    return out, tuple(notes)


def choices(catalog: Catalog) -> dict[str, list[str]]:
    """What a settings view offers per field (model, size, quality, n, background,
    output_format): the union over the enabled models, so any offered value is valid for at
    least one model; :func:`change` still checks the chosen combination."""
    specs = [s for s in (catalog.get(n) for n in catalog.names(enabled_only=True)) if s]

    def union(name: str) -> list[str]:
        return list(dict.fromkeys(v for spec in specs for v in getattr(spec, name)))

    return {
        "model": [s.name for s in specs],
        "size": [*ASPECTS, *FLEX_ASPECTS],
        "quality": union("qualities"),
        "n": [str(i) for i in range(1, 11)],
        "background": union("backgrounds"),
        "output_format": union("output_formats"),
    }


def shown(prefs: Preferences, locale: str) -> list[tuple[str, str]]:
    """``(name, value)`` of every setting in ``locale``, in :data:`FIELDS` order (for a
    settings view on any platform)."""
    from core import messages

    rows: list[tuple[str, str]] = []
    for name in FIELDS:
        value = getattr(prefs, name)
        if name in ("private", "remix"):
            word = messages.text("prefs.on" if value else "prefs.off", locale)
        elif name == "language":
            key = f"prefs.language.{value}" if value else "prefs.platform"
            word = messages.text(key, locale)
        elif value is None:
            word = messages.text("prefs.default", locale)
        else:
            word = str(value)
        rows.append((messages.text(f"prefs.name.{name}", locale), word))
    return rows


def summary(prefs: Preferences, locale: str) -> str:
    """The settings as lines of text, with a heading."""
    from core import messages

    lines = [messages.text("prefs.heading", locale)]
    lines += [messages.text("prefs.line", locale, name=n, value=v) for n, v in shown(prefs, locale)]
    return "\n".join(lines)
