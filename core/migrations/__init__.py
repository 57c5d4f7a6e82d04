"""Alembic migrations, run programmatically (no alembic.ini).

``upgrade(connection)`` brings the database on ``connection`` to head inside the caller's
transaction; an existing database is upgraded in place, never recreated. To write a new
revision: ``python -m core.migrations revision -m "what" [--url URL]`` (autogenerate against a
database at head), then review the file in ``versions/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

HERE = Path(__file__).resolve().parent
# The newest revision in versions/ (tests/store/test_migrations.py checks it against Alembic's).
HEAD = "0009"


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Migrate to ``revision``. A database already at HEAD is left alone without loading Alembic
    (about a tenth of a second on every one-shot command)."""
    if revision == "head" and _recorded_revision(connection) == HEAD:
        return
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


def _recorded_revision(connection: Connection) -> str | None:
    """The revision in Alembic's version table, or None (no table yet, or not exactly one row)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    return str(rows[0][0]) if len(rows) == 1 else None


def current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()
