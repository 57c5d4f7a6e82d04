"""The repository stands on its own: no docstring, comment or document points at files outside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("core", "bots", "tests", "bench", "scripts", "docs")
SUFFIXES = {".py", ".toml", ".md", ".yml", ".yaml", ".ini", ".cfg", ".txt", ".ftl", ""}
# the session's design notes and references live beside the repository, not in it
OUTSIDE = re.compile(
    r"\b(DESIGN|CONTRACTS|STYLE)\.md\b|(\.\./|/work/)shared\b|\bshared/reference\b"
)


def repository_text_files() -> list[Path]:
    files = [ROOT / name for name in ("README.md", "pyproject.toml", "Dockerfile")]
    files += [
        path
        for folder in FOLDERS
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and path.suffix in SUFFIXES and "__pycache__" not in path.parts
    ]
    return [f for f in files if f.exists() and f != Path(__file__).resolve()]


def test_nothing_points_outside_the_repository() -> None:
    hits = []
    for path in repository_text_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not hits, "references to files outside the repository:\n" + "\n".join(hits)
