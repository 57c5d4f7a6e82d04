"""Safety: the pre-flight prompt check, and upstream failures turned into typed outcomes.

The gateway bills refused calls too, so a prompt that names a living artist, a real public figure
or a well-known copyrighted character is caught before it costs money, with a rewrite that keeps
the intent (styles instead of artists). Upstream errors are classified on ``error.code`` and HTTP
status, never on message text alone (gateways rewrite ``type``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from core.errors import (
    Charge,
    PixelsmithError,
    PreflightMatch,
    PreflightRefused,
    Refused,
    UpstreamError,
)

_PREFIX = re.compile(
    r"(?:in\s+the\s+style\s+of|in\s+the\s+manner\s+of|style\s+of|inspired\s+by|by|like)\s+$",
    re.IGNORECASE,
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Term:
    name: str
    category: str
    replacement: str

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compile(self.name)

    def may_be_in(self, text: str, lowered: str) -> bool:
        """A cheap necessary condition for :attr:`pattern` to match an ASCII ``text`` (whose
        ``lowered`` form is what a case-blind pattern sees): the name itself occurs in it.
        Most prompts name no risky term, so most patterns are never compiled (a one-shot
        command compiles none of 80). A prompt beyond ASCII goes to every pattern: Unicode case
        folding (a long s, a Kelvin sign) can match where a plain lower-case search does not."""
        if not text.isascii():
            return True
        return self.name.isascii() and self.name.lower() in lowered


@lru_cache(maxsize=1024)
def _compile(name: str) -> re.Pattern[str]:
    escaped = re.escape(name)
    if _CJK.search(name):
        return re.compile(escaped)
    return re.compile(rf"(?<![\w-]){escaped}(?:'s|\u2019s)?(?![\w-])", re.IGNORECASE)


def _terms_from(text: str) -> list[Term]:
    data = tomllib.loads(text)
    terms: list[Term] = []
    for entry in data.get("terms", []):
        terms.extend(Term(name, entry["category"], entry["replacement"]) for name in entry["names"])
    # Longest first, so "Hayao Miyazaki" wins over "Miyazaki".
    return sorted(terms, key=lambda t: -len(t.name))


@lru_cache(maxsize=4)
def load_terms(extra_file: str | None = None) -> tuple[Term, ...]:
    text = resources.files("core").joinpath("data/safety_terms.toml").read_text("utf-8")
    terms = _terms_from(text)
    if extra_file:
        terms = sorted(
            terms + _terms_from(Path(extra_file).read_text("utf-8")), key=lambda t: -len(t.name)
        )
    return tuple(terms)


@dataclass(frozen=True)
class PreflightResult:
    matches: tuple[PreflightMatch, ...]
    suggestion: str


def preflight(prompt: str, terms: tuple[Term, ...] | None = None) -> PreflightResult | None:
    """Find risky terms; return the matches and a rewritten prompt, or None if it looks fine."""
    terms = load_terms() if terms is None else terms
    matches: list[PreflightMatch] = []
    text = prompt
    lowered = text.lower()
    for term in terms:
        if not term.may_be_in(text, lowered):
            continue
        found = term.pattern.search(text)
        if not found:
            continue
        matches.append(PreflightMatch(found.group(0), term.category, term.replacement))
        text = _rewrite(text, term)
        lowered = text.lower()
    if not matches:
        return None
    return PreflightResult(tuple(matches), re.sub(r"[ \t]{2,}", " ", text).strip())


def _rewrite(text: str, term: Term) -> str:
    out: list[str] = []
    last = 0
    for m in term.pattern.finditer(text):
        before = text[last : m.start()]
        prefix = _PREFIX.search(before)
        if prefix and term.category in {"living_artist", "studio"}:
            before = before[: prefix.start()] + "in a "
        out.append(before + term.replacement)
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def check_prompt(
    prompt: str, *, policy: str, force: bool, extra_file: str | None = None
) -> PreflightResult | None:
    """Apply ``safety.preflight``: ``block`` raises unless forced, ``warn`` returns, ``off`` skips."""
    if policy == "off":
        return None
    result = preflight(prompt, load_terms(extra_file))
    if result is None:
        return None
    if policy == "block" and not force:
        raise PreflightRefused(matches=list(result.matches), suggestion=result.suggestion)
    return result


# -- upstream failures --------------------------------------------------------------------

_REFUSAL_CODES = {
    "moderation_blocked",
    "content_policy_violation",
    "input_moderation",
    "output_moderation",
    "safety_violation",
}
_INVALID_CODES = {
    "prompt_too_long",
    "size_not_supported",
    "n_not_within_range",
    "prompt_missing",
    "invalid_value",
    "invalid_request_error",
    "unsupported_parameter",
    "unknown_parameter",
    "invalid_image",
    "image_too_large",
    "invalid_image_format",
}
_NO_MONEY_CODES = {
    "billing_hard_limit_reached",
    "insufficient_quota",
    "insufficient_user_quota",
    "billing_not_active",
    "quota_exceeded",
}
_MODEL_CODES = {"model_not_found", "model_not_available", "model_retired"}


def _error_fields(body: Any) -> dict[str, Any]:
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return inner
    return {}


def refusal_from(fields: dict[str, Any], prompt: str) -> Refused:
    """A :class:`Refused` carrying the stage and categories when the gateway gives them."""
    details = fields.get("moderation_details") or {}
    stage = details.get("moderation_stage") if isinstance(details, dict) else None
    categories = details.get("categories") if isinstance(details, dict) else None
    found = preflight(prompt)
    return Refused(
        stage=stage if stage in ("input", "output") else None,
        categories=[str(c) for c in categories] if isinstance(categories, list) else [],
        suggestion=found.suggestion if found else None,
        matches=list(found.matches) if found else [],
    )


def classify_status(
    status: int, body: Any, *, model: str, prompt: str, request_id: str | None = None
) -> PixelsmithError:
    """Map an HTTP error answer from the gateway to a typed failure (see openai-images.md)."""
    fields = _error_fields(body)
    code = str(fields.get("code") or "").strip().lower() or None
    message = str(fields.get("message") or "")
    lowered = message.lower()
    common: dict[str, Any] = {
        "status": status,
        "code": code,
        "model": model,
        "request_id": request_id,
    }
    if code in _REFUSAL_CODES or (status == 400 and "safety system" in lowered):
        return refusal_from(fields, prompt)
    if code in _NO_MONEY_CODES:
        return UpstreamError("upstream.no_balance", charge=Charge.NONE, admin=True, **common)
    if status == 401:
        return UpstreamError("upstream.bad_key", charge=Charge.NONE, admin=True, **common)
    if status == 403:
        return UpstreamError("upstream.forbidden", charge=Charge.NONE, admin=True, **common)
    model_missing = code in _MODEL_CODES or (
        status in (404, 503) and ("model" in lowered or "incorrect model" in lowered)
    )
    if model_missing or status == 404:
        return UpstreamError("upstream.model_unavailable", charge=Charge.NONE, admin=True, **common)
    if status == 429:
        return UpstreamError("upstream.rate_limited", charge=Charge.NONE, **common)
    if status >= 500:
        return UpstreamError("upstream.server", charge=Charge.CHARGED, **common)
    param = fields.get("param")
    return UpstreamError(
        "upstream.invalid_request",
        charge=Charge.CHARGED,
        param=str(param) if param else None,
        known_code=code in _INVALID_CODES,
        **common,
    )
