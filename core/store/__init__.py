"""Persistence: quota policy, tables, and the :class:`Store` (jobs, buckets, ledger)."""

from core.store.policy import (
    EffectiveLimits,
    QuotaOverrides,
    QuotaSettings,
    effective_limits,
    micros_to_usd,
    usd_to_micros,
)
from core.store.store import (
    DailySpend,
    JobClaim,
    JobConflict,
    JobState,
    JobView,
    LimitStatus,
    QuotaStatus,
    Store,
    UsageRow,
)

__all__ = [
    "DailySpend",
    "EffectiveLimits",
    "JobClaim",
    "JobConflict",
    "JobState",
    "JobView",
    "LimitStatus",
    "QuotaOverrides",
    "QuotaSettings",
    "QuotaStatus",
    "Store",
    "UsageRow",
    "effective_limits",
    "micros_to_usd",
    "usd_to_micros",
]
