"""The tables, as plain SQLAlchemy Core: GENERATED from :mod:`core.store.models` by
``python -m core.store.schema`` (do not edit; ``tests/store/test_schema.py`` checks it).

The models say what each table holds and why; the conventions are in :mod:`core.store.models`:
times are ``TIMESTAMP WITH TIME ZONE`` read and written as aware UTC, money is integer
micro-dollars.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData()


AUDIT_ENTRY = Table(
    "audit_entry",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("actor", String(length=200), nullable=False),
    Column("community_scope", String(length=200), nullable=True),
    Column("action", String(length=32), nullable=False),
    Column("target", String(length=200), nullable=False),
    Column("before", JSON(), nullable=True),
    Column("after", JSON(), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_audit_community", "community_scope", "id"),
)


BAN = Table(
    "ban",
    metadata,
    Column("scope", String(length=200), primary_key=True, nullable=False),
    Column("reason", String(length=200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


COMMUNITY_KEY = Table(
    "community_key",
    metadata,
    Column("community_scope", String(length=200), primary_key=True, nullable=False),
    Column("sealed", Text(), nullable=True),
    Column("fingerprint", String(length=32), nullable=True),
    Column("base_url", String(length=500), nullable=True),
    Column("set_by", String(length=200), nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
    Column("checked_at", DateTime(timezone=True), nullable=True),
    Column("check", String(length=100), nullable=True),
)


INTERACTION = Table(
    "interaction",
    metadata,
    Column("token", String(length=64), primary_key=True, nullable=False),
    Column("kind", String(length=32), nullable=False),
    Column("community_scope", String(length=200), nullable=True),
    Column("owner_scope", String(length=200), nullable=True),
    Column("payload", JSON(), nullable=False),
    Column("inputs", JSON(), nullable=False),
    Column("data", LargeBinary(), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_interaction_expires_at", "expires_at"),
)


JOB = Table(
    "job",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("idem_key", String(length=200), nullable=False, unique=True),
    Column("public_id", String(length=32), nullable=False),
    Column("platform", String(length=32), nullable=False),
    Column("user_scope", String(length=200), nullable=False),
    Column("community_scope", String(length=200), nullable=True),
    Column("model", String(length=100), nullable=False),
    Column("request", JSON(), nullable=False),
    Column("state", String(length=20), nullable=False),
    Column("worst_cost_micros", BigInteger(), nullable=False, default=0),
    Column("cost_micros", BigInteger(), nullable=False, default=0),
    Column("images_requested", Integer(), nullable=False, default=0),
    Column("images_delivered", Integer(), nullable=False, default=0),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer(), nullable=False, default=0),
    Column("error", String(length=100), nullable=True),
    Column("result", JSON(), nullable=True),
    Column("notified", Boolean(), nullable=False, default=False),
    Column("cost_capped", Boolean(), nullable=False, default=False, server_default=false()),
    Column("key_ref", String(length=32), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_job_community_created", "community_scope", "created_at"),
    Index("ix_job_created", "created_at"),
    Index("ix_job_public_id", "public_id", unique=True),
    Index("ix_job_state_lease", "state", "lease_until"),
    Index("ix_job_user_created", "user_scope", "created_at"),
)


MEMBER_PREFERENCE = Table(
    "member_preference",
    metadata,
    Column("scope", String(length=200), primary_key=True, nullable=False),
    Column("prefs", JSON(), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


OAUTH_STATE = Table(
    "oauth_state",
    metadata,
    Column("state", String(length=128), primary_key=True, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_oauth_state_expires_at", "expires_at"),
)


PLATFORM_INSTALL = Table(
    "platform_install",
    metadata,
    Column("platform", String(length=32), primary_key=True, nullable=False),
    Column("key", String(length=64), primary_key=True, nullable=False),
    Column("group_id", String(length=64), nullable=True),
    Column("details", JSON(), nullable=False),
    Column("sealed", Text(), nullable=False),
    Column("installed_at", DateTime(timezone=True), nullable=False),
    Index("ix_platform_install_group_id", "group_id"),
)


QUOTA_BUCKET = Table(
    "quota_bucket",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("scope", String(length=200), nullable=False),
    Column("period", String(length=20), nullable=False),
    Column("unit", String(length=16), nullable=False),
    Column("limit", BigInteger(), nullable=False),
    Column("granted", BigInteger(), nullable=False, default=0),
    Column("reserved", BigInteger(), nullable=False, default=0),
    Column("spent", BigInteger(), nullable=False, default=0),
    UniqueConstraint("scope", "period", "unit", name="uq_quota_bucket_key"),
    CheckConstraint("reserved >= 0 AND spent >= 0 AND granted >= 0", name="ck_quota_bucket_nonneg"),
)


QUOTA_GRANT = Table(
    "quota_grant",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("scope", String(length=200), nullable=False),
    Column("period", String(length=20), nullable=False),
    Column("unit", String(length=16), nullable=False),
    Column("amount", BigInteger(), nullable=False),
    Column("reason", String(length=200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_quota_grant_key", "scope", "period", "unit"),
)


QUOTA_OVERRIDE = Table(
    "quota_override",
    metadata,
    Column("scope", String(length=200), primary_key=True, nullable=False),
    Column("limits", JSON(), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


SETTING = Table(
    "setting",
    metadata,
    Column("key", String(length=64), primary_key=True, nullable=False),
    Column("value", String(length=500), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


UPSTREAM_SLOT = Table(
    "upstream_slot",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column(
        "pool",
        String(length=48),
        nullable=False,
        default="operator",
        server_default="operator",
    ),
    Column("holder", String(length=100), nullable=False),
    Column("job_id", Integer(), nullable=False),
    Column("user_scope", String(length=200), nullable=False),
    Column("community_scope", String(length=200), nullable=True),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True), nullable=False),
    Column("released_at", DateTime(timezone=True), nullable=True),
    Index("ix_upstream_slot_granted", "granted_at"),
    Index("ix_upstream_slot_held", "released_at", "lease_until"),
    Index("ix_upstream_slot_holder", "holder", "job_id"),
)


UPSTREAM_WAIT = Table(
    "upstream_wait",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column(
        "pool",
        String(length=48),
        nullable=False,
        default="operator",
        server_default="operator",
    ),
    Column("holder", String(length=100), nullable=False),
    Column("job_id", Integer(), nullable=False),
    Column("user_scope", String(length=200), nullable=False),
    Column("community_scope", String(length=200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True), nullable=False),
    UniqueConstraint("holder", "job_id", name="uq_upstream_wait_job"),
    Index("ix_upstream_wait_user", "user_scope", "id"),
)


USED_TOKEN = Table(
    "used_token",
    metadata,
    Column("nonce", String(length=64), primary_key=True, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_used_token_expires_at", "expires_at"),
)


USER_STATE = Table(
    "user_state",
    metadata,
    Column("scope", String(length=200), primary_key=True, nullable=False),
    Column("last_job_at", DateTime(timezone=True), nullable=True),
)


LEDGER_ENTRY = Table(
    "ledger_entry",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("job_id", Integer(), ForeignKey("job.id"), nullable=False),
    Column("bucket_id", Integer(), ForeignKey("quota_bucket.id"), nullable=False),
    Column("scope", String(length=200), nullable=False),
    Column("period", String(length=20), nullable=False),
    Column("unit", String(length=16), nullable=False),
    Column("kind", String(length=16), nullable=False),
    Column("amount", BigInteger(), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("job_id", "scope", "period", "unit", "kind", name="uq_ledger_transition"),
)
