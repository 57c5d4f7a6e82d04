"""Platform installs: a Slack workspace's (or Enterprise Grid org's) OAuth grant, its tokens
sealed, found by every process on the database; and the OAuth ``state`` of an install under
way, so the install can start on one process and its redirect land on another.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_install",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "key"),
    )
    op.create_index("ix_platform_install_group_id", "platform_install", ["group_id"], unique=False)
    op.create_table(
        "oauth_state",
        sa.Column("state", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state"),
    )
    op.create_index("ix_oauth_state_expires_at", "oauth_state", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_oauth_state_expires_at", table_name="oauth_state")
    op.drop_table("oauth_state")
    op.drop_index("ix_platform_install_group_id", table_name="platform_install")
    op.drop_table("platform_install")
