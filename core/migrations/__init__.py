"""Alembic migrations, run programmatically (no alembic.ini).

``upgrade(connection)`` brings the database on ``connection`` to head inside the caller's
transaction; an existing database is upgraded in place, never recreated. To write a new
revision: ``python -m core.migrations revision -m "what" [--url URL]`` (autogenerate against a
database at head), then review the file in ``versions/``.
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy import Connection

HERE = Path(__file__).resolve().parent
HEAD = "0002"


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: Connection, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


def current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()
