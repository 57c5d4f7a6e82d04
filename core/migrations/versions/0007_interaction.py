"""Interaction state in the database: what a click or a modal submit needs later (a refused
request and its images, the inputs an edit's Re-roll sends again, an open modal's context),
found by every process on the database and after a restart, until it expires.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "interaction",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("community_scope", sa.String(length=200), nullable=True),
        sa.Column("owner_scope", sa.String(length=200), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_index("ix_interaction_expires_at", "interaction", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_interaction_expires_at", table_name="interaction")
    op.drop_table("interaction")
