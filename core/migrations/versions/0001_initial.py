"""Initial schema: quota buckets, jobs, the ledger, grants, bans, user state, overrides.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "ban",
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope"),
    )
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idem_key", sa.String(length=200), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("user_scope", sa.String(length=200), nullable=False),
        sa.Column("community_scope", sa.String(length=200), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("worst_cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("images_requested", sa.Integer(), nullable=False),
        sa.Column("images_delivered", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=100), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idem_key"),
    )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.create_index("ix_job_created", ["created_at"], unique=False)
        batch_op.create_index("ix_job_state_lease", ["state", "lease_until"], unique=False)
        batch_op.create_index("ix_job_user_created", ["user_scope", "created_at"], unique=False)

    op.create_table(
        "quota_bucket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("limit", sa.BigInteger(), nullable=False),
        sa.Column("granted", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "reserved >= 0 AND spent >= 0 AND granted >= 0", name="ck_quota_bucket_nonneg"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope", "period", "unit", name="uq_quota_bucket_key"),
    )
    op.create_table(
        "quota_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("quota_grant", schema=None) as batch_op:
        batch_op.create_index("ix_quota_grant_key", ["scope", "period", "unit"], unique=False)

    op.create_table(
        "quota_override",
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("limits", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope"),
    )
    op.create_table(
        "user_state",
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("last_job_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scope"),
    )
    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("bucket_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bucket_id"],
            ["quota_bucket.id"],
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["job.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "job_id", "scope", "period", "unit", "kind", name="uq_ledger_transition"
        ),
    )


def downgrade() -> None:

    op.drop_table("ledger_entry")
    op.drop_table("user_state")
    op.drop_table("quota_override")
    with op.batch_alter_table("quota_grant", schema=None) as batch_op:
        batch_op.drop_index("ix_quota_grant_key")

    op.drop_table("quota_grant")
    op.drop_table("quota_bucket")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index("ix_job_user_created")
        batch_op.drop_index("ix_job_state_lease")
        batch_op.drop_index("ix_job_created")

    op.drop_table("job")
    op.drop_table("ban")
