"""Tenancy: public job ids, the admin audit log, and community-written limits kept inside their
community.

* ``job.public_id``: an unguessable id for buttons and links (existing jobs get one each).
* ``job.cost_capped``: the job's reported cost was above the sanity bound and settled at it.
* ``audit_entry``: one append-only row per admin action.
* Old limit overrides. Before this revision any community admin could write a
  ``user:<platform>:<id>`` or ``community:<platform>:<id>`` override, and such a row counted as
  the operator's word everywhere (it could raise a limit in every community). Who wrote an old
  row cannot be told, so each is kept in a form that can only **restrict** from now on:

  - ``community:<p>:<id>`` overrides move to ``member:<p>:<id>:*`` (that community's own
    default for its members, restrict-only);
  - ``user:discord:<id>`` and ``user:slack:<id>`` overrides move to ``member:<p>:*:<id>`` (a
    restrict-only limit for that user in every community);
  - ``user:cli:``/``user:console:`` overrides stay: only the operator's terminal wrote them.

  So nobody gains an allowance by the migration, and every restriction in force stays in force.
  An operator who had raised a limit with ``pixelsmith quota set`` sets it again (it is then an
  operator bound). Old bans on ``user:`` scopes stay operator bans (``pixelsmith unban`` lifts
  them); old grants stay on their buckets and run out with their period.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def legacy_scope(scope: str) -> str | None:
    """Where an old override row moves to (None: it stays)."""
    kind, _, rest = scope.partition(":")
    platform, _, ident = rest.partition(":")
    if not platform or not ident:
        return None
    if kind == "community":
        return f"member:{platform}:{ident}:*"
    if kind == "user" and platform in ("discord", "slack"):
        return f"member:{platform}:*:{ident}"
    return None


def upgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_id", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("cost_capped", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    bind = op.get_bind()
    job = sa.table("job", sa.column("id", sa.Integer), sa.column("public_id", sa.String))
    ids = [row[0] for row in bind.execute(sa.select(job.c.id).where(job.c.public_id.is_(None)))]
    for job_id in ids:
        bind.execute(
            job.update().where(job.c.id == job_id).values(public_id=secrets.token_urlsafe(16))
        )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.alter_column("public_id", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_index("ix_job_public_id", ["public_id"], unique=True)
        batch_op.create_index("ix_job_community_created", ["community_scope", "created_at"])

    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("community_scope", sa.String(length=200), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_audit_community", ["community_scope", "id"], unique=False)

    override = sa.table(
        "quota_override",
        sa.column("scope", sa.String),
        sa.column("limits", sa.JSON),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    for scope, limits, updated_at in bind.execute(
        sa.select(override.c.scope, override.c.limits, override.c.updated_at)
    ).all():
        moved = legacy_scope(scope)
        if moved is None:
            continue
        bind.execute(override.delete().where(override.c.scope == scope))
        bind.execute(override.insert().values(scope=moved, limits=limits, updated_at=updated_at))


def downgrade() -> None:
    op.drop_table("audit_entry")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index("ix_job_community_created")
        batch_op.drop_index("ix_job_public_id")
        batch_op.drop_column("cost_capped")
        batch_op.drop_column("public_id")
