"""The upstream budget shared by every process on the database (core/budget.py).

* ``upstream_slot``: leased grants of ``provider.max_concurrency`` slots, kept a minute after
  their grant for ``provider.requests_per_minute``.
* ``upstream_wait``: jobs waiting for a slot, in any process (fair order chosen in SQL).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upstream_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("user_scope", sa.String(length=200), nullable=False),
        sa.Column("community_scope", sa.String(length=200), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("upstream_slot", schema=None) as batch_op:
        batch_op.create_index("ix_upstream_slot_held", ["released_at", "lease_until"])
        batch_op.create_index("ix_upstream_slot_granted", ["granted_at"])
        batch_op.create_index("ix_upstream_slot_holder", ["holder", "job_id"])
    op.create_table(
        "upstream_wait",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("user_scope", sa.String(length=200), nullable=False),
        sa.Column("community_scope", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("holder", "job_id", name="uq_upstream_wait_job"),
    )
    with op.batch_alter_table("upstream_wait", schema=None) as batch_op:
        batch_op.create_index("ix_upstream_wait_user", ["user_scope", "id"])


def downgrade() -> None:
    op.drop_table("upstream_wait")
    op.drop_table("upstream_slot")
