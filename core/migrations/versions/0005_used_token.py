"""One-time tokens already used (the web companion's links), shared by every process on the
database so that a link cannot be replayed on another replica.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "used_token",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
    )
    op.create_index("ix_used_token_expires_at", "used_token", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_used_token_expires_at", table_name="used_token")
    op.drop_table("used_token")
