"""Parsing and validating what people type into an :class:`~core.types.ImageRequest`.

Prompt flags, Midjourney style, work wherever a prompt is typed: ``--ar 2:3 --q high --n 2
--model M``. Options given explicitly (slash-command options, CLI flags) win over flags typed in
the prompt. Everything is validated against the catalog before anything is reserved or sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace

from core.catalog import Catalog, ModelSpec
from core.errors import InvalidRequest
from core.types import Identity, ImageRequest, PreparedImage

ASPECTS: dict[str, str] = {
    "1:1": "1024x1024",
    "2:3": "1024x1536",
    "3:2": "1536x1024",
}
# Only for models that take free-form sizes (multiples of 16, between 1:3 and 3:1).
FLEX_ASPECTS: dict[str, str] = {
    "16:9": "1536x864",
    "9:16": "864x1536",
    "4:3": "1536x1152",
    "3:4": "1152x1536",
    "21:9": "1792x768",
    "9:21": "768x1792",
}
ASPECT_ALIASES = {"square": "1:1", "portrait": "2:3", "landscape": "3:2"}


@dataclass(frozen=True)
class Options:
    """Options as typed; every field None means "not given"."""

    model: str | None = None
    size: str | None = None
    aspect: str | None = None
    quality: str | None = None
    n: int | None = None
    background: str | None = None
    moderation: str | None = None
    output_format: str | None = None
    input_fidelity: str | None = None
    force: bool | None = None

    def merged_over(self, other: Options) -> Options:
        """These options, falling back to ``other`` where a field is None."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, value in list(values.items()):
            if value is None:
                values[name] = getattr(other, name)
        return Options(**values)


_FLAGS: dict[str, str] = {
    "--ar": "aspect",
    "--aspect": "aspect",
    "--size": "size",
    "--q": "quality",
    "--quality": "quality",
    "--n": "n",
    "-n": "n",
    "--model": "model",
    "--m": "model",
    "--bg": "background",
    "--background": "background",
    "--moderation": "moderation",
    "--format": "output_format",
    "--fidelity": "input_fidelity",
}
_BOOL_FLAGS = {"--force": "force"}
# What a flag's value looks like, for the hint when it is missing.
_EXAMPLES = {
    "aspect": "2:3",
    "size": "1024x1536",
    "quality": "high",
    "n": "2",
    "model": "gpt-image-2",
    "background": "transparent",
    "moderation": "low",
    "output_format": "webp",
    "input_fidelity": "high",
}
_FLAG_RE = re.compile(r"(?<!\S)(--?[a-zA-Z][\w-]*)")


def parse_prompt(text: str) -> tuple[str, Options]:
    """Split Midjourney-style flags off a prompt, keeping the rest of the text as typed.

    Unknown ``--flags`` are an error rather than silently sent to the model as words.
    """
    tokens = list(re.finditer(r"\S+", text))
    if not any(_FLAG_RE.fullmatch(t.group()) for t in tokens):
        return text.strip(), Options()
    values: dict[str, object] = {}
    cut: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i].group()
        low = tok.lower()
        if low in _BOOL_FLAGS:
            values[_BOOL_FLAGS[low]] = True
            cut.append(tokens[i].span())
        elif low in _FLAGS:
            if i + 1 >= len(tokens):
                raise InvalidRequest("invalid.flag_value", flag=tok, example=_EXAMPLES[_FLAGS[low]])
            values[_FLAGS[low]] = tokens[i + 1].group()
            cut.append((tokens[i].start(), tokens[i + 1].end()))
            i += 1
        elif tok.startswith("--") and len(tok) > 2 and tok[2].isalpha():
            raise InvalidRequest(
                "invalid.unknown_flag", flag=tok, known=sorted({*_FLAGS, *_BOOL_FLAGS})
            )
        i += 1
    kept, last = [], 0
    for start, end in cut:
        kept.append(text[last:start])
        last = end
    kept.append(text[last:])
    prompt = re.sub(r"[ \t]{2,}", " ", "".join(kept)).strip()
    if "n" in values:
        values["n"] = _int(str(values["n"]), "n")
    return prompt, Options(**values)  # type: ignore[arg-type]


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidRequest("invalid.not_a_number", option=name, value=value) from None


def build_request(
    text: str,
    *,
    identity: Identity,
    catalog: Catalog,
    default_model: str,
    options: Options | None = None,
    images: tuple[PreparedImage, ...] = (),
    mask: PreparedImage | None = None,
    markup: PreparedImage | None = None,
    idem_key: str | None = None,
    max_prompt_chars: int = 32000,
) -> ImageRequest:
    """Parse flags out of ``text``, merge explicit ``options`` and validate everything."""
    prompt, typed = parse_prompt(text)
    opts = (options or Options()).merged_over(typed)
    model_name = (opts.model or default_model).strip()
    spec = catalog.get(model_name)
    if spec is None or not spec.enabled:
        raise InvalidRequest(
            "invalid.unknown_model", model=model_name, known=catalog.names(enabled_only=True)
        )
    if not prompt:
        raise InvalidRequest("invalid.empty_prompt")
    if len(prompt) > max_prompt_chars:
        raise InvalidRequest("invalid.prompt_too_long", length=len(prompt), limit=max_prompt_chars)
    n = 1 if opts.n is None else opts.n
    if not 1 <= n <= spec.n_max:
        raise InvalidRequest("invalid.n_range", n=n, max=spec.n_max, model=spec.name)
    request = ImageRequest(
        prompt=prompt,
        model=spec.name,
        identity=identity,
        size=size_of(opts, spec),
        quality=choice_of(opts.quality, spec.qualities, "quality", spec),
        n=n,
        background=choice_of(opts.background, spec.backgrounds, "background", spec),
        output_format=choice_of(opts.output_format, spec.output_formats, "output_format", spec),
        force=bool(opts.force),
        idem_key=idem_key,
        images=images,
        mask=mask,
        markup=markup,
    )
    if request.background == "transparent" and request.output_format == "jpeg":
        raise InvalidRequest("invalid.transparent_jpeg")
    if images:
        return _edit(request, opts, spec)
    if mask is not None or markup is not None:
        raise InvalidRequest("invalid.mask_without_image")
    moderation = choice_of(
        opts.moderation, ("low", "auto") if spec.moderation else (), "moderation", spec
    )
    return replace(request, moderation=moderation)


def _edit(request: ImageRequest, opts: Options, spec: ModelSpec) -> ImageRequest:
    if not spec.edits:
        raise InvalidRequest("invalid.no_edits", model=spec.name)
    if request.mask is not None and spec.api == "chat_stream":
        raise InvalidRequest("invalid.mask_unsupported", model=spec.name)
    if request.markup is not None:
        # The SDK: markup "Supports GPT Image 2.5. Cannot be combined with mask."
        if not spec.markup or spec.api != "images":
            raise InvalidRequest("invalid.markup_unsupported", model=spec.name)
        if request.mask is not None:
            raise InvalidRequest("invalid.markup_with_mask")
    if len(request.images) > spec.max_input_images:
        raise InvalidRequest(
            "invalid.too_many_images",
            count=len(request.images),
            max=spec.max_input_images,
            model=spec.name,
        )
    # Only the values the model documents; a model without any takes no such parameter.
    fidelity = choice_of(opts.input_fidelity, spec.input_fidelity, "input_fidelity", spec)
    # The edits endpoint takes no moderation parameter: never send it.
    return replace(request, moderation=None, input_fidelity=fidelity)


def choice_of(
    value: str | None, allowed: tuple[str, ...], option: str, spec: ModelSpec
) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    if value not in allowed:
        raise InvalidRequest(
            "invalid.option", option=option, value=value, allowed=list(allowed), model=spec.name
        )
    return value


def size_of(opts: Options, spec: ModelSpec) -> str | None:
    """The size to send, or None for auto (the gateway rejects an explicit ``auto``)."""
    if opts.size and opts.aspect:
        raise InvalidRequest("invalid.size_and_aspect")
    if opts.aspect:
        aspect = ASPECT_ALIASES.get(opts.aspect.strip().lower(), opts.aspect.strip())
        if aspect == "auto":
            return None
        size = ASPECTS.get(aspect) or (FLEX_ASPECTS.get(aspect) if spec.flexible_sizes else None)
        if size is None:
            allowed = list(ASPECTS) + (list(FLEX_ASPECTS) if spec.flexible_sizes else [])
            raise InvalidRequest("invalid.aspect", value=aspect, allowed=allowed, model=spec.name)
        return size
    if not opts.size:
        return None
    size = opts.size.strip().lower().replace("\N{MULTIPLICATION SIGN}", "x")
    if size == "auto":
        return None
    if size in spec.sizes:
        return size
    if spec.flexible_sizes and _valid_flex(size, spec):
        return size
    raise InvalidRequest(
        "invalid.size",
        value=size,
        allowed=list(spec.sizes),
        model=spec.name,
        flexible=spec.flexible_sizes,
    )


def _valid_flex(size: str, spec: ModelSpec) -> bool:
    match = re.fullmatch(r"(\d{2,5})x(\d{2,5})", size)
    return match is not None and spec.size_ok(int(match[1]), int(match[2]))
