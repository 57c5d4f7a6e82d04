"""The Dockerfile and docker-compose.yml, checked against the package (no Docker engine needed)."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from bots.cli import build_parser
from core.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Instruction:
    name: str
    args: str

    def exec_form(self) -> list[str]:
        value = json.loads(self.args)
        assert isinstance(value, list) and all(isinstance(v, str) for v in value), self
        return value


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions in order: comments dropped, backslash continuations joined."""
    out: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        name, _, args = full.partition(" ")
        out.append(Instruction(name.upper(), args.strip()))
    assert not pending, "dangling line continuation"
    return out


def env_vars(instructions: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in instructions:
        if ins.name == "ENV":
            for item in shlex.split(ins.args):
                key, _, value = item.partition("=")
                env[key] = value
    return env


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse_dockerfile((ROOT / "Dockerfile").read_text(encoding="utf-8"))


def one(instructions: list[Instruction], name: str) -> Instruction:
    found = [i for i in instructions if i.name == name]
    assert len(found) == 1, f"expected one {name}, found {len(found)}"
    return found[0]


def baked_config(instructions: list[Instruction]) -> tuple[str, Path]:
    """(path in the image, file in the repo) of the config PIXELSMITH_CONFIG points at."""
    target = env_vars(instructions)["PIXELSMITH_CONFIG"]
    for ins in instructions:
        if ins.name == "COPY":
            *sources, dest = shlex.split(ins.args)
            if dest == target:
                assert len(sources) == 1
                return target, ROOT / sources[0]
    raise AssertionError(f"nothing is copied to {target}")


def test_base_image_and_workdir(dockerfile: list[Instruction]) -> None:
    assert one(dockerfile, "FROM").args == "python:3.11-slim"
    assert one(dockerfile, "WORKDIR").args == "/app"


def test_installs_exactly_the_lock_file_then_the_package(dockerfile: list[Instruction]) -> None:
    installs = []
    for n, ins in enumerate(dockerfile):
        first = shlex.split(ins.args.partition("&&")[0]) if ins.name == "RUN" else []
        if first[:2] == ["pip", "install"]:
            installs.append((n, first[2:]))
    assert len(installs) == 2, installs
    (lock_at, lock_args), (pkg_at, pkg_args) = installs
    # the pinned, hash-checked set first; nothing resolved beyond it
    assert {"--require-hashes", "--no-deps", "--no-cache-dir"} <= set(lock_args)
    assert lock_args[lock_args.index("-r") + 1] == "requirements.lock"
    # then the project itself, without pulling anything the lock did not pin
    assert pkg_args[-1] == "." and {"--no-deps", "--no-build-isolation"} <= set(pkg_args)
    copies = {shlex.split(i.args)[0]: n for n, i in enumerate(dockerfile) if i.name == "COPY"}
    assert copies["requirements.lock"] < lock_at < copies["core/"] < pkg_at
    assert any(i.name == "RUN" and "pip check" in i.args for i in dockerfile[pkg_at:])


def test_entrypoint_is_the_console_script(dockerfile: list[Instruction]) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    entry = one(dockerfile, "ENTRYPOINT").exec_form()
    assert entry == ["pixelsmith"]
    assert pyproject["project"]["scripts"]["pixelsmith"] == "bots.launch:main"


def test_cmd_is_a_real_subcommand(dockerfile: list[Instruction]) -> None:
    cmd = one(dockerfile, "CMD").exec_form()
    assert cmd == ["run"]
    assert build_parser().parse_args(cmd).command == "run"


def dockerignored(path: str) -> bool:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = Path(path.rstrip("/")).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatch(p, pat.rstrip("/")) for p in prefixes for pat in patterns)


def test_every_copy_source_exists_and_is_not_dockerignored(
    dockerfile: list[Instruction],
) -> None:
    copies = [i for i in dockerfile if i.name == "COPY"]
    assert copies
    sources = [s for i in copies for s in shlex.split(i.args)[:-1]]
    for source in sources:
        assert not source.startswith("--"), "COPY flags are not expected here"
        assert (ROOT / source).exists(), f"COPY source {source} is missing"
        assert not dockerignored(source), f"COPY source {source} is excluded by .dockerignore"
    # what `pip install .` needs: the project file, its readme and every package
    assert {"pyproject.toml", "README.md", "requirements.lock", "core/", "bots/"} <= set(sources)
    assert dockerignored("config.toml") and dockerignored(".venv") and dockerignored(".git")


def test_baked_config_parses_and_uses_the_volume(dockerfile: list[Instruction]) -> None:
    target, source = baked_config(dockerfile)
    settings = load_settings(str(source), env={})
    url = make_url(settings.database.url)
    assert url.get_backend_name() == "sqlite"
    assert url.database is not None and url.database.startswith("/data/")
    volume = one(dockerfile, "VOLUME")
    assert "/data" in (volume.exec_form() if volume.args.startswith("[") else volume.args.split())
    assert settings.secrets() == []  # no secret is baked into the image
    assert settings.metrics.port is not None and settings.metrics.host == "0.0.0.0"
    assert settings.shutdown.grace_s < 10  # `docker stop` sends SIGKILL after 10 s by default
    assert target.startswith("/app/")


def test_healthcheck_probes_the_configured_metrics_port(dockerfile: list[Instruction]) -> None:
    _, source = baked_config(dockerfile)
    settings = load_settings(str(source), env={})
    health = one(dockerfile, "HEALTHCHECK")
    options, _, command = health.args.partition("CMD ")
    assert "--timeout=" in options
    argv = json.loads(command)
    assert argv[:2] == ["python", "-c"], "slim has no curl: probe with python"
    code = argv[2]
    compile(code, "<healthcheck>", "exec")
    assert "http://127.0.0.1:" in code and "/healthz" in code
    match = re.search(r"os\.environ\.get\('METRICS_PORT', '(\d+)'\)", code)
    assert match, code
    env = env_vars(dockerfile)
    assert int(env["METRICS_PORT"]) == int(match.group(1)) == settings.metrics.port
    assert str(settings.metrics.port) in one(dockerfile, "EXPOSE").args.split()


def test_runs_as_non_root_and_stops_with_sigterm(dockerfile: list[Instruction]) -> None:
    users = [i for i in dockerfile if i.name == "USER"]
    assert users and users[-1].args not in ("root", "0", "0:0")
    user = users[-1].args.split(":")[0]
    assert any(
        i.name == "RUN" and "useradd" in i.args and i.args.rstrip().endswith(user)
        for i in dockerfile
    )
    # installing happens as root, running as the user
    last_user = max(n for n, i in enumerate(dockerfile) if i.name == "USER")
    assert last_user > max(n for n, i in enumerate(dockerfile) if i.name == "RUN")
    assert one(dockerfile, "STOPSIGNAL").args == "SIGTERM"


# -- docker-compose.yml --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_compose_bot_uses_the_image_and_its_command(
    compose: dict[str, Any], dockerfile: list[Instruction]
) -> None:
    bot = compose["services"]["bot"]
    assert bot["build"] == "."
    assert "entrypoint" not in bot  # the image's ENTRYPOINT (pixelsmith) stays
    assert bot["command"] == one(dockerfile, "CMD").exec_form()
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot.get("stop_signal", "SIGTERM") == "SIGTERM"


def test_compose_database_is_postgres_16_with_a_healthcheck(compose: dict[str, Any]) -> None:
    db = compose["services"]["db"]
    assert db["image"] == "postgres:16"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(str(v).endswith(":/var/lib/postgresql/data") for v in db["volumes"])
    assert set(compose["volumes"]) >= {"pgdata", "botdata"}


def compose_settings(compose: dict[str, Any]) -> Settings:
    bot = compose["services"]["bot"]
    target = bot["environment"]["PIXELSMITH_CONFIG"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in bot["volumes"]}
    source = mounts[target]
    assert source.startswith("./")
    return load_settings(str(ROOT / source), env={})


def test_compose_config_is_a_postgres_url_settings_accept(compose: dict[str, Any]) -> None:
    settings = compose_settings(compose)
    url = make_url(settings.database.url)
    assert url.drivername == "postgresql+psycopg"
    db = compose["services"]["db"]["environment"]
    assert url.host == "db" and url.database == db["POSTGRES_DB"]
    assert url.username == db["POSTGRES_USER"]
    assert (
        settings.metrics.port == 9108
        and "127.0.0.1:9108:9108" in compose["services"]["bot"]["ports"]
    )
    grace = compose["services"]["bot"]["stop_grace_period"]
    assert int(grace.rstrip("s")) > settings.shutdown.grace_s


def test_compose_passes_secrets_from_the_environment_only(compose: dict[str, Any]) -> None:
    env = compose["services"]["bot"]["environment"]
    for var in (
        "PIXELSMITH_API_KEY",
        "DISCORD_TOKEN",
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
    ):
        assert env[var] == f"${{{var}:-}}"
    assert compose_settings(compose).secrets() == []
