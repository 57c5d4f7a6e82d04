"""The generated Core tables (core/store/tables.py) are the SQLModel models (core/store/models.py),
exactly: the file is what the generator writes now, and both create the same DDL, indexes and
column defaults on SQLite and PostgreSQL. Regenerate with ``python -m core.store.schema``."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import MetaData
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from core.store import schema, tables
from core.store.models import metadata as models


def test_the_generated_file_is_current() -> None:
    assert schema.TARGET.read_text(encoding="utf-8") == schema.render(models), (
        "core/store/tables.py is stale: run `python -m core.store.schema`"
    )


def _shape(metadata: MetaData, dialect: Any) -> dict[str, Any]:
    shape: dict[str, Any] = {}
    for table in metadata.sorted_tables:
        shape[table.name] = {
            "ddl": str(CreateTable(table).compile(dialect=dialect)).strip(),
            "indexes": sorted(str(CreateIndex(i).compile(dialect=dialect)) for i in table.indexes),
            "defaults": {
                c.name: getattr(c.default, "arg", None) for c in table.columns if c.default
            },
        }
    return shape


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "pg"])  # type: ignore[no-untyped-call]
def test_models_and_tables_create_the_same_schema(dialect: Any) -> None:
    assert _shape(tables.metadata, dialect) == _shape(models, dialect)


def test_the_store_never_loads_sqlmodel_or_the_orm() -> None:
    import subprocess
    import sys

    code = (
        "import sys, core.service, core.store.store; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlmodel' "
        "or m.startswith('sqlalchemy.orm')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]", out
