"""What each image model accepts, as OpenAI and the gateway publish it: the fake gateway's rules.

This table is written from the published sources, never from ``core/catalog.py``: a test that
passes against it shows the bot sends what the real service accepts. Sources, cited per rule:

* SDK: the ``openai`` Python SDK 3.57 docstrings (``openai/resources/images.py``,
  ``openai/types/image_generate_params.py`` / ``image_edit_params.py``), generated from OpenAI's
  OpenAPI spec.
* GATEWAY: the gateway's documentation (AIHubMix, "gpt-image-1 API" and "GPT Image (Reverse)").
* PIXELS: the gpt-image-2 pixel budget the gateways publish (docs.anyfast.ai and
  docs.evolink.ai: total pixels 655,360..8,294,400, edge <= 3840).

A violation is answered like OpenAI does: HTTP 400, ``{"error": {"message", "type":
"invalid_request_error", "param", "code"}}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

STANDARD_SIZES = ("1024x1024", "1024x1536", "1536x1024")
GPT_QUALITIES = ("low", "medium", "high", "auto")
BACKGROUNDS = ("transparent", "opaque", "auto")
OUTPUT_FORMATS = ("png", "jpeg", "webp")

# SDK: the keyword arguments of ``images.generate`` / ``images.edit`` (the body parameters of
# POST /v1/images/generations and /v1/images/edits). A strict gateway rejects anything else.
GENERATE_PARAMS = frozenset(
    {
        "prompt",
        "background",
        "complexity",
        "frame_count",
        "frame_duration_ms",
        "model",
        "moderation",
        "n",
        "output_compression",
        "output_format",
        "partial_images",
        "quality",
        "response_format",
        "safety_identifier",
        "size",
        "stream",
        "style",
        "svg",
        "user",
    }
)
EDIT_PARAMS = frozenset(
    (GENERATE_PARAMS - {"moderation", "style"})
    | {"image", "image[]", "mask", "markup"}
    | {"input_fidelity"}
)
# The chat completions body fields the reverse models are called with (OpenAI's chat API).
CHAT_PARAMS = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "n",
        "user",
        "safety_identifier",
        "metadata",
        "modalities",
    }
)


@dataclass(frozen=True)
class ModelRules:
    flexible: bool = False  # SDK: arbitrary WIDTHxHEIGHT for gpt-image-2 and the 2.5 models
    qualities: tuple[str, ...] = GPT_QUALITIES
    #: SDK (input_fidelity): the values taken; () = "omit this parameter".
    input_fidelity: tuple[str, ...] = ()
    markup: bool = False  # SDK (markup): "Supports GPT Image 2.5. Cannot be combined with mask."
    #: GATEWAY (reverse): "Do not include the quality parameter"; "usage ... is not supported".
    reverse: bool = False


_FLEX = ModelRules(flexible=True)
# SDK (quality): the 2.5 models "also support xhigh and max".
_V25 = ModelRules(flexible=True, qualities=(*GPT_QUALITIES, "xhigh", "max"), markup=True)
_STANDARD = ModelRules()

MODELS: dict[str, ModelRules] = {
    # SDK (input_fidelity): "Supports high and low on gpt-image-1.5".
    "gpt-image-1.5": ModelRules(input_fidelity=("high", "low")),
    # SDK (input_fidelity): "gpt-image-1-mini supports only low".
    "gpt-image-1-mini": ModelRules(input_fidelity=("low",)),
    # GATEWAY (gpt-image-1 API): standard sizes; OpenAI documented high and low fidelity.
    "gpt-image-1": ModelRules(input_fidelity=("high", "low")),
    # SDK (input_fidelity): "For gpt-image-2, omit this parameter."; flexible sizes.
    "gpt-image-2": _FLEX,
    "gpt-image-2-2026-04-21": _FLEX,
    "gpt-image-2.5-sunburst": _V25,
    "gpt-image-2.5-sunburst-2026-09-08": _V25,
    "gpt-image-2.5-flare": _V25,
    "gpt-image-2.5-flare-2026-09-08": _V25,
    # SDK: listed, with no flexible sizes, xhigh/max, markup or input_fidelity documented.
    "gpt-image-2.6-sunburst": _STANDARD,
    "gpt-image-2.6-flare": _STANDARD,
    "chatgpt-image-latest": _STANDARD,
    "gpt-4o-image": ModelRules(qualities=(), reverse=True),
    "gpt-4o-image-vip": ModelRules(qualities=(), reverse=True),
}


@dataclass(frozen=True)
class Violation:
    """One broken rule: becomes the gateway's 400 answer."""

    code: str
    message: str
    param: str | None


def unknown_params(params: dict[str, Any], known: frozenset[str]) -> Violation | None:
    """Strict mode: a body parameter the endpoint does not define."""
    for name in params:
        if name not in known:
            return Violation("unknown_parameter", f"Unknown parameter: '{name}'.", name)
    return None


def size_ok(size: str, *, flexible: bool) -> bool:
    # SDK (size): "The standard sizes 1024x1024, 1536x1024, and 1024x1536 are supported by the
    # GPT image models"; GATEWAY: "doesn't support explicitly passing size='auto'".
    if size in STANDARD_SIZES:
        return True
    match = re.fullmatch(r"(\d{1,5})x(\d{1,5})", size)
    if not flexible or match is None:
        return False
    w, h = int(match[1]), int(match[2])
    return (
        # SDK (size): "Width and height must both be divisible by 16 and the requested aspect
        # ratio must be between 1:3 and 3:1 ... the maximum supported resolution is 3840x2160."
        w % 16 == 0
        and h % 16 == 0
        and max(w, h) <= 3 * min(w, h)
        # PIXELS: total pixels 655,360..8,294,400 and each edge <= 3840.
        and 655_360 <= w * h <= 8_294_400
        and max(w, h) <= 3840
    )


def check_model(
    model: str,
    params: dict[str, Any],
    *,
    edit: bool,
    has_mask: bool = False,
    has_markup: bool = False,
    images: int = 0,
) -> Violation | None:
    """The per-model rules for one images call; None when the call is acceptable."""
    rules = MODELS.get(model)
    size = params.get("size")
    if size is not None and (
        size == "auto" or not size_ok(str(size), flexible=rules is not None and rules.flexible)
    ):
        return Violation(
            "size_not_supported",
            f"Invalid size '{size}' for model '{model}'. Supported sizes are 1024x1024, "
            "1024x1536 and 1536x1024"
            + (
                ", or WIDTHxHEIGHT with both edges divisible by 16, an aspect ratio between "
                "1:3 and 3:1 and 655,360 to 8,294,400 pixels."
                if rules is not None and rules.flexible
                else "."
            ),
            "size",
        )
    quality = params.get("quality")
    if rules is not None and rules.reverse and quality is not None:
        return Violation(
            "unsupported_parameter",
            f"Unsupported parameter: 'quality' is not supported with the model '{model}'.",
            "quality",
        )
    allowed_q = rules.qualities if rules is not None else (*GPT_QUALITIES, "xhigh", "max")
    if quality is not None and quality not in allowed_q:
        return Violation(
            "invalid_value",
            f"Invalid value: '{quality}'. Supported values are: {', '.join(allowed_q)}.",
            "quality",
        )
    background = params.get("background")
    if background is not None and background not in BACKGROUNDS:
        return Violation("invalid_value", f"Invalid value: '{background}'.", "background")
    fmt = params.get("output_format")
    if fmt is not None and fmt not in OUTPUT_FORMATS:
        return Violation("invalid_value", f"Invalid value: '{fmt}'.", "output_format")
    # SDK (background): "When using transparent, set the output format to png or webp."
    if background == "transparent" and fmt not in (None, "png", "webp"):
        return Violation(
            "invalid_value",
            "Transparent background requires output_format png or webp.",
            "background",
        )
    # SDK (output_compression): "only supported ... with the webp or jpeg output formats".
    if params.get("output_compression") is not None and fmt not in ("jpeg", "webp"):
        return Violation(
            "invalid_value",
            "output_compression is only supported with jpeg or webp output.",
            "output_compression",
        )
    # SDK (response_format): "Unsupported for GPT image models, which always return base64".
    if params.get("response_format") is not None and not (rules is not None and rules.reverse):
        return Violation(
            "unsupported_parameter",
            f"Unsupported parameter: 'response_format' is not supported with '{model}'.",
            "response_format",
        )
    if edit:
        return _check_edit(model, rules, params, has_mask, has_markup, images)
    return None


def _check_edit(
    model: str,
    rules: ModelRules | None,
    params: dict[str, Any],
    has_mask: bool,
    has_markup: bool,
    images: int,
) -> Violation | None:
    # SDK (image): "You can provide up to 16 images."
    if images > 16:
        return Violation("invalid_value", "You can provide up to 16 images.", "image")
    fidelity = params.get("input_fidelity")
    if fidelity is not None and rules is not None:
        if not rules.input_fidelity:
            return Violation(
                "unsupported_parameter",
                f"Unsupported parameter: 'input_fidelity' is not supported with '{model}'.",
                "input_fidelity",
            )
        if fidelity not in rules.input_fidelity:
            return Violation(
                "unsupported_value",
                f"Unsupported value: 'input_fidelity' does not support '{fidelity}' with "
                f"'{model}'. Supported values are: {', '.join(rules.input_fidelity)}.",
                "input_fidelity",
            )
    if has_markup:
        if rules is not None and not rules.markup:
            return Violation(
                "unsupported_parameter",
                f"Unsupported parameter: 'markup' is not supported with '{model}'.",
                "markup",
            )
        if has_mask:
            return Violation("invalid_value", "markup cannot be combined with mask.", "markup")
    return None
