"""Persistence: quota policy, tables, and the :class:`Store` (jobs, buckets, ledger).

The rooms, each a mixin of :class:`Store` (``store.py`` puts them together and owns open/close):

* ``clock.py``: the one time convention (aware UTC in, aware UTC out) and the quota periods.
* ``engine.py``: the engine, the worker threads served by urgency, the one transaction path.
* ``statements.py``: table handles, the money statements compiled once, row -> JobView.
* ``jobs.py``: the job state machine (claim + reserve, submit, settle/release).
* ``leases.py``: the reaper, abandoned jobs, reaped-job notices.
* ``buckets.py``: which buckets a job reserves on, the reservation, quota status.
* ``admin.py``: grants, bans, overrides, per-database settings.
* ``reports.py``: history, usage, daily spend.
* ``check.py``: counters against the ledger.
* ``preferences.py``: members' own defaults (``/settings``).
* ``slots.py``: the upstream budget shared by every process (leased slots, waiting jobs).
* ``interactions.py``: what a click or a modal submit needs later (``interaction`` rows).
* ``policy.py``: the ``[quota]`` settings and how they resolve.
* ``models.py``: the schema, as SQLModel models; ``tables.py``: the same tables as SQLAlchemy
  Core, generated from the models by ``schema.py`` (``python -m core.store.schema``).

SQLModel or plain SQLAlchemy: both, each for what it gives. The tables are declared once, as
SQLModel models (one typed declaration per table, with the reasons next to the columns); every
statement is SQLAlchemy Core on the generated ``tables.py``, which Alembic migrates to. The
store never loads ORM objects: a job transition is a handful of conditional UPDATEs whose row
counts and RETURNING values are the result, which the ORM's unit of work can neither express
nor afford on the hot path (see ``engine.py``); and not even importing the ORM keeps every
one-shot command about 0.15 s faster.

The values the store returns to the service and adapters (JobView, JobState, QuotaStatus,
LimitStatus, UsageRow, DailySpend) live in :mod:`core.types`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from core.store.policy import (
    EffectiveLimits,
    QuotaOverrides,
    QuotaSettings,
    effective_limits,
    micros_to_usd,
    usd_to_micros,
)

if TYPE_CHECKING:
    from core.store.jobs import JobClaim, JobConflict
    from core.store.leases import ERROR_EXPIRED, ERROR_UNKNOWN
    from core.store.reports import EVERYWHERE
    from core.store.store import Store

# The engine side (SQLAlchemy, the tables) is imported on first use, so that reading the quota
# policy (the config does, for every command) does not load the database layer.
_LAZY = {
    "JobClaim": "core.store.jobs",
    "JobConflict": "core.store.jobs",
    "ERROR_EXPIRED": "core.store.leases",
    "ERROR_UNKNOWN": "core.store.leases",
    "EVERYWHERE": "core.store.reports",
    "Store": "core.store.store",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ERROR_EXPIRED",
    "ERROR_UNKNOWN",
    "EVERYWHERE",
    "EffectiveLimits",
    "JobClaim",
    "JobConflict",
    "QuotaOverrides",
    "QuotaSettings",
    "Store",
    "effective_limits",
    "micros_to_usd",
    "usd_to_micros",
]
