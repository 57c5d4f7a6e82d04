"""[quota] settings: validation and how community and role overrides resolve."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.store import EffectiveLimits, QuotaSettings, effective_limits
from core.store.policy import apply_overrides
from core.types import Identity


def test_unset_means_unlimited() -> None:
    assert effective_limits(QuotaSettings(), Identity("cli", "me")) == EffectiveLimits()


def test_usd_becomes_micros_and_community_then_roles_override() -> None:
    settings = QuotaSettings.model_validate(
        {
            "user_daily_images": 10,
            "user_daily_usd": 0.5,
            "community_monthly_usd": 20,
            "communities": {"123": {"user_daily_images": 3, "community_monthly_usd": 50}},
            "roles": {
                "vip": {"user_daily_images": 30, "user_daily_usd": 2},
                "staff": {"user_daily_images": "unlimited"},
            },
        }
    )
    plain = effective_limits(settings, Identity("discord", "u", "999"))
    assert (plain.user_daily_images, plain.user_daily_micros, plain.community_monthly_micros) == (
        10,
        500_000,
        20_000_000,
    )
    member = effective_limits(settings, Identity("discord", "u", "123"))
    assert (member.user_daily_images, member.community_monthly_micros) == (3, 50_000_000)
    vip = effective_limits(settings, Identity("discord", "u", "123", roles=("vip",)))
    assert (vip.user_daily_images, vip.user_daily_micros) == (30, 2_000_000)
    both = effective_limits(settings, Identity("discord", "u", "123", roles=("vip", "staff")))
    assert both.user_daily_images is None  # the most generous role wins: unlimited
    assert both.user_daily_micros == 2_000_000


def test_db_overrides_apply_on_top() -> None:
    limits = EffectiveLimits(user_daily_images=5, user_daily_micros=1)
    out = apply_overrides(limits, {"user_daily_images": None, "user_daily_usd": 0.25})
    assert (out.user_daily_images, out.user_daily_micros) == (None, 250_000)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"user_daly_images": 3}, "did you mean 'user_daily_images'"),
        ({"user_daily_images": -1}, "from 0 to 1,000,000,000"),
        ({"communities": {"1": {"budget": 3}}}, "unknown key 'budget'"),
    ],
)
def test_helpful_errors(data: dict[str, object], needle: str) -> None:
    with pytest.raises(ValidationError) as exc:
        QuotaSettings.model_validate(data)
    assert needle in str(exc.value)
