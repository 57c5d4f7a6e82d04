"""The ``[quota]`` settings and how they resolve to the limits of one identity.

Every limit is optional: unset (or ``"unlimited"``) means no limit. USD limits are floats in the
config and integer micro-dollars from :func:`effective_limits` on.

Two tiers decide a limit:

1. **The operator bound.** The base ``[quota]`` values, then ``[quota.communities."<id>"]``,
   then ``[quota.roles."<role>"]`` (with several roles, the most generous value of each limit),
   then the database overrides the operator wrote with ``pixelsmith quota set`` on a
   ``community:`` or ``user:`` scope; later wins (:func:`apply_overrides`).
2. **The community's own settings**, written by that community's admins: its default for every
   member (``member:<p>:<community>:*``), then the member's own override
   (``member:<p>:<community>:<user>``); later wins within the tier.

The limit in force is ``min(operator bound, community value)`` (:func:`restrict`): a community can
lower what the operator allows, never raise it. A cooldown is the longer of the two.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, fields, replace
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from core.limits import LimitError, parse_limit
from core.types import Identity

MICROS = 1_000_000


LIMIT_KEYS = (
    "user_daily_images",
    "user_monthly_images",
    "user_daily_usd",
    "user_monthly_usd",
    "community_monthly_usd",
    "user_concurrent_jobs",
)
OVERRIDE_KEYS = (*LIMIT_KEYS, "cooldown_s", "count_refused")


def usd_to_micros(usd: float) -> int:
    return round(usd * MICROS)


def micros_to_usd(micros: int) -> float:
    return micros / MICROS


def _unlimited_to_none(key: str, value: Any) -> Any:
    """Every limit goes through the one limit language (core/limits.py): None for the shared
    "unlimited" words, else a finite number in the store's range, else a ValueError naming the
    value and the range."""
    try:
        return parse_limit(key, value)
    except LimitError as exc:
        from core import messages

        raise ValueError(messages.render(exc, "en")) from None


def _reject_unknown(data: Any, allowed: tuple[str, ...], where: str) -> Any:
    if isinstance(data, dict):
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ValueError(
                    f"unknown key {key!r} in {where}; {hint}valid keys: {', '.join(allowed)}"
                )
    return data


class QuotaOverrides(BaseModel):
    """Overrides for one community or role. Only the keys given apply; ``"unlimited"`` lifts one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_daily_images: int | None = Field(default=None, ge=0)
    user_monthly_images: int | None = Field(default=None, ge=0)
    user_daily_usd: float | None = Field(default=None, ge=0)
    user_monthly_usd: float | None = Field(default=None, ge=0)
    community_monthly_usd: float | None = Field(default=None, ge=0)
    user_concurrent_jobs: int | None = Field(default=None, ge=0)
    cooldown_s: float | None = Field(default=None, ge=0)
    count_refused: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        return _reject_unknown(data, OVERRIDE_KEYS, "a [quota] override")

    @field_validator(*LIMIT_KEYS, mode="before")
    @classmethod
    def _unlimited(cls, value: Any, info: ValidationInfo) -> Any:
        return _unlimited_to_none(str(info.field_name), value)

    def given(self) -> dict[str, Any]:
        """The overrides actually set (a value of None means "unlimited")."""
        return {key: getattr(self, key) for key in OVERRIDE_KEYS if key in self.model_fields_set}


class QuotaSettings(BaseModel):
    """The ``[quota]`` section. None (or unset) means unlimited."""

    model_config = ConfigDict(extra="forbid")

    user_daily_images: int | None = Field(default=None, ge=0)
    user_monthly_images: int | None = Field(default=None, ge=0)
    user_daily_usd: float | None = Field(default=None, ge=0)
    user_monthly_usd: float | None = Field(default=None, ge=0)
    community_monthly_usd: float | None = Field(default=None, ge=0)
    user_concurrent_jobs: int | None = Field(default=None, ge=0)
    cooldown_s: float = Field(default=0, ge=0)
    count_refused: bool = True
    communities: dict[str, QuotaOverrides] = Field(default_factory=dict)
    roles: dict[str, QuotaOverrides] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        return _reject_unknown(data, (*OVERRIDE_KEYS, "communities", "roles"), "[quota]")

    @field_validator(*LIMIT_KEYS, mode="before")
    @classmethod
    def _unlimited(cls, value: Any, info: ValidationInfo) -> Any:
        return _unlimited_to_none(str(info.field_name), value)

    @field_validator("communities", "roles", mode="before")
    @classmethod
    def _string_keys(cls, value: Any) -> Any:
        # TOML keys are strings already; Python callers may pass int guild ids.
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        return value


@dataclass(frozen=True)
class EffectiveLimits:
    """The limits that apply to one identity right now. None = unlimited; money in micro-USD."""

    user_daily_images: int | None = None
    user_monthly_images: int | None = None
    user_daily_micros: int | None = None
    user_monthly_micros: int | None = None
    community_monthly_micros: int | None = None
    user_concurrent_jobs: int | None = None
    cooldown_s: float = 0
    count_refused: bool = True


_MICRO_FIELDS = {
    "user_daily_usd": "user_daily_micros",
    "user_monthly_usd": "user_monthly_micros",
    "community_monthly_usd": "community_monthly_micros",
}


def _field_for(key: str) -> str:
    return _MICRO_FIELDS.get(key, key)


def _value_for(key: str, value: Any) -> Any:
    if key in _MICRO_FIELDS and value is not None:
        return usd_to_micros(float(value))
    if key == "cooldown_s" and value is None:
        return 0.0
    if key == "count_refused" and value is None:
        return True
    return value


def apply_overrides(limits: EffectiveLimits, overrides: dict[str, Any]) -> EffectiveLimits:
    """``limits`` with config-style ``overrides`` (``{"user_daily_usd": 0.5, ...}``) applied."""
    if not overrides:
        return limits
    changes = {_field_for(k): _value_for(k, v) for k, v in overrides.items() if k in OVERRIDE_KEYS}
    return replace(limits, **changes)


def _most_generous(values: list[Any], key: str) -> Any:
    if key == "count_refused":
        return all(values)  # not counting refusals is the generous one
    if key == "cooldown_s":
        return min(0.0 if v is None else v for v in values)
    if any(v is None for v in values):
        return None
    return max(values)


def effective_limits(settings: QuotaSettings, identity: Identity) -> EffectiveLimits:
    """The config limits for ``identity`` (base, then its community, then its roles)."""
    base = EffectiveLimits(
        **{_field_for(k): _value_for(k, getattr(settings, k)) for k in OVERRIDE_KEYS}
    )
    if identity.tenant_id is not None:  # the Grid org's table, else the guild's or workspace's
        community = settings.communities.get(str(identity.tenant_id))
        if community is not None:
            base = apply_overrides(base, community.given())
    role_values: dict[str, list[Any]] = {}
    for role in identity.roles:
        found = settings.roles.get(str(role))
        if found is None:
            continue
        for key, value in found.given().items():
            role_values.setdefault(key, []).append(value)
    if role_values:
        base = apply_overrides(
            base, {key: _most_generous(values, key) for key, values in role_values.items()}
        )
    return base


def limits_as_dict(limits: EffectiveLimits) -> dict[str, Any]:
    return {f.name: getattr(limits, f.name) for f in fields(limits)}


UNSET = EffectiveLimits()
"""No limit at all: the community tier before any community setting applies."""


def _lower(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def restrict(bound: EffectiveLimits, local: EffectiveLimits) -> EffectiveLimits:
    """``bound`` lowered by ``local`` wherever ``local`` is stricter (never raised)."""
    return EffectiveLimits(
        user_daily_images=_lower(bound.user_daily_images, local.user_daily_images),
        user_monthly_images=_lower(bound.user_monthly_images, local.user_monthly_images),
        user_daily_micros=_lower(bound.user_daily_micros, local.user_daily_micros),
        user_monthly_micros=_lower(bound.user_monthly_micros, local.user_monthly_micros),
        community_monthly_micros=_lower(
            bound.community_monthly_micros, local.community_monthly_micros
        ),
        user_concurrent_jobs=_lower(bound.user_concurrent_jobs, local.user_concurrent_jobs),
        cooldown_s=max(bound.cooldown_s, local.cooldown_s),
        count_refused=bound.count_refused,
    )
