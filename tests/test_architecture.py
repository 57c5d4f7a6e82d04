"""The import graph of core/ and bots/: no cycles, and each room imports only what it may.

Every import counts, wherever it is written: at the top, inside a function (lazy), or under
``if TYPE_CHECKING:`` — a guarded import is still a dependency, and making it real must never
break the package with "partially initialized module".
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "bots")

# Chat platforms core must never know about, and libraries only core may talk to.
PLATFORMS = {"discord", "slack_bolt", "slack_sdk", "bots"}
CORE_ONLY = {"openai", "httpx2", "sqlalchemy", "sqlmodel", "alembic", "psycopg"}


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # the module imported (a submodule when `from pkg import submodule`)
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def first_party_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def imports_of(name: str, path: Path, known: set[str]) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield Import(name, candidate if candidate in known else base, node.lineno)


def graph() -> tuple[dict[str, set[str]], list[Import]]:
    modules = first_party_modules()
    known = set(modules)
    edges: dict[str, set[str]] = {name: set() for name in modules}
    everything: list[Import] = []
    for name, path in modules.items():
        for imp in imports_of(name, path, known):
            everything.append(imp)
            if imp.target in known and imp.target != name:
                edges[name].add(imp.target)
    return edges, everything


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


# Cycles known to exist and being removed: this list only shrinks, and empties.
KNOWN_CYCLES: list[list[str]] = []


def test_no_import_cycles_among_core_and_bots() -> None:
    found = cycles(graph()[0])
    new = [c for c in found if c not in KNOWN_CYCLES]
    assert not new, "import cycles (lazy and TYPE_CHECKING imports count):\n" + "\n".join(
        " <-> ".join(c) for c in new
    )
    gone = [c for c in KNOWN_CYCLES if c not in found]
    assert not gone, f"these cycles are gone: remove them from KNOWN_CYCLES: {gone}"


def test_core_never_imports_a_platform() -> None:
    bad = [
        f"{i.importer}:{i.line} imports {i.target}"
        for i in graph()[1]
        if i.importer.split(".")[0] == "core" and i.target.split(".")[0] in PLATFORMS
    ]
    assert not bad, "core must not know any chat platform:\n" + "\n".join(bad)


def test_bots_never_import_the_gateway_sdk_or_the_database() -> None:
    bad = [
        f"{i.importer}:{i.line} imports {i.target}"
        for i in graph()[1]
        if i.importer.split(".")[0] == "bots" and i.target.split(".")[0] in CORE_ONLY
    ]
    assert not bad, "adapters go through core.ImageService:\n" + "\n".join(bad)


def test_the_checker_sees_lazy_guarded_and_relative_imports(tmp_path: Path) -> None:
    """The graph itself: every kind of import statement becomes an edge."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "if TYPE_CHECKING:\n"
        "    from core.types import Identity\n"
        "def f():\n"
        "    import core.store.store\n"
        "    from ..bots import cli\n"
    )
    path = tmp_path / "core" / "pkg" / "mod.py"
    path.parent.mkdir(parents=True)
    path.write_text(source, encoding="utf-8")
    known = {"core.pkg.sibling", "core.types", "core.store.store", "core.bots.cli"}
    name = "core.pkg.mod"
    targets = {i.target for i in imports_of(name, path, known)}
    assert {"core.pkg.sibling", "core.types", "core.store.store", "core.bots.cli"} <= targets
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
