"""Writes :mod:`core.store.tables` (plain SQLAlchemy Core tables) from the SQLModel models of
:mod:`core.store.models`: ``python -m core.store.schema`` after changing a model, then write
the migration (``python -m core.migrations revision``). ``tests/store/test_schema.py`` fails
while the two differ, in the generated text or in the DDL, defaults or indexes either creates.

Why a schema in two forms: the models are where a table is declared, typed and explained
(SQLModel's one declaration per table); the store, its statements and Alembic use the generated
Core tables, because the store runs SQLAlchemy Core only (see :mod:`core.store`) and building
SQLModel's classes maps every one of them with the ORM: importing ``sqlalchemy.orm`` and mapping
17 classes cost every one-shot command about 0.15 s of CPU for nothing it used.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import CheckConstraint, Column, Index, MetaData, Table, UniqueConstraint
from sqlalchemy.sql.elements import False_, TextClause, True_

TARGET = Path(__file__).with_name("tables.py")
LINE_MAX = 100

HEADER = '''"""The tables, as plain SQLAlchemy Core: GENERATED from :mod:`core.store.models` by
``python -m core.store.schema`` (do not edit; ``tests/store/test_schema.py`` checks it).

The models say what each table holds and why; the conventions are in :mod:`core.store.models`:
times are ``TIMESTAMP WITH TIME ZONE`` read and written as aware UTC, money is integer
micro-dollars.
"""

from __future__ import annotations

{imports}

metadata = MetaData()
'''


def _type(column: Column[Any]) -> str:
    kind = column.type
    if type(kind).__name__ == "AutoString":  # SQLModel's str column: a VARCHAR
        length = getattr(kind, "length", None)
        return f"String(length={length})" if length else "String()"
    return repr(kind)


def _q(value: str) -> str:
    return json.dumps(value)  # double quotes, as the formatter writes them


def _call(name: str, args: list[str]) -> str:
    """``name(args)`` as one line of the table, or one argument a line when too long."""
    line = f"    {name}({', '.join(args)}),"
    if len(line) <= LINE_MAX:
        return line
    inner = "".join(f"        {a},\n" for a in args)
    return f"    {name}(\n{inner}    ),"


def _default(value: Any) -> str:
    if isinstance(value, False_):
        return "false()"
    if isinstance(value, True_):
        return "true()"
    if isinstance(value, TextClause):
        return f"text({_q(value.text)})"
    return _q(value) if isinstance(value, str) else repr(value)


def _column(column: Column[Any]) -> str:
    args = [_q(column.name), _type(column)]
    args += [f"ForeignKey({_q(fk.target_fullname)})" for fk in column.foreign_keys]
    if column.primary_key:
        args.append("primary_key=True")
    args.append(f"nullable={column.nullable}")
    if column.unique:
        args.append("unique=True")
    default = column.default
    if default is not None:
        if not getattr(default, "is_scalar", False):
            raise ValueError(f"{column}: only scalar defaults can be generated")
        args.append(f"default={_default(default.arg)}")  # type: ignore[attr-defined]
    if column.server_default is not None:
        args.append(f"server_default={_default(column.server_default.arg)}")  # type: ignore[attr-defined]
    return _call("Column", args)


def _extras(table: Table) -> list[str]:
    lines = []
    # in the order they were declared (CREATE TABLE lists them so)
    for constraint in table._sorted_constraints:
        if isinstance(constraint, UniqueConstraint):
            columns = [c.name for c in constraint.columns]
            if constraint.name is None and len(columns) == 1 and table.c[columns[0]].unique:
                continue  # the column's own unique=True
            named = [f"name={_q(str(constraint.name))}"] if constraint.name else []
            lines.append(_call("UniqueConstraint", [*map(_q, columns), *named]))
        elif isinstance(constraint, CheckConstraint):
            named = [f"name={_q(str(constraint.name))}"] if constraint.name else []
            lines.append(_call("CheckConstraint", [_q(str(constraint.sqltext)), *named]))
    for index in sorted(table.indexes, key=lambda i: str(i.name)):
        assert isinstance(index, Index)
        args = [_q(str(index.name)), *(_q(c.name) for c in index.columns)]
        lines.append(_call("Index", args + (["unique=True"] if index.unique else [])))
    return lines


def render(metadata: MetaData) -> str:
    """The source of :mod:`core.store.tables` for ``metadata``."""
    body = []
    for table in metadata.sorted_tables:
        body.append(f"\n\n{table.name.upper()} = Table(\n    {_q(table.name)},\n    metadata,")
        body += [_column(c) for c in table.columns]
        body += _extras(table)
        body.append(")")
    text = "\n".join(body)
    used = sorted(
        {"MetaData", "Table"} | {name for name in _NAMES if re.search(rf"\b{name}\(", text)},
        key=lambda name: (0 if name.isupper() else 1 if name[0].isupper() else 2, name),
    )
    imports = "from sqlalchemy import (\n" + "".join(f"    {n},\n" for n in used) + ")"
    return HEADER.replace("{imports}", imports) + text + "\n"


_NAMES = (
    "JSON", "BigInteger", "Boolean", "CheckConstraint", "Column", "DateTime", "ForeignKey",
    "Index", "Integer", "LargeBinary", "String", "Text", "UniqueConstraint", "false", "text",
    "true",
)  # fmt: skip


def models_metadata() -> MetaData:
    from core.store.models import metadata

    return metadata


def main() -> None:
    TARGET.write_text(render(models_metadata()), encoding="utf-8")
    sys.stdout.write(f"wrote {TARGET}\n")


if __name__ == "__main__":
    main()
