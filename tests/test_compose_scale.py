"""docker-compose.scale.yml, checked without a Docker engine: PostgreSQL, two Discord shard
processes and two Slack HTTP replicas behind a round-robin load balancer, consistent with each
other and with the project's own config loader."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from core.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
SECRETS = (
    "PIXELSMITH_API_KEY",
    "DISCORD_TOKEN",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "PIXELSMITH_SECRET_KEY",
)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.scale.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def bots(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in compose["services"].items() if s.get("command") == ["run"]}


def settings_of(service: dict[str, Any]) -> Settings:
    """The service's mounted config, loaded as the container would (dummy secrets from its
    environment names)."""
    target = service["environment"]["PIXELSMITH_CONFIG"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
    source = mounts[target]
    assert source.startswith("./") and (ROOT / source).is_file(), source
    env = {k: f"dummy-{k.lower()}" for k in service["environment"] if k in SECRETS}
    return load_settings(str(ROOT / source), env=env)


def test_every_bot_process_is_the_image_and_shares_one_postgres(compose: dict[str, Any]) -> None:
    db = compose["services"]["db"]
    assert db["image"] == "postgres:16" and "pg_isready" in " ".join(db["healthcheck"]["test"])
    found = bots(compose)
    assert set(found) == {"discord-0", "discord-1", "slack-1", "slack-2"}
    urls = set()
    for name, service in found.items():
        assert service["build"] == "." and "entrypoint" not in service, name
        assert service["depends_on"]["db"]["condition"] == "service_healthy", name
        settings = settings_of(service)
        url = make_url(settings.database.url)
        assert url.drivername == "postgresql+psycopg" and url.host == "db", name
        assert url.database == db["environment"]["POSTGRES_DB"], name
        urls.add(str(url))
        assert int(service["stop_grace_period"].rstrip("s")) > settings.shutdown.grace_s, name
        assert settings.results.dir is not None  # one result store on the shared volume
        assert any(v.endswith(":/data") for v in service["volumes"]), name
    assert len(urls) == 1


def test_each_discord_shard_is_run_exactly_once(compose: dict[str, Any]) -> None:
    owned: list[int] = []
    counts = set()
    for name, service in bots(compose).items():
        settings = settings_of(service)
        has_token = "DISCORD_TOKEN" in service["environment"]
        assert has_token == name.startswith("discord-"), name  # Slack replicas keep Discord off
        if has_token:
            counts.add(settings.discord.shard_count)
            assert settings.discord.shard_problem() is None, name
            assert settings.discord.shard_ids is not None, name
            owned += settings.discord.shard_ids
    (count,) = counts  # the same shard_count in every process
    assert isinstance(count, int)
    assert sorted(owned) == list(range(count))


def test_slack_replicas_are_http_behind_the_balancer(compose: dict[str, Any]) -> None:
    replicas = {n: s for n, s in bots(compose).items() if "SLACK_BOT_TOKEN" in s["environment"]}
    assert set(replicas) == {"slack-1", "slack-2"}
    ports = set()
    for name, service in replicas.items():
        settings = settings_of(service)
        assert settings.slack.mode == "http", name  # Socket Mode cannot be load-balanced
        assert settings.slack.distribution_problem(None) is None, name
        ports.add(settings.slack.http_port)
    (port,) = ports
    lb = compose["services"]["slack-lb"]
    assert lb["image"].startswith("nginx:")
    conf_source = next(v.split(":")[0] for v in lb["volumes"] if "nginx.conf" in v)
    conf = (ROOT / conf_source).read_text(encoding="utf-8")
    upstream = re.search(r"upstream\s+(\w+)\s*\{([^}]*)\}", conf)
    assert upstream is not None
    servers = re.findall(r"server\s+([\w.-]+):(\d+);", upstream[2])
    assert sorted(servers) == sorted((name, str(port)) for name in replicas)
    assert f"proxy_pass http://{upstream[1]};" in conf
    listen = re.search(r"listen\s+(\d+);", conf)
    assert listen is not None and any(p.endswith(f":{listen[1]}") for p in lb["ports"])


def test_secrets_come_from_the_environment_only(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.scale.yml").read_text(encoding="utf-8")
    assert not re.search(r"(sk-|xox[abp]-|xapp-)[A-Za-z0-9]", text)
    for name, service in bots(compose).items():
        for var, value in service["environment"].items():
            if var in SECRETS:
                assert value == f"${{{var}:-}}", (name, var)
        mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
        config = ROOT / mounts[service["environment"]["PIXELSMITH_CONFIG"]]
        assert load_settings(str(config), env={}).secrets() == [], name


def test_each_process_publishes_its_own_metrics_port_on_localhost(compose: dict[str, Any]) -> None:
    published = []
    for name, service in bots(compose).items():
        settings = settings_of(service)
        (mapping,) = service["ports"]
        host_ip, host_port, container_port = mapping.split(":")
        assert host_ip == "127.0.0.1" and int(container_port) == settings.metrics.port, name
        published.append(host_port)
    assert len(set(published)) == len(published)
