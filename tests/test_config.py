"""The settings object: defaults, the example file, environment secrets, clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from core import messages
from core.config import Settings, load_settings
from core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config.example.toml"


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= _keys(annotation, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def test_no_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None, env={})
    assert settings.source is None
    assert settings.provider.base_url == "https://aihubmix.com/v1"
    assert settings.provider.key is None


def test_example_file_loads_and_documents_every_key() -> None:
    settings = load_settings(str(EXAMPLE), env={})
    assert settings.source == str(EXAMPLE)
    text = EXAMPLE.read_text("utf-8")
    sections = {m[1] for m in re.finditer(r"(?m)^#?\s*\[([a-z_.]+)\]", text)}
    documented = set()
    section = ""
    for line in text.splitlines():
        header = re.match(r"^#?\s*\[([a-z_]+)(?:\..*)?\]", line)
        if header:
            section = header[1]
            continue
        key = re.match(r"^#?\s*([a-z_]+)\s*=", line)
        if key and section:
            documented.add(f"{section}.{key[1]}")
    tables = {"quota.communities", "quota.roles"}  # documented as [quota.communities."<id>"]
    missing = sorted(
        k
        for k in _keys(Settings)
        if not k.startswith("models") and k not in documented and k not in tables
    )
    assert {"provider", "safety", "database", "quota", "discord", "slack"} <= sections
    assert all(f"[{t}." in text for t in tables) and "[models." in text
    assert missing == []


def test_environment_secrets_win(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[provider]\napi_key = "sk-from-file-000000"\n', "utf-8")
    settings = load_settings(
        str(cfg),
        env={"PIXELSMITH_API_KEY": "sk-from-env-111111", "DISCORD_TOKEN": "discord-token-222222"},
    )
    assert settings.provider.key == "sk-from-env-111111"
    assert settings.discord.token_value == "discord-token-222222"
    assert "sk-from-env-111111" in settings.secrets()


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ("[provider]\ntimeout_s = -1\n", "provider.timeout_s"),
        ("[provider]\nbase_urll = 'x'\n", "provider.base_urll"),
        ("[slack]\nmode = 'carrier-pigeon'\n", "slack.mode"),
        ("[provider]\ndefault_model = 'dall-e-9'\n", "provider.default_model"),
        ("[quota]\nuser_daily_images = -3\n", "quota.user_daily_images"),
        ("[provider]\nrequests_per_minute = 0\n", "provider.requests_per_minute"),
        ("[provider]\nrequests_per_minute = 'lots'\n", "provider.requests_per_minute"),
        ("[provider]\nmax_concurrency = 0\n", "provider.max_concurrency"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, content: str, key: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(content, "utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(str(cfg), env={})
    assert err.value.params["key"] == key
    assert err.value.exit_code == 2


def test_unparsable_and_missing_files(tmp_path: Path) -> None:
    broken = tmp_path / "c.toml"
    broken.write_text("[provider\n", "utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(str(broken), env={})
    assert err.value.key == "config.bad_toml"
    with pytest.raises(ConfigError) as err:
        load_settings(str(tmp_path / "absent.toml"), env={})
    assert err.value.key == "config.missing_file"


def _oauth_file(tmp_path: Path, mode: str = "http") -> str:
    cfg = tmp_path / "oauth.toml"
    cfg.write_text(f'[slack]\nmode = "{mode}"\ndistribution = "oauth"\n', encoding="utf-8")
    return str(cfg)


OAUTH_ENV = {
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "client-secret-value-123",
    "SLACK_SIGNING_SECRET": "signing-secret-value",
    "PIXELSMITH_SECRET_KEY": "k" * 40,
}


def test_slack_oauth_distribution_loads_with_its_credentials(tmp_path: Path) -> None:
    settings = load_settings(_oauth_file(tmp_path), env=dict(OAUTH_ENV))
    assert settings.slack.distribution == "oauth" and settings.slack.client_id == "1111.2222"
    assert settings.slack.client_secret_value == "client-secret-value-123"
    assert "client-secret-value-123" not in repr(settings)


@pytest.mark.parametrize(
    ("mode", "drop", "key", "says"),
    [
        ("socket", None, "slack.distribution", 'needs slack.mode = "http"'),
        ("http", "SLACK_CLIENT_ID", "slack.client_id", "App Credentials"),
        ("http", "SLACK_CLIENT_SECRET", "slack.client_secret", "App Credentials"),
        ("http", "PIXELSMITH_SECRET_KEY", "PIXELSMITH_SECRET_KEY", "encrypted"),
    ],
)
def test_slack_oauth_misconfiguration_is_a_clear_error(
    tmp_path: Path, mode: str, drop: str | None, key: str, says: str
) -> None:
    env = {k: v for k, v in OAUTH_ENV.items() if k != drop}
    with pytest.raises(ConfigError) as failed:
        load_settings(_oauth_file(tmp_path, mode), env=env)
    text = messages.render(failed.value, "en")
    assert failed.value.params["key"] == key and says in text
    assert "client-secret-value-123" not in text and "k" * 40 not in text


def test_slack_redirect_url_must_be_the_redirect_path(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[slack]\nredirect_url = "https://x.example/cb"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as failed:
        load_settings(str(cfg), env={})
    assert failed.value.params["key"] == "slack.redirect_url"


def test_client_credentials_in_the_environment_with_single_distribution_are_an_error(
    tmp_path: Path,
) -> None:
    cfg = tmp_path / "single.toml"
    cfg.write_text('[slack]\nmode = "http"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as failed:
        load_settings(str(cfg), env=dict(OAUTH_ENV))
    assert failed.value.params["key"] == "slack.distribution"
    assert "SLACK_CLIENT_ID" in messages.render(failed.value, "en")
