"""Discord's published limits on what a bot sends, checked the way Discord checks them.

A violation is answered as Discord does: HTTP 400 ``{"code": 50035, "message": "Invalid Form
Body", "errors": {...}}`` whose ``errors`` tree names the field (``{"content": {"_errors":
[{"code": "BASE_TYPE_MAX_LENGTH", "message": ...}]}}``; the "Error Messages" section of
developers/reference.mdx in github.com/discord/discord-api-docs). Sources, cited per rule (paths
in that repository):

* MESSAGE: developers/resources/message.mdx ("Create Message" params: content up to 2000
  characters, up to 10 embeds).
* FILES: developers/reference.mdx ("Uploading Files": the limit applies to each file; the
  interaction's ``attachment_size_limit`` is that limit) and discord.py's own check
  ("files parameter must be a list of up to 10 elements").
* COMPONENTS: developers/components/reference.mdx (legacy messages: up to 5 action rows; an
  action row holds up to 5 buttons or one select; ``custom_id`` 1-100 characters, unique per
  message; button ``label`` max 80, ``url`` max 512; select: up to 25 options, option
  ``label``/``value``/``description`` max 100, ``placeholder`` max 150; Label: ``label`` max 45,
  ``description`` max 100; Text Input "must be placed inside a Label", ``min_length`` 0-4000,
  ``max_length`` 1-4000, ``value`` max 4000, ``placeholder`` max 100; File Upload
  ``min_values``/``max_values`` 0-10).
* MODAL: developers/interactions/receiving-and-responding.mdx (modal ``custom_id`` 1-100,
  ``title`` max 45, between 1 and 5 components; autocomplete: max of 25 choices).
* COMMANDS: developers/interactions/application-commands.mdx (names 1-32 matching
  ``^[-_'\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$``, lowercase; descriptions 1-100, empty for
  USER/MESSAGE; max 25 options and 25 choices; choice name 1-100, string value up to 100;
  ``autocomplete`` not with ``choices``; 8000 characters per command; 100 CHAT_INPUT, 15 USER and
  15 MESSAGE commands per scope; ``name_localizations`` / ``description_localizations`` keyed by
  the locales of developers/reference.mdx ("Locales") with "values [that] follow the same
  restrictions as" ``name`` / ``description``; "Required options must be listed before optional
  options"; an option ``name`` "must be unique within an array of application command options";
  command names unique per type within a scope; STRING ``min_length`` 0-6000, ``max_length``
  1-6000).
* SHARDING: developers/events/gateway.mdx ("Sharding": the Identify ``shard`` array is
  ``[shard_id, num_shards]``, "the zero-based integer value of the current shard" and "the total
  number of shards"; "Each shard can only support a maximum of 2500 guilds, and apps that are in
  2500+ guilds *must* enable sharding"; ``shard_id = (guild_id >> 22) % num_shards``; "Gateway
  events that do not contain a ``guild_id`` will only be sent to the first shard"; "Get Gateway
  Bot" returns the recommended ``shards`` and ``session_start_limit.max_concurrency``) and
  developers/topics/opcodes-and-status-codes.mdx (close codes 4010 "Invalid shard: You sent an
  invalid shard when identifying" and 4011 "Sharding required: The session would have handled
  too many guilds", neither to be reconnected after).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

MAX_LEN = "BASE_TYPE_MAX_LENGTH"
BAD_LEN = "BASE_TYPE_BAD_LENGTH"
REQUIRED = "BASE_TYPE_REQUIRED"
INVALID = "BASE_TYPE_INVALID"
COMPONENTS_V2 = 1 << 15

Path = tuple[str | int, ...]


class Errors:
    """Collects violations into Discord's nested ``errors`` tree."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def __bool__(self) -> bool:
        return bool(self.tree)

    def add(self, path: Path, code: str, message: str) -> None:
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_len(self, value: Any, limit: int, path: Path) -> None:
        if isinstance(value, str | list) and len(value) > limit:
            self.add(path, MAX_LEN, f"Must be {limit} or fewer in length.")

    def length(self, value: Any, low: int, high: int, path: Path) -> None:
        if value is None:
            self.add(path, REQUIRED, "This field is required")
        elif not isinstance(value, str | list) or not low <= len(value) <= high:
            self.add(path, BAD_LEN, f"Must be between {low} and {high} in length.")

    def int_range(self, value: Any, low: int, high: int, path: Path) -> None:
        if value is not None and (not isinstance(value, int) or not low <= value <= high):
            self.add(path, "NUMBER_TYPE_MAX", f"int value should be between {low} and {high}.")


# -- messages ---------------------------------------------------------------------------------


def check_message(payload: dict[str, Any], *, files: int = 0) -> Errors:
    """Create/edit message, follow-up and callback (type 4/7) bodies."""
    e = Errors()
    e.max_len(payload.get("content"), 2000, ("content",))  # MESSAGE: up to 2000 characters
    e.max_len(payload.get("embeds"), 10, ("embeds",))  # MESSAGE: up to 10 embeds
    attachments = payload.get("attachments")
    count = max(files, len(attachments) if isinstance(attachments, list) else 0)
    if count > 10:  # FILES: up to 10 files a message
        e.add(("attachments",), MAX_LEN, "Must be 10 or fewer in length.")
    components = payload.get("components")
    if isinstance(components, list):
        flags = int(payload.get("flags") or 0)
        if flags & COMPONENTS_V2:
            e.max_len(components, 40, ("components",))  # COMPONENTS: 40 total in V2
        else:
            _legacy_components(e, components)
    return e


def _legacy_components(e: Errors, rows: list[Any]) -> None:
    e.max_len(rows, 5, ("components",))  # COMPONENTS: legacy messages, up to 5 action rows
    seen: set[str] = set()
    for i, row in enumerate(rows):
        p: Path = ("components", i)
        if not isinstance(row, dict) or row.get("type") != 1:
            e.add((*p, "type"), INVALID, "Top-level components must be action rows.")
            continue
        children = row.get("components") or []
        if not isinstance(children, list) or not children:
            e.length(children, 1, 5, (*p, "components"))
            continue
        selects = [c for c in children if isinstance(c, dict) and c.get("type") in (3, 5, 6, 7, 8)]
        if selects and len(children) > 1:  # COMPONENTS: a single select in a row
            e.add((*p, "components"), "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "Row too wide.")
        e.max_len(children, 5, (*p, "components"))  # COMPONENTS: up to 5 buttons a row
        for j, child in enumerate(children):
            _component(e, child, (*p, "components", j), seen)


def _custom_id(e: Errors, value: Any, path: Path, seen: set[str]) -> None:
    e.length(value, 1, 100, path)  # COMPONENTS: custom_id 1-100 characters
    if isinstance(value, str):
        if value in seen:  # COMPONENTS: custom_id unique per message
            e.add(
                path, "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
            )
        seen.add(value)


def _component(e: Errors, c: Any, p: Path, seen: set[str]) -> None:
    if not isinstance(c, dict):
        e.add(p, INVALID, "Invalid component.")
        return
    kind = c.get("type")
    if kind == 2:  # button
        e.max_len(c.get("label"), 80, (*p, "label"))  # COMPONENTS: label max 80
        if c.get("style") == 5:
            e.length(c.get("url"), 1, 512, (*p, "url"))  # COMPONENTS: url max 512
        elif c.get("style") != 6:
            _custom_id(e, c.get("custom_id"), (*p, "custom_id"), seen)
    elif kind in (3, 5, 6, 7, 8):  # selects
        _custom_id(e, c.get("custom_id"), (*p, "custom_id"), seen)
        e.max_len(c.get("placeholder"), 150, (*p, "placeholder"))
        e.int_range(c.get("min_values"), 0, 25, (*p, "min_values"))
        e.int_range(c.get("max_values"), 1, 25, (*p, "max_values"))
        if kind == 3:
            options = c.get("options")
            e.length(options, 1, 25, (*p, "options"))  # COMPONENTS: max 25 options
            for k, o in enumerate(options if isinstance(options, list) else []):
                for key in ("label", "value", "description"):  # COMPONENTS: 100 each
                    e.max_len((o or {}).get(key), 100, (*p, "options", k, key))
    elif kind == 4:
        e.add((*p, "type"), INVALID, "Text inputs are only allowed in modals.")


# -- modals -----------------------------------------------------------------------------------


def check_modal(data: dict[str, Any], *, labels_required: bool) -> Errors:
    """A type 9 callback's ``data``. ``labels_required``: a text input must sit in a Label."""
    e = Errors()
    e.length(data.get("custom_id"), 1, 100, ("custom_id",))  # MODAL: custom_id 1-100
    e.length(data.get("title"), 1, 45, ("title",))  # MODAL: title max 45
    components = data.get("components")
    e.length(components, 1, 5, ("components",))  # MODAL: between 1 and 5 components
    seen: set[str] = set()
    for i, top in enumerate(components if isinstance(components, list) else []):
        p: Path = ("components", i)
        kind = (top or {}).get("type") if isinstance(top, dict) else None
        if kind == 18:  # Label
            e.length(top.get("label"), 1, 45, (*p, "label"))  # COMPONENTS: Label label max 45
            e.max_len(top.get("description"), 100, (*p, "description"))
            _modal_child(e, top.get("component"), (*p, "component"), seen, in_label=True)
        elif kind == 1:  # the deprecated form: an action row holding one text input
            if labels_required:
                # COMPONENTS: "Text Inputs ... must be placed inside a Label."
                e.add((*p, "type"), INVALID, "Text inputs must be placed inside a Label.")
            children = top.get("components") or []
            e.length(children, 1, 1, (*p, "components"))
            for j, child in enumerate(children):
                _modal_child(e, child, (*p, "components", j), seen, in_label=False)
        elif kind == 10:  # a Text Display is allowed at the top of a modal
            e.length(top.get("content"), 1, 4000, (*p, "content"))
        else:
            e.add((*p, "type"), INVALID, "Invalid modal component.")
    return e


def _modal_child(e: Errors, c: Any, p: Path, seen: set[str], *, in_label: bool) -> None:
    if not isinstance(c, dict):
        e.add(p, REQUIRED, "This field is required")
        return
    kind = c.get("type")
    if kind == 4:  # text input
        _custom_id(e, c.get("custom_id"), (*p, "custom_id"), seen)
        if c.get("style") not in (1, 2):
            e.add((*p, "style"), "BASE_TYPE_CHOICES", "Value must be one of (1, 2).")
        if in_label and c.get("label") is not None:
            # COMPONENTS: "The label field on a Text Input is deprecated in favor of label ...
            # on the Label component"; Discord refuses it inside a Label.
            e.add((*p, "label"), INVALID, "A text input in a Label takes no label.")
        elif not in_label:
            e.length(c.get("label"), 1, 45, (*p, "label"))
        e.int_range(c.get("min_length"), 0, 4000, (*p, "min_length"))  # COMPONENTS
        e.int_range(c.get("max_length"), 1, 4000, (*p, "max_length"))
        e.max_len(c.get("value"), 4000, (*p, "value"))
        e.max_len(c.get("placeholder"), 100, (*p, "placeholder"))
    elif kind == 19 and in_label:  # file upload
        _custom_id(e, c.get("custom_id"), (*p, "custom_id"), seen)
        e.int_range(c.get("min_values"), 0, 10, (*p, "min_values"))  # COMPONENTS: 0-10
        e.int_range(c.get("max_values"), 1, 10, (*p, "max_values"))
    elif kind in (3, 5, 6, 7, 8) and in_label:
        _component(e, c, p, seen)
    else:
        e.add((*p, "type"), INVALID, "Invalid component in a modal.")


# -- autocomplete and commands ----------------------------------------------------------------


def check_choices(choices: Any, path: Path = ("choices",)) -> Errors:
    """Autocomplete results (type 8) and command option choices: max 25, names 1-100."""
    e = Errors()
    _choices(e, choices, path)
    return e


def _choices(e: Errors, choices: Any, path: Path) -> None:
    if choices is None:
        return
    e.max_len(choices, 25, path)  # MODAL / COMMANDS: max of 25 choices
    for i, ch in enumerate(choices if isinstance(choices, list) else []):
        for sub, name in _localized(ch if isinstance(ch, dict) else {}, "name"):
            e.length(name, 1, 100, (*path, i, *sub))  # COMMANDS: 1-100, localized ones too
        value = (ch or {}).get("value")
        e.max_len(value, 100, (*path, i, "value"))  # COMMANDS: string value up to 100


_NAME = re.compile(r"^[-_'\w\u0900-\u097F\u0E00-\u0E7F]{1,32}$")

# COMMANDS / developers/reference.mdx ("Locales"): the keys a localization dictionary may use.
LOCALES = frozenset(
    [
        "id",
        "da",
        "de",
        "en-GB",
        "en-US",
        "es-ES",
        "es-419",
        "fr",
        "hr",
        "it",
        "lt",
        "hu",
        "nl",
        "no",
        "pl",
        "pt-BR",
        "ro",
        "fi",
        "sv-SE",
        "vi",
        "tr",
        "cs",
        "el",
        "bg",
        "ru",
        "uk",
        "hi",
        "th",
        "zh-CN",
        "ja",
        "zh-TW",
        "ko",
    ]
)


def _name_ok(name: Any) -> bool:
    # COMMANDS: the naming regex (\p{L}\p{N} approximated by \w without "_"-only quirks) and
    # "If there is a lowercase variant of any letters used, you must use those."
    return (
        isinstance(name, str)
        and _NAME.match(unicodedata.normalize("NFC", name)) is not None
        and name == name.lower()
    )


def check_commands(commands: list[Any]) -> Errors:
    """A bulk overwrite (PUT) body: every command, and the per-scope counts."""
    e = Errors()
    counts = {1: 0, 2: 0, 3: 0}
    names: set[tuple[int, str]] = set()
    for i, cmd in enumerate(commands):
        if not isinstance(cmd, dict):
            e.add((i,), INVALID, "Invalid command.")
            continue
        kind = int(cmd.get("type") or 1)
        counts[kind] = counts.get(kind, 0) + 1
        _command(e, cmd, (i,))
        key = (kind, str(cmd.get("name")))
        if key in names:  # COMMANDS: names unique per application, per type, within a scope
            e.add(
                (i,),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        names.add(key)
    # COMMANDS: 100 CHAT_INPUT, 15 USER and 15 MESSAGE commands per scope
    for kind, limit in ((1, 100), (2, 15), (3, 15)):
        if counts.get(kind, 0) > limit:
            e.add(
                (), "APPLICATION_COMMANDS_TOO_MANY", f"Maximum of {limit} commands of type {kind}"
            )
    return e


def check_command(cmd: dict[str, Any]) -> Errors:
    e = Errors()
    _command(e, cmd, ())
    return e


def _command(e: Errors, cmd: dict[str, Any], p: Path) -> None:
    kind = int(cmd.get("type") or 1)
    if kind == 1:
        _names(e, cmd, p, chat_input=True)
        _descriptions(e, cmd, p)
    else:
        _names(e, cmd, p, chat_input=False)
        if cmd.get("description") not in (None, ""):  # COMMANDS: empty for USER/MESSAGE
            e.add((*p, "description"), INVALID, "Context menu commands take no description.")
    _options(e, cmd.get("options"), (*p, "options"))
    if _size(cmd) > 8000:  # COMMANDS: 8000 characters per command
        e.add(p, "APPLICATION_COMMAND_TOO_LARGE", "Command exceeds maximum size (8000)")


def _localized(obj: dict[str, Any], key: str) -> list[tuple[Path, Any]]:
    """``(path, value)`` of ``obj[key]`` and of each ``<key>_localizations`` value; a key that
    is not one of Discord's locales is an error of its own."""
    found: list[tuple[Path, Any]] = [((key,), obj.get(key))]
    table = obj.get(f"{key}_localizations")
    if isinstance(table, dict):
        found += [((f"{key}_localizations", locale), v) for locale, v in table.items()]
    return found


def _bad_locales(e: Errors, obj: dict[str, Any], p: Path) -> None:
    for key in ("name", "description"):
        table = obj.get(f"{key}_localizations")
        for locale in table if isinstance(table, dict) else {}:
            if locale not in LOCALES:  # COMMANDS: keys in the available locales
                e.add(
                    (*p, f"{key}_localizations", locale),
                    "ENUM_TYPE_COERCE",
                    f'Value "{locale}" is not a valid enum value.',
                )


def _names(e: Errors, obj: dict[str, Any], p: Path, *, chat_input: bool) -> None:
    """``name`` and every localized name: the naming rule (CHAT_INPUT and options) or 1-32."""
    _bad_locales(e, obj, p)
    for sub, value in _localized(obj, "name"):
        if chat_input and not _name_ok(value):
            e.add((*p, *sub), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        elif not chat_input:
            e.length(value, 1, 32, (*p, *sub))


def _descriptions(e: Errors, obj: dict[str, Any], p: Path) -> None:
    for sub, value in _localized(obj, "description"):
        e.length(value, 1, 100, (*p, *sub))  # COMMANDS: 1-100, localized ones too


def _options(e: Errors, options: Any, p: Path) -> None:
    if options is None:
        return
    e.max_len(options, 25, p)  # COMMANDS: max of 25
    seen: set[str] = set()
    optional_seen = False
    for j, opt in enumerate(options if isinstance(options, list) else []):
        _option(e, opt, (*p, j))
        if not isinstance(opt, dict):
            continue
        name = str(opt.get("name"))
        if name in seen:  # COMMANDS: "name must be unique within an array of ... options"
            e.add((*p, j, "name"), "APPLICATION_COMMAND_OPTION_NAME_NOT_UNIQUE", "Duplicate name")
        seen.add(name)
        if opt.get("type") in (1, 2):  # subcommands and groups are never "required"
            continue
        if opt.get("required") and optional_seen:
            # COMMANDS: "Required options must be listed before optional options"
            e.add(
                (*p, j),
                "APPLICATION_COMMAND_OPTIONS_ORDER_INVALID",
                "Required options must be placed before non-required options",
            )
        optional_seen = optional_seen or not opt.get("required")


def _option(e: Errors, opt: Any, p: Path) -> None:
    if not isinstance(opt, dict):
        e.add(p, INVALID, "Invalid option.")
        return
    _names(e, opt, p, chat_input=True)
    _descriptions(e, opt, p)
    if opt.get("autocomplete") and opt.get("choices"):  # COMMANDS: not both
        e.add((*p, "autocomplete"), INVALID, "Autocomplete cannot be set with choices.")
    if opt.get("type") == 3:  # COMMANDS: STRING min_length 0-6000, max_length 1-6000
        e.int_range(opt.get("min_length"), 0, 6000, (*p, "min_length"))
        e.int_range(opt.get("max_length"), 1, 6000, (*p, "max_length"))
    _choices(e, opt.get("choices"), (*p, "choices"))
    _options(e, opt.get("options"), (*p, "options"))


def _size(obj: Any) -> int:
    """Characters of every name, description and value (the longest localization counts)."""
    total = 0
    if isinstance(obj, dict):
        for key in ("name", "description", "value"):
            base = obj.get(key)
            variants = [base, *((obj.get(f"{key}_localizations") or {}).values())]
            total += max((len(str(v)) for v in variants if v is not None), default=0)
        for key in ("options", "choices"):
            total += sum(_size(x) for x in obj.get(key) or [])
    return total


# ------------------------------------------------------------------------------ sharding

INVALID_SHARD = 4010
SHARDING_REQUIRED = 4011
MAX_GUILDS_PER_SHARD = 2500


def identify_shard(value: Any) -> tuple[int, int] | None:
    """The IDENTIFY's ``shard`` as (shard_id, num_shards); absent = (0, 1); None when invalid
    (not two integers, ``num_shards`` below 1, or ``shard_id`` outside ``0..num_shards-1``)."""
    if value is None:
        return (0, 1)
    if not isinstance(value, list) or len(value) != 2:
        return None
    shard_id, count = value
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (shard_id, count)):
        return None
    if count < 1 or not 0 <= shard_id < count:
        return None
    return (shard_id, count)


def shard_of(guild_id: str | int, num_shards: int) -> int:
    """The Sharding Formula."""
    return (int(guild_id) >> 22) % num_shards


def shard_receives(shard: tuple[int, int], guild_id: str | int | None) -> bool:
    """Whether a session of ``shard`` gets an event of ``guild_id`` (None: DMs etc., shard 0)."""
    shard_id, count = shard
    if guild_id is None:
        return shard_id == 0
    return shard_of(guild_id, count) == shard_id


def snowflake_on_shard(snowflake: int, shard_id: int, num_shards: int) -> int:
    """``snowflake`` with its timestamp part moved up (< ``num_shards`` ms) onto the shard."""
    stamp, low = snowflake >> 22, snowflake & 0x3FFFFF
    stamp += (shard_id - stamp) % num_shards
    return (stamp << 22) | low
