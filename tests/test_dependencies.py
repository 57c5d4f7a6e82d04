"""Dependencies are declared honestly, and the lock file the Docker image installs matches them.

Every third-party module that `core/` or `bots/` imports (lazy and TYPE_CHECKING imports
included) comes from a distribution declared in `[project] dependencies`; every declared runtime
distribution is imported (or named in ``LOADED_BY_NAME`` with the reason); tests, benchmarks and
scripts import only runtime or `dev` distributions. `requirements.lock` pins exactly the declared
runtime distributions (plus the build backend) at versions their specifiers allow, with hashes.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = {"core", "bots", "tests", "bench", "scripts"}
# Declared but never imported by name: the reason each one is still needed.
LOADED_BY_NAME = {
    "psycopg": "SQLAlchemy loads it for postgresql+psycopg:// database URLs",
}


def pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def declared(group: str | None = None) -> dict[str, Requirement]:
    project = pyproject()["project"]
    assert isinstance(project, dict)
    raw = project["dependencies"] if group is None else project["optional-dependencies"][group]
    reqs = [Requirement(r) for r in raw]
    return {canonicalize_name(r.name): r for r in reqs}


def imported_modules(*folders: str) -> dict[str, set[str]]:
    """Top-level third-party module -> the files importing it, anywhere in the file."""
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.partition(".")[0]
                    if top in sys.stdlib_module_names or top in FIRST_PARTY:
                        continue
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def distributions_of(modules: dict[str, set[str]]) -> dict[str, set[str]]:
    """Distribution -> files, through the installed packages' own top-level module lists."""
    owners = importlib.metadata.packages_distributions()
    out: dict[str, set[str]] = {}
    for module, files in modules.items():
        dists = owners.get(module)
        assert dists, f"{module} (imported by {sorted(files)}) is not installed by any distribution"
        for dist in dists:
            out.setdefault(canonicalize_name(dist), set()).update(files)
    return out


def test_every_runtime_import_is_declared_and_every_declaration_used() -> None:
    runtime = declared()
    used = distributions_of(imported_modules("core", "bots"))
    undeclared = {d: sorted(f) for d, f in used.items() if d not in runtime}
    assert not undeclared, f"imported but not in [project] dependencies: {undeclared}"
    unused = set(runtime) - set(used) - set(LOADED_BY_NAME)
    assert not unused, f"declared but never imported by core/ or bots/: {sorted(unused)}"
    assert set(LOADED_BY_NAME) <= set(runtime)


def test_tests_benchmarks_and_scripts_import_only_declared_distributions() -> None:
    allowed = set(declared()) | set(declared("dev"))
    used = distributions_of(imported_modules("tests", "bench", "scripts"))
    undeclared = {d: sorted(f) for d, f in used.items() if d not in allowed}
    assert not undeclared, f"imported but in neither dependencies nor the dev extra: {undeclared}"


LOCK_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)


def lock_entries() -> dict[str, tuple[str, str]]:
    """Locked distribution -> (version, the entry's whole text with its hashes and `via` notes)."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    starts = list(LOCK_ENTRY.finditer(text))
    out: dict[str, tuple[str, str]] = {}
    for match, following in zip(starts, [*starts[1:], None], strict=True):
        end = following.start() if following else len(text)
        out[canonicalize_name(match.group(1))] = (match.group(2), text[match.start() : end])
    return out


def test_lock_pins_the_declared_dependencies_with_hashes() -> None:
    entries = lock_entries()
    assert entries, "requirements.lock has no pinned entries"
    for name, (version, entry) in entries.items():
        assert "--hash=sha256:" in entry, f"{name} is pinned without a hash"
        assert re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version), (name, version)
    build = pyproject()["build-system"]
    assert isinstance(build, dict)
    direct: dict[str, Requirement] = {
        **declared(),
        **{canonicalize_name(r.name): r for r in map(Requirement, build["requires"])},
    }
    for name, req in direct.items():
        assert name in entries, f"{name} is declared but not locked: run scripts/lock"
        assert req.specifier.contains(entries[name][0], prereleases=True), (
            f"{name}=={entries[name][0]} in requirements.lock is outside {req}: run scripts/lock"
        )
    # what the lock brings in directly is what pyproject declares (uv's "# via" notes)
    top = {
        n
        for n, (_, entry) in entries.items()
        if "#   pixelsmith (pyproject.toml" in entry or "# via pixelsmith (pyproject.toml" in entry
    }
    assert top == set(direct), (
        f"lock and pyproject disagree: only locked {sorted(top - set(direct))}, "
        f"only declared {sorted(set(direct) - top)}: run scripts/lock"
    )
