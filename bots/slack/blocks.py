"""Block Kit structures (no sentences: every label comes from core.messages)."""

from __future__ import annotations

import json
from typing import Any

from bots.slack.ids import result_value
from core import finishing, messages
from core.images import IntakeLimits

# callback and action ids: the manifest and the listeners use these names
EDIT_SHORTCUT = "edit_image"
EDIT_MODAL = "imagine_edit"  # /imagine-edit: file_input + prompt
PROMPT_MODAL = "edit_prompt"  # shortcut / Edit button: prompt only, files in private_metadata
IMAGE_BLOCK, IMAGE_INPUT = "image_block", "image_input"
MORE_IMAGES_BLOCK = "more_images_block"  # the same IMAGE_INPUT action id inside
PROMPT_BLOCK, PROMPT_INPUT = "prompt_block", "prompt_input"
REROLL, EDIT, USE_SUGGESTION, SEND_ANYWAY = "reroll", "edit", "use_suggestion", "send_anyway"
REDELIVER = "redeliver"  # /imagine-history: a kept result again, free
REGION = "edit_region"  # opens the web companion's painter (only when it is configured)
# The finishing moves (core/finishing.py); UPSCALE_GO confirms an Upscale whose estimate was shown.
UPSCALE, UPSCALE_GO = "upscale", "upscale_go"
VARY_SUBTLE, VARY_STRONG = "vary_subtle", "vary_strong"
MOVE_BUTTONS = (  # (the move core offers, its action id, its label)
    (finishing.UPSCALE, UPSCALE, "chat.button.upscale"),
    (finishing.VARY_SUBTLE, VARY_SUBTLE, "chat.button.vary_subtle"),
    (finishing.VARY_STRONG, VARY_STRONG, "chat.button.vary_strong"),
)
MAX_BUTTON_TEXT = 75  # Slack: a button's text is at most 75 characters
MAX_FILES_PER_INPUT = 10  # Slack's file_input takes 1-10 files
MAX_EDIT_IMAGES = IntakeLimits().max_images  # what one edit takes
IMAGE_FILETYPES = ["png", "jpg", "jpeg", "webp"]


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def button(action_id: str, label: str, value: str, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": plain(label[:MAX_BUTTON_TEXT]),
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def actions(block_id: str, *elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def result_controls(
    ref: str,
    file_ids: list[str],
    locale: str,
    summary: str,
    *,
    region: bool = False,
    moves: tuple[str, ...] = (),
) -> list[Any]:
    """Re-roll and Edit (and Edit region), then the finishing moves the result offers (Upscale,
    Vary (subtle), Vary (strong)); the values carry the job's public id (and the files)."""
    buttons = [
        button(REROLL, messages.text("chat.button.reroll", locale), ref),
        button(EDIT, messages.text("chat.button.edit", locale), result_value(ref, file_ids)),
    ]
    if region:
        buttons.append(button(REGION, messages.text("chat.button.region", locale), ref))
    for move, action_id, label in MOVE_BUTTONS:
        if move in moves:
            buttons.append(button(action_id, messages.text(label, locale), ref))
    return [context(summary), actions("result_actions", *buttons)]


def upscale_confirm(text: str, ref: str, locale: str, estimate_usd: float) -> list[Any]:
    """An Upscale's estimate and the button that starts it (an ephemeral message)."""
    label = messages.text("chat.button.upscale_go", locale, cost=estimate_usd)
    return [section(text), actions("upscale_confirm", button(UPSCALE_GO, label, ref, "primary"))]


def refusal_controls(
    text: str, locale: str, token: str, *, suggest: bool, preflight: bool
) -> list[Any] | None:
    """The hint plus "Use suggested prompt" (and "Send anyway" before anything was sent); both
    carry the token of the refused request (:mod:`bots.slack.ids`)."""
    elements = []
    if suggest:
        label = messages.text("chat.button.suggest", locale)
        elements.append(button(USE_SUGGESTION, label, token, "primary"))
    if preflight:
        elements.append(button(SEND_ANYWAY, messages.text("chat.button.force", locale), token))
    if not elements:
        return None
    return [section(text), actions("refusal_actions", *elements)]


def _prompt_input(locale: str) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": PROMPT_BLOCK,
        "label": plain(messages.text("chat.modal.prompt", locale)),
        "element": {
            "type": "plain_text_input",
            "action_id": PROMPT_INPUT,
            "multiline": True,
            "max_length": 3000,
            "placeholder": plain(messages.text("slack.modal.prompt_hint", locale)),
        },
    }


def _modal(
    callback_id: str, locale: str, metadata: dict[str, Any], blocks: list[Any]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(messages.text("slack.modal.title", locale)[:24]),
        "submit": plain(messages.text("slack.modal.submit", locale)[:24]),
        "close": plain(messages.text("slack.modal.cancel", locale)[:24]),
        "private_metadata": json.dumps(metadata, separators=(",", ":"))[:3000],
        "blocks": blocks,
    }


def _file_input(block_id: str, label: str, max_files: int, *, optional: bool) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": plain(label),
        "element": {
            "type": "file_input",
            "action_id": IMAGE_INPUT,
            "filetypes": IMAGE_FILETYPES,
            "max_files": max_files,
        },
    }


def edit_modal(locale: str, channel: str) -> dict[str, Any]:
    """/imagine-edit: upload images and describe the change.

    Slack's file input takes 1 to 10 files
    (https://api.slack.com/reference/block-kit/block-elements#file_input); an edit takes up to
    ``MAX_EDIT_IMAGES``, so the rest go in a second, optional file input."""
    first = min(MAX_FILES_PER_INPUT, MAX_EDIT_IMAGES)
    inputs = [
        _file_input(IMAGE_BLOCK, messages.text("slack.modal.images", locale), first, optional=False)
    ]
    if first < MAX_EDIT_IMAGES:
        label = messages.text("slack.modal.more_images", locale, count=MAX_EDIT_IMAGES - first)
        inputs.append(_file_input(MORE_IMAGES_BLOCK, label, MAX_EDIT_IMAGES - first, optional=True))
    return _modal(EDIT_MODAL, locale, {"c": channel}, [*inputs, _prompt_input(locale)])


def prompt_modal(
    locale: str,
    channel: str,
    file_ids: list[str],
    thread_ts: str | None = None,
    job: str | None = None,
) -> dict[str, Any]:
    """Shortcut and Edit button: the images are known, ask for the prompt (``job``: the result
    the Edit button belonged to, checked again on submit)."""
    metadata: dict[str, Any] = {"c": channel, "f": file_ids}
    if thread_ts:
        metadata["t"] = thread_ts
    if job:
        metadata["j"] = job
    return _modal(PROMPT_MODAL, locale, metadata, [_prompt_input(locale)])


def notice_modal(locale: str, text: str) -> dict[str, Any]:
    """A modal that only says something (no submit button)."""
    return {
        "type": "modal",
        "title": plain(messages.text("slack.modal.title", locale)[:24]),
        "close": plain(messages.text("slack.modal.close", locale)[:24]),
        "blocks": [section(text)],
    }


def home_view(quota_lines: list[str], job_lines: list[str], locale: str) -> dict[str, Any]:
    recent = job_lines or [messages.text("slack.home.none", locale)]
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": plain(messages.text("slack.home.quota", locale))},
            section("\n".join(quota_lines)),
            {"type": "divider"},
            {"type": "header", "text": plain(messages.text("chat.recent", locale))},
            section("\n".join(recent)),
        ],
    }


# /imagine-settings (core/preferences.py) and the remix modal
SETTINGS_MODAL = "imagine_settings"
REMIX_MODAL = "remix_prompt"
DEFAULT = "default"  # the option that clears a setting
MAX_OPTIONS = 100  # Slack: a static_select has at most 100 options
SETTING_FIELDS = (
    "model",
    "size",
    "quality",
    "n",
    "background",
    "output_format",
    "language",
    "remix",
)


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text[:75]), "value": value[:150]}


def _select(
    field: str, label: str, options: list[tuple[str, str]], current: str | None, version: int
) -> dict[str, Any]:
    """One optional select; ``version`` in the block id lets an update show new initial values."""
    opts = [_option(text, value) for text, value in options][:MAX_OPTIONS]
    element: dict[str, Any] = {"type": "static_select", "action_id": field, "options": opts}
    chosen = next((o for o in opts if o["value"] == current), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return {
        "type": "input",
        "block_id": f"pref_{field}_{version}",
        "optional": True,
        "label": plain(label[:2000]),
        "element": element,
    }


def settings_modal(
    locale: str,
    channel: str | None,
    shown: dict[str, str | None],
    choices: dict[str, list[str]],
    *,
    version: int = 0,
) -> dict[str, Any]:
    """The member's settings as selects (``shown``: field -> current value, None: default;
    ``choices``: field -> the values to offer). Private results are not offered: Slack
    shares files only into conversations, never as a message only one person sees."""
    default = messages.text("prefs.default", locale)
    inputs = []
    for field in SETTING_FIELDS:
        label = messages.text(f"prefs.name.{field}", locale)
        if field == "language":
            options = [
                (messages.text("prefs.language.en", locale), "en"),
                (messages.text("prefs.language.zh-CN", locale), "zh-CN"),
                (messages.text("prefs.platform", locale), DEFAULT),
            ]
        elif field == "remix":
            options = [
                (messages.text("prefs.on", locale), "on"),
                (messages.text("prefs.off", locale), "off"),
            ]
        else:
            options = [(value, value) for value in choices.get(field, [])] + [(default, DEFAULT)]
        current = shown.get(field)
        inputs.append(_select(field, label, options, current or DEFAULT, version))
    inputs.append(context(messages.text("slack.settings.no_private", locale)))
    view = _modal(SETTINGS_MODAL, locale, {"c": channel} if channel else {}, inputs)
    view["title"] = plain(messages.text("slack.settings.title", locale)[:24])
    view["submit"] = plain(messages.text("slack.settings.save", locale)[:24])
    return view


def settings_values(values: dict[str, Any]) -> dict[str, str | None]:
    """field -> the chosen value (None: default) from a settings modal's ``state.values``."""
    chosen: dict[str, str | None] = {}
    for block in values.values():
        if not isinstance(block, dict):
            continue
        for field, element in block.items():
            if field not in SETTING_FIELDS or not isinstance(element, dict):
                continue
            option = element.get("selected_option")
            value = option.get("value") if isinstance(option, dict) else None
            chosen[field] = None if value in (None, DEFAULT) else str(value)[:150]
    return chosen


def remix_modal(locale: str, prompt: str, meta: dict[str, Any]) -> dict[str, Any]:
    """The prompt a job button is about to use, to change first (remix on in /settings);
    ``meta`` says which button and job (checked again on submit)."""
    field = _prompt_input(locale)
    field["element"]["initial_value"] = prompt[: field["element"]["max_length"]]
    view = _modal(REMIX_MODAL, locale, meta, [field])
    view["title"] = plain(messages.text("slack.modal.remix_title", locale)[:24])
    view["submit"] = plain(messages.text("slack.modal.remix_submit", locale)[:24])
    return view
