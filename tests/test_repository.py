"""The repository stands on its own (nothing points at files outside it) and checks itself the
same way everywhere (pre-commit runs what CI runs)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

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


def ci_commands() -> list[str]:
    """The check commands scripts/test runs (its `.venv/bin/...` lines, arguments passed on cut)."""
    lines = (ROOT / "scripts" / "test").read_text(encoding="utf-8").splitlines()
    commands = [line.strip() for line in lines if line.startswith(".venv/bin/")]
    return [c.removesuffix(' "$@"') for c in commands]


def test_pre_commit_runs_exactly_what_ci_runs() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert all(repo["repo"] == "local" for repo in config["repos"])
    assert [hook["entry"] for hook in hooks] == ci_commands()
    for hook in hooks:
        # the whole tree every time, as CI checks it, never only the staged files
        assert hook["language"] == "system" and hook["pass_filenames"] is False
        assert hook["always_run"] is True
    assert set(config["default_install_hook_types"]) == {"pre-commit", "pre-push"}
