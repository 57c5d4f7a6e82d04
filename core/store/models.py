"""The tables, declared as SQLModel models: where the schema is written, typed and explained.
The store and Alembic use :mod:`core.store.tables`, the same tables as plain SQLAlchemy Core,
generated from these by ``python -m core.store.schema`` (why: :mod:`core.store.schema`).
Change a model, regenerate, then write the migration.

The job and the append-only ledger carry the truth; bucket counters are derived.

Times are ``TIMESTAMP WITH TIME ZONE`` (``TZ``), read and written as aware UTC (the convention
is in :mod:`core.store.clock`). Money is integer micro-dollars (``BigInteger``), never a float.

Why ``quota_bucket`` has no ``CHECK (reserved + spent <= limit)``: a reservation is guarded by
the conditional UPDATE (``... WHERE reserved + spent + :c <= limit + granted``), which is what
stops an overspend. Settling then records the cost the gateway actually billed, and that may be
more than the worst-case estimate that was reserved (or arrive after an admin lowered the limit).
A CHECK on the sum would make that honest settle fail and leave the ledger lying about money
that was really spent, so the database only checks that each counter is non-negative.

Why ``ledger_entry`` is unique on ``(job_id, scope, period, unit, kind)`` rather than
``(job_id, scope, kind, unit)``: one job reserves twice on the same scope and unit (the day and
the month bucket), so the period is part of what makes a transition unique.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    LargeBinary,
    Text,
    UniqueConstraint,
    false,
)
from sqlmodel import Field, SQLModel

from core.types import OPERATOR_POOL

TZ = DateTime(timezone=True)
_POOL_DEFAULT = {"server_default": OPERATOR_POOL}


class QuotaBucket(SQLModel, table=True):
    """One counter: ``scope`` (``user:<platform>:<id>`` / ``community:<platform>:<id>``),
    ``period`` (``day:YYYY-MM-DD`` | ``month:YYYY-MM`` | ``live``), ``unit``
    (``images`` | ``micro_usd`` | ``jobs``). ``limit`` mirrors the config at the last reserve;
    ``granted`` is the sum of ``quota_grant`` rows for the same key."""

    __tablename__ = "quota_bucket"
    __table_args__ = (
        UniqueConstraint("scope", "period", "unit", name="uq_quota_bucket_key"),
        CheckConstraint(
            "reserved >= 0 AND spent >= 0 AND granted >= 0", name="ck_quota_bucket_nonneg"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=200)
    period: str = Field(max_length=20)
    unit: str = Field(max_length=16)
    limit: int = Field(sa_type=BigInteger)
    granted: int = Field(default=0, sa_type=BigInteger)
    reserved: int = Field(default=0, sa_type=BigInteger)
    spent: int = Field(default=0, sa_type=BigInteger)


class Job(SQLModel, table=True):
    """One request. ``error`` is a message key (``refused.upstream``), never exception text."""

    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_user_created", "user_scope", "created_at"),
        Index("ix_job_state_lease", "state", "lease_until"),
        Index("ix_job_created", "created_at"),
        Index("ix_job_community_created", "community_scope", "created_at"),
        Index("ix_job_public_id", "public_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    idem_key: str = Field(max_length=200, unique=True)
    public_id: str = Field(max_length=32)
    platform: str = Field(max_length=32)
    user_scope: str = Field(max_length=200)
    community_scope: str | None = Field(default=None, max_length=200)
    model: str = Field(max_length=100)
    request: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(max_length=20)
    worst_cost_micros: int = Field(default=0, sa_type=BigInteger)
    cost_micros: int = Field(default=0, sa_type=BigInteger)
    images_requested: int = 0
    images_delivered: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=TZ)
    attempts: int = 0
    error: str | None = Field(default=None, max_length=100)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    notified: bool = False
    cost_capped: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # the fingerprint of the community's own gateway key that served the job (null: the
    # operator's key); the money was the community's, on its own gateway account
    key_ref: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_type=TZ)
    updated_at: datetime = Field(sa_type=TZ)


class LedgerEntry(SQLModel, table=True):
    """Append-only. ``reserve`` adds to a bucket's ``reserved``, ``release`` takes it back,
    ``capture`` adds to ``spent``. So, for every bucket: reserved = sum(reserve) - sum(release)
    and spent = sum(capture)."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        UniqueConstraint("job_id", "scope", "period", "unit", "kind", name="uq_ledger_transition"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id")
    bucket_id: int = Field(foreign_key="quota_bucket.id")
    scope: str = Field(max_length=200)
    period: str = Field(max_length=20)
    unit: str = Field(max_length=16)
    kind: str = Field(max_length=16)
    amount: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(sa_type=TZ)


class QuotaGrant(SQLModel, table=True):
    """Extra allowance given by an admin (``quota grant``); summed into ``quota_bucket.granted``."""

    __tablename__ = "quota_grant"
    __table_args__ = (Index("ix_quota_grant_key", "scope", "period", "unit"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=200)
    period: str = Field(max_length=20)
    unit: str = Field(max_length=16)
    amount: int = Field(sa_type=BigInteger)
    reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=TZ)


class Ban(SQLModel, table=True):
    __tablename__ = "ban"

    scope: str = Field(primary_key=True, max_length=200)
    reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=TZ)


class UserState(SQLModel, table=True):
    """Per-user state that is not a counter: when the last job started (for the cooldown)."""

    __tablename__ = "user_state"

    scope: str = Field(primary_key=True, max_length=200)
    last_job_at: datetime | None = Field(default=None, sa_type=TZ)


class QuotaOverride(SQLModel, table=True):
    """Limits set by ``pixelsmith quota set``; they win over the config. ``limits`` holds
    config-style keys (``user_daily_usd``...); a key with a null value means unlimited."""

    __tablename__ = "quota_override"

    scope: str = Field(primary_key=True, max_length=200)
    limits: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(sa_type=TZ)


class Setting(SQLModel, table=True):
    """Values a deployment generates once and keeps (e.g. the salt of the user hash sent
    upstream as ``safety_identifier``), shared by every process on the database."""

    __tablename__ = "setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=500)
    created_at: datetime = Field(sa_type=TZ)


class UsedToken(SQLModel, table=True):
    """One-time tokens already used (the web companion's links), each kept until it would have
    expired anyway: every process on the database refuses a replay of it."""

    __tablename__ = "used_token"

    nonce: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_type=TZ, index=True)


class AuditEntry(SQLModel, table=True):
    """Append-only: one admin action. ``actor`` is the caller's user scope (``operator`` for the
    CLI); ``community_scope`` the community it acted in (None: the operator); ``before`` and
    ``after`` the value of ``target`` around the action."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_community", "community_scope", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    actor: str = Field(max_length=200)
    community_scope: str | None = Field(default=None, max_length=200)
    action: str = Field(max_length=32)
    target: str = Field(max_length=200)
    before: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(sa_type=TZ)


class MemberPreference(SQLModel, table=True):
    """A member's own defaults (``/settings``), per member AND community: ``scope`` is the
    member scope (``member:<platform>:<community|dm>:<user>``). ``prefs`` holds the values as
    the member set them (``{"model": "gpt-image-2", "quality": "high", ...}``); they are
    validated against the catalog again whenever they are used (core/preferences.py)."""

    __tablename__ = "member_preference"

    scope: str = Field(primary_key=True, max_length=200)
    prefs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(sa_type=TZ)


class UpstreamSlot(SQLModel, table=True):
    """One grant of the upstream budget shared by every process on the database (see
    :mod:`core.budget`). Held while ``released_at`` is null and ``lease_until`` is ahead (the
    holder renews it with its jobs' leases; a dead holder's slot expires with it); kept for a
    minute after its grant, for the ``requests_per_minute`` window and for fairness."""

    __tablename__ = "upstream_slot"
    __table_args__ = (
        Index("ix_upstream_slot_held", "released_at", "lease_until"),
        Index("ix_upstream_slot_granted", "granted_at"),
        Index("ix_upstream_slot_holder", "holder", "job_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # whose gateway key the slot is for: "operator", or "key:<fingerprint>" (a community's own)
    pool: str = Field(default=OPERATOR_POOL, max_length=48, sa_column_kwargs=_POOL_DEFAULT)
    holder: str = Field(max_length=100)
    job_id: int
    user_scope: str = Field(max_length=200)
    community_scope: str | None = Field(default=None, max_length=200)
    granted_at: datetime = Field(sa_type=TZ)
    lease_until: datetime = Field(sa_type=TZ)
    released_at: datetime | None = Field(default=None, sa_type=TZ)


class UpstreamWait(SQLModel, table=True):
    """A job waiting for an upstream slot, in whichever process: the next free slot goes to
    the waiting user with the fewest held or recent slots across all processes."""

    __tablename__ = "upstream_wait"
    __table_args__ = (
        UniqueConstraint("holder", "job_id", name="uq_upstream_wait_job"),
        Index("ix_upstream_wait_user", "user_scope", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # whose gateway key the slot is for: "operator", or "key:<fingerprint>" (a community's own)
    pool: str = Field(default=OPERATOR_POOL, max_length=48, sa_column_kwargs=_POOL_DEFAULT)
    holder: str = Field(max_length=100)
    job_id: int
    user_scope: str = Field(max_length=200)
    community_scope: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=TZ)
    lease_until: datetime = Field(sa_type=TZ)


class InteractionState(SQLModel, table=True):
    """What a button click or a modal submit needs later, found by every process on the
    database (and after a restart) until ``expires_at``: a refused request waiting for "Send
    anyway", the inputs an edit's Re-roll sends again, an open modal's context.

    ``token`` is the random id a button or modal carries (see :mod:`core.rooms.interactions`),
    or ``inputs:<job id>`` for a job's kept inputs (never accepted from a click). ``owner_scope``
    is the member scope allowed to use it (None: whoever may act on the job, checked by the
    adapter); ``inputs`` describes the images packed one after the other into ``data``."""

    __tablename__ = "interaction"

    token: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=32)
    community_scope: str | None = Field(default=None, max_length=200)
    owner_scope: str | None = Field(default=None, max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    inputs: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    data: bytes | None = Field(default=None, sa_type=LargeBinary)
    created_at: datetime = Field(sa_type=TZ)
    expires_at: datetime = Field(sa_type=TZ, index=True)


class PlatformInstall(SQLModel, table=True):
    """One platform's grant to serve one community (a Slack workspace, or an Enterprise Grid
    org for an org-wide install), as its OAuth flow answered it: ``key`` is the community id
    the grant is found by, ``details`` what the platform said of it (ids, scopes, who installed
    it; never a secret), ``sealed`` its tokens as one value sealed with ``PIXELSMITH_SECRET_KEY``
    (:mod:`core.sealed`): nothing here can be used without the key."""

    __tablename__ = "platform_install"

    platform: str = Field(primary_key=True, max_length=32)
    key: str = Field(primary_key=True, max_length=64)
    group_id: str | None = Field(default=None, max_length=64, index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    sealed: str = Field(sa_type=Text)
    installed_at: datetime = Field(sa_type=TZ)


class OAuthState(SQLModel, table=True):
    """An OAuth ``state`` issued when an install starts, consumed (deleted) once when the
    platform redirects back, on whichever process that lands; unusable after ``expires_at``."""

    __tablename__ = "oauth_state"

    state: str = Field(primary_key=True, max_length=128)
    expires_at: datetime = Field(sa_type=TZ, index=True)


class CommunityKey(SQLModel, table=True):
    """A community's own gateway key ("bring your own key"): ``sealed`` holds the key sealed
    with ``PIXELSMITH_SECRET_KEY`` (:mod:`core.sealed`), ``fingerprint`` names it without
    revealing it, ``base_url`` is the gateway it is for (null: the operator's). A row whose
    ``sealed`` is null records a removed key where the operator does not let the community
    fall back to the operator's key: its jobs stop until an admin sets a new one.
    ``check`` is the last ``keys test`` / doctor outcome (``ok`` or a message key)."""

    __tablename__ = "community_key"

    community_scope: str = Field(primary_key=True, max_length=200)
    sealed: str | None = Field(default=None, sa_type=Text)
    fingerprint: str | None = Field(default=None, max_length=32)
    base_url: str | None = Field(default=None, max_length=500)
    set_by: str = Field(max_length=200)
    set_at: datetime = Field(sa_type=TZ)
    checked_at: datetime | None = Field(default=None, sa_type=TZ)
    check: str | None = Field(default=None, max_length=100)


metadata = SQLModel.metadata
