"""One typed settings object, loaded from TOML with secrets from the environment.

Where the file comes from: ``--config FILE``, else ``$PIXELSMITH_CONFIG``, else
``./config.toml``; no file at all means defaults. Environment variables win over the file for
secrets (``PIXELSMITH_API_KEY``, ``DISCORD_TOKEN``, ``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET``,
``SLACK_APP_TOKEN``, ``SLACK_CLIENT_ID``, ``SLACK_CLIENT_SECRET``, ``PIXELSMITH_SECRET_KEY``). A bad file raises
:class:`core.errors.ConfigError` naming the key and the fix.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from core import messages
from core.catalog import ModelOverride
from core.errors import ConfigError
from core.limits import LIMIT_UNITS, LimitError, parse_limit
from core.store.policy import QuotaSettings

DEFAULT_BASE_URL = "https://aihubmix.com/v1"
DEFAULT_MODEL = "gpt-image-2"
DEFAULT_DB_URL = "sqlite:///pixelsmith.db"
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "sk-***", "your-key", "AIHUBMIX_API_KEY"}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _secret_value(secret: SecretStr | None) -> str | None:
    if secret is None:
        return None
    value = secret.get_secret_value().strip()
    return None if value in PLACEHOLDER_SECRETS else value


class ProviderSettings(_Section):
    kind: Literal["openai", "demo"] = "openai"
    base_url: str = DEFAULT_BASE_URL
    api_key: SecretStr | None = None
    default_model: str = DEFAULT_MODEL
    timeout_s: float = Field(default=300.0, gt=0)
    max_concurrency: int = Field(default=8, ge=1, le=10_000)
    requests_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)
    stream_partials: int = Field(default=2, ge=0, le=3)
    download_max_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    download_hosts: list[str] | None = None
    progress_interval_s: float = Field(default=1.0, ge=0)
    stall_s: float = Field(default=90.0, gt=0)  # reverse models: silence that ends a stream
    salt: SecretStr | None = None

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @property
    def key(self) -> str | None:
        return _secret_value(self.api_key)


class SafetySettings(_Section):
    preflight: Literal["block", "warn", "off"] = "block"
    max_prompt_chars: int = Field(default=32000, ge=1, le=32000)
    extra_terms_file: str | None = None


class ImageSettings(_Section):
    max_input_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    max_input_side: int = Field(default=1536, ge=256)


class DatabaseSettings(_Section):
    url: str = DEFAULT_DB_URL
    lease_s: float = Field(default=900.0, gt=0)
    reaper_interval_s: float = Field(default=60.0, gt=0)


class DiscordSettings(_Section):
    token: SecretStr | None = None
    guild_ids: list[int] = Field(default_factory=list)
    api_base_url: str = "https://discord.com/api/v10"
    attachment_hosts: list[str] = Field(
        default_factory=lambda: ["cdn.discordapp.com", "media.discordapp.net"]
    )
    admin_roles: list[str] = Field(default_factory=list)
    # Sharding (discord.py's AutoShardedClient): how many shards the bot has in all, and which
    # of them this process runs. "auto" asks Discord (GET /gateway/bot); shard_ids unset = all.
    shard_count: int | Literal["auto"] = "auto"
    shard_ids: list[int] | None = None

    @field_validator("shard_count", mode="before")
    @classmethod
    def _shard_count(cls, value: Any) -> Any:
        if value == "auto":
            return value
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError('must be "auto" or a whole number of shards (1 or more)')
        return value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_ids(cls, value: Any) -> Any:
        if value is None:
            return value
        if not isinstance(value, list) or any(
            isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in value
        ):
            raise ValueError("must be a list of shard numbers (0, 1, ...), e.g. [0, 1]")
        return value

    @property
    def token_value(self) -> str | None:
        return _secret_value(self.token)

    def shard_problem(self) -> tuple[str, str] | None:
        """(key, problem) when shard_count and shard_ids do not fit together, else None."""
        ids = self.shard_ids
        if ids is None:
            return None
        if self.shard_count == "auto":
            return "discord.shard_count", (
                "must be a number when discord.shard_ids is set (every process of the bot "
                "must agree on the count)"
            )
        if not ids:
            return "discord.shard_ids", "is empty: list this process's shards, or remove the key"
        if len(set(ids)) != len(ids):
            twice = sorted({i for i in ids if ids.count(i) > 1})
            return "discord.shard_ids", f"lists shard {twice[0]} more than once"
        outside = [i for i in ids if i >= self.shard_count]
        if outside:
            return "discord.shard_ids", (
                f"shard {outside[0]} does not exist: with discord.shard_count = "
                f"{self.shard_count} the shards are 0..{self.shard_count - 1}"
            )
        return None


OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"
_OAUTH_NEEDS = (
    'not set; slack.distribution = "oauth" needs it (Basic Information > App Credentials)'
)


class SlackSettings(_Section):
    mode: Literal["socket", "http"] = "socket"
    http_port: int = Field(default=3000, ge=0, le=65535)
    api_base_url: str = "https://slack.com/api/"
    file_hosts: list[str] = Field(default_factory=lambda: ["files.slack.com"])
    admin_users: list[str] = Field(default_factory=list)
    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = None
    # "single": one workspace, the bot token above. "oauth": any number of workspaces installed
    # through /slack/install, each one's bot token sealed in the database (HTTP mode only).
    distribution: Literal["single", "oauth"] = "single"
    client_id: str | None = None
    client_secret: SecretStr | None = None
    scopes: list[str] | None = None  # None: the bot scopes of bots/slack/manifest.yml
    redirect_url: str | None = None  # https://your.host/slack/oauth_redirect

    @field_validator("redirect_url")
    @classmethod
    def _redirect(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http:// for a local test)")
        if value is not None and not value.split("?")[0].endswith(OAUTH_REDIRECT_PATH):
            raise ValueError(f"must end with {OAUTH_REDIRECT_PATH}, where Pixelsmith answers it")
        return value

    @property
    def client_secret_value(self) -> str | None:
        return _secret_value(self.client_secret)

    def distribution_problem(self, secret_key: str | None) -> tuple[str, str, str] | None:
        """(key, problem, where to set it) when slack.distribution = "oauth" cannot work."""
        if self.distribution != "oauth":
            return None
        if self.mode != "http":
            return (
                "slack.distribution",
                '"oauth" needs slack.mode = "http": Slack redirects installs to '
                f"{OAUTH_REDIRECT_PATH} on a public URL, which Socket Mode does not have",
                "config.toml",
            )
        if not self.client_id:
            return ("slack.client_id", _OAUTH_NEEDS, "SLACK_CLIENT_ID or config.toml")
        if not self.client_secret_value:
            return ("slack.client_secret", _OAUTH_NEEDS, "SLACK_CLIENT_SECRET or config.toml")
        if not self.signing_secret_value:
            return ("slack.signing_secret", _OAUTH_NEEDS, "SLACK_SIGNING_SECRET or config.toml")
        if not secret_key:
            return (
                "PIXELSMITH_SECRET_KEY",
                'not set; slack.distribution = "oauth" keeps every workspace\'s bot token '
                "encrypted with it (32+ random characters)",
                "PIXELSMITH_SECRET_KEY",
            )
        return None

    @property
    def bot_token_value(self) -> str | None:
        return _secret_value(self.bot_token)

    @property
    def signing_secret_value(self) -> str | None:
        return _secret_value(self.signing_secret)

    @property
    def app_token_value(self) -> str | None:
        return _secret_value(self.app_token)


class MetricsSettings(_Section):
    port: int | None = Field(default=None, ge=0, le=65535)
    host: str = "127.0.0.1"


class ShutdownSettings(_Section):
    grace_s: float = Field(default=30.0, ge=0)


class LoggingSettings(_Section):
    format: Literal["text", "json"] = "text"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class WebSettings(_Section):
    """The web companion (mask painter, gallery, admin dashboard); off while ``port`` is unset."""

    port: int | None = Field(default=None, ge=0, le=65535)
    host: str = "127.0.0.1"
    public_url: str | None = None
    link_minutes: float = Field(default=15.0, gt=0, le=1440)
    session_minutes: float = Field(default=120.0, gt=0, le=10080)
    secret_key: SecretStr | None = None

    @field_validator("public_url")
    @classmethod
    def _public(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @property
    def secret_key_value(self) -> str | None:
        return _secret_value(self.secret_key)

    @property
    def base_url(self) -> str:
        """Where links point: ``public_url``, else the bound address (development)."""
        return self.public_url or f"http://{self.host}:{self.port or 0}"


class ResultsSettings(_Section):
    """The result store (core/results.py): kept images of finished jobs, for re-delivery."""

    dir: str | None = None  # default: "<database name>-results" next to the SQLite file
    keep_days: float = Field(default=7.0, ge=0, le=3650, allow_inf_nan=False)

    def folder(self, database_url: str) -> Path:
        from core.results import default_dir

        return Path(self.dir).expanduser() if self.dir else default_dir(database_url)


class ByokSettings(_Section):
    """Bring your own key: community admins may set their community's own gateway key."""

    enabled: bool = False
    # A community whose own key is removed goes back to the operator's key (else its jobs
    # stop, nothing charged, until an admin sets a new key).
    fallback_to_operator: bool = True
    # Gateways a community admin may point its key at (None: only provider.base_url). The
    # operator's ``pixelsmith keys set --base-url`` may name any http(s) gateway.
    allowed_base_urls: list[str] | None = None
    # Each community key's own upstream budget, shared by every process on the database.
    max_concurrency: int = Field(default=4, ge=1, le=10_000)
    requests_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)

    @field_validator("allowed_base_urls")
    @classmethod
    def _urls(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} must start with http:// or https://")
        return [url.rstrip("/") for url in value]


class ConsoleSettings(_Section):
    out_dir: str = "pixelsmith-out"
    locale: str = "en"


class Settings(_Section):
    """Every setting Pixelsmith reads. ``config.example.toml`` documents each key."""

    provider: ProviderSettings = Field(default_factory=ProviderSettings)
    models: dict[str, ModelOverride] = Field(default_factory=dict)
    safety: SafetySettings = Field(default_factory=SafetySettings)
    images: ImageSettings = Field(default_factory=ImageSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    quota: QuotaSettings = Field(default_factory=QuotaSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    shutdown: ShutdownSettings = Field(default_factory=ShutdownSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    results: ResultsSettings = Field(default_factory=ResultsSettings)
    byok: ByokSettings = Field(default_factory=ByokSettings)

    source: str | None = Field(default=None, exclude=True)

    def secrets(self) -> list[str]:
        """Every configured secret value, for log redaction."""
        values = [
            self.provider.key,
            _secret_value(self.provider.salt),
            self.discord.token_value,
            self.slack.bot_token_value,
            self.slack.signing_secret_value,
            self.slack.app_token_value,
            self.slack.client_secret_value,
            self.web.secret_key_value,
        ]
        return [v for v in values if v and len(v) >= 6]


_ENV_SECRETS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("PIXELSMITH_API_KEY", ("provider", "api_key")),
    ("PIXELSMITH_SALT", ("provider", "salt")),
    ("DISCORD_TOKEN", ("discord", "token")),
    ("SLACK_BOT_TOKEN", ("slack", "bot_token")),
    ("SLACK_SIGNING_SECRET", ("slack", "signing_secret")),
    ("SLACK_APP_TOKEN", ("slack", "app_token")),
    ("SLACK_CLIENT_ID", ("slack", "client_id")),
    ("SLACK_CLIENT_SECRET", ("slack", "client_secret")),
    ("PIXELSMITH_SECRET_KEY", ("web", "secret_key")),
)


def find_config_path(explicit: str | None, env: dict[str, str] | None = None) -> Path | None:
    """The file to read: explicit, else $PIXELSMITH_CONFIG, else ./config.toml if present."""
    env = dict(os.environ) if env is None else env
    if explicit:
        return Path(explicit)
    if env.get("PIXELSMITH_CONFIG"):
        return Path(env["PIXELSMITH_CONFIG"])
    default = Path("config.toml")
    return default if default.exists() else None


def load_settings(path: str | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read, merge the environment's secrets and validate. Raises ConfigError on any problem."""
    env = dict(os.environ) if env is None else env
    file = find_config_path(path, env)
    data: dict[str, Any] = {}
    if file is not None:
        if not file.exists():
            raise ConfigError("config.missing_file", path=str(file))
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("config.bad_toml", path=str(file), detail=str(exc)) from None
        except (OSError, UnicodeDecodeError):
            raise ConfigError("config.unreadable", path=str(file)) from None
    for var, (section, key) in _ENV_SECRETS:
        value = env.get(var)
        if value:
            data.setdefault(section, {})
            if isinstance(data[section], dict):
                data[section][key] = value
    _check_limits(data.get("quota"), str(file) if file else None)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            "config.invalid",
            key=key,
            problem=_problem(first),
            path=str(file) if file else None,
        ) from None
    settings.source = str(file) if file else None
    _check_models(settings)
    oauth = settings.slack.distribution_problem(settings.web.secret_key_value)
    if settings.slack.distribution == "single" and all(
        env.get(v) for v in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
    ):
        # slack_bolt reads these two itself and would replace the bot token with an OAuth flow
        oauth = (
            "slack.distribution",
            'is "single" (one bot token) but SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set: '
            'set slack.distribution = "oauth" to serve installed workspaces, or unset both',
            "config.toml or the environment",
        )
    if oauth is not None:
        key, problem, where = oauth
        raise ConfigError(
            "config.invalid", key=key, problem=problem, path=settings.source, path_or_env=where
        )
    if settings.byok.enabled and not settings.web.secret_key_value:
        raise ConfigError(
            "config.invalid",
            key="byok.enabled",
            problem="communities' own keys are stored encrypted: set PIXELSMITH_SECRET_KEY "
            "(32+ random characters) first",
            path=settings.source,
            path_or_env="PIXELSMITH_SECRET_KEY",
        )
    shards = settings.discord.shard_problem()
    if shards is not None:
        raise ConfigError("config.invalid", key=shards[0], problem=shards[1], path=settings.source)
    return settings


def _check_limits(quota: Any, path: str | None) -> None:
    """Every limit in ``[quota]`` and its community and role tables is read by the one limit
    parser: ``inf``, ``1e309`` or ``1e30`` images are a ConfigError naming the key, the value
    and the range, never a limit the store cannot hold."""
    if not isinstance(quota, dict):
        return
    tables: list[tuple[str, Any]] = [("quota", quota)]
    for group in ("communities", "roles"):
        entries = quota.get(group)
        if isinstance(entries, dict):
            tables += [(f"quota.{group}.{name}", table) for name, table in entries.items()]
    for where, table in tables:
        if not isinstance(table, dict):
            continue
        for key, value in table.items():
            if key not in LIMIT_UNITS:
                continue
            try:
                parse_limit(key, value)
            except LimitError as exc:
                problem = messages.render(exc, "en").rstrip(".")
                raise ConfigError(
                    "config.invalid", key=f"{where}.{key}", problem=problem, path=path
                ) from None


def _problem(error: Any) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key (check the spelling against config.example.toml)"
    if kind == "missing":
        return "required"
    # pydantic's message describes the expected value, never the secret itself.
    return str(error.get("msg", "invalid value"))


def _check_models(settings: Settings) -> None:
    from core.catalog import Catalog

    catalog = Catalog.from_settings(settings.models)
    if settings.provider.default_model not in catalog:
        raise ConfigError(
            "config.invalid",
            key="provider.default_model",
            problem=f"unknown model {settings.provider.default_model!r}; known: "
            + ", ".join(catalog.names())
            + " (or add a [models.<name>] table)",
            path=settings.source,
        )
