"""Bring your own key: a community's own gateway key (sealed), which key served each job, and
one upstream budget per key (the operator's pool and each community key's pool).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "community_key",
        sa.Column("community_scope", sa.String(length=200), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=True),
        sa.Column("fingerprint", sa.String(length=32), nullable=True),
        sa.Column("base_url", sa.String(length=500), nullable=True),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("check", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("community_scope"),
    )
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("key_ref", sa.String(length=32), nullable=True))
    for table in ("upstream_slot", "upstream_wait"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("pool", sa.String(length=48), nullable=False, server_default="operator")
            )


def downgrade() -> None:
    for table in ("upstream_wait", "upstream_slot"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("pool")
    with op.batch_alter_table("job") as batch:
        batch.drop_column("key_ref")
    op.drop_table("community_key")
