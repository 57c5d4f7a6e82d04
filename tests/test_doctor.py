"""``pixelsmith doctor`` against the loopback fakes: the all-green checklist and each failure."""

from __future__ import annotations

import io
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bots.doctor import run_doctor
from core.config import Settings
from tests.fakes.discord import FakeDiscord
from tests.fakes.gateway import FakeGateway
from tests.fakes.slack import FakeSlack

# Recognisable fake secrets: none of them may ever appear in the output, even in part.
KEY = "sk-doctor-HUSHKEY-gateway-Zx91"
WRONG_KEY = "sk-doctor-HUSHWRONG-Wr36"
DISCORD = "discord.HUSHDISCORD.token-Dq72"
BOT = "xoxb-HUSHBOT-Bt63"
APP = "xapp-1-HUSHAPP-Ap54"
SIGNING = "HUSHSIGNING-Sg45"
# every secret holds "HUSH" and ends in a unique tail: a partial leak shows either one
SECRET_PARTS = ("HUSH", "Zx91", "Wr36", "Dq72", "Bt63", "Ap54", "Sg45", "Wx27", "Bw18")
SERVED = ("gpt-image-2", "gpt-image-1", "gpt-4o-image")


@dataclass
class Fakes:
    gateway: FakeGateway
    discord: FakeDiscord
    slack: FakeSlack  # with apps.connections.open for the app token
    tmp_path: Path

    def settings(self, **sections: dict[str, Any]) -> Settings:
        data: dict[str, dict[str, Any]] = {
            "provider": {
                "base_url": self.gateway.base_url,
                "api_key": KEY,
                "default_model": "gpt-image-2",
            },
            "models": {"gpt-image-2": {"prices_verified": True}, "gpt-4o-image": {}},
            "database": {"url": f"sqlite:///{self.tmp_path / 'doctor.db'}"},
            "discord": {"token": DISCORD, "api_base_url": self.discord.api_base},
            "slack": {
                "mode": "socket",
                "bot_token": BOT,
                "app_token": APP,
                "api_base_url": self.slack.api_base,
            },
        }
        for name, values in sections.items():
            data.setdefault(name, {}).update(values)
        return Settings.model_validate(data)


@pytest.fixture
async def fakes(tmp_path: Path) -> AsyncIterator[Fakes]:
    slack = FakeSlack(token=BOT, app_token=APP)
    async with (
        FakeGateway(served_models=SERVED, api_key=KEY) as gateway,
        FakeDiscord(token=DISCORD, bot_name="Pixelsmith") as discord,
        slack,
    ):
        yield Fakes(gateway, discord, slack, tmp_path)


async def doctor(settings: Settings, locale: str = "en") -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run_doctor(settings, out, err, locale=locale)
    text = out.getvalue() + err.getvalue()
    for part in SECRET_PARTS:
        assert part not in text, f"a secret leaked: {part}"
    return code, out.getvalue()


def lines(text: str) -> list[str]:
    return text.splitlines()[:-1]  # the last line is the summary


def line_for(text: str, what: str) -> str:
    found = [line for line in text.splitlines() if line[2:].startswith(what)]
    assert found, f"no line for {what!r} in:\n{text}"
    return found[0]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_all_green(fakes: Fakes) -> None:
    code, text = await doctor(fakes.settings())
    assert code == 0, text
    assert all(line.startswith("✓ ") for line in lines(text)), text
    assert text.splitlines()[-1] == "All checks passed."
    assert "doctor.db" in line_for(text, "Database") and "migrated to head" in text
    assert "Pixelsmith" in line_for(text, "Discord token")
    assert "@pixelsmith" in line_for(text, "Slack bot token")
    assert "Socket Mode can connect" in line_for(text, "Slack app token")
    assert "served by the gateway" in line_for(text, "Model gpt-4o-image")
    # nothing was generated or billed: only the model list was asked for
    assert [c.path for c in fakes.gateway.calls] == ["/v1/models"]
    (opened,) = fakes.slack.calls_of("apps.connections.open")
    assert opened.token_ok  # with the app token; no websocket was opened
    assert fakes.slack.socket_connections == []


async def test_http_mode_with_signing_secret_and_nothing_else(fakes: Fakes) -> None:
    settings = fakes.settings(
        slack={"mode": "http", "app_token": None, "signing_secret": SIGNING},
        discord={"token": None},
    )
    code, text = await doctor(settings)
    assert code == 0, text
    assert line_for(text, "Discord token").startswith("- ")
    assert line_for(text, "Slack signing secret").startswith("✓ ")


async def test_nothing_configured_is_skipped_not_failed(fakes: Fakes) -> None:
    settings = fakes.settings(discord={"token": None}, slack={"bot_token": None, "app_token": None})
    code, text = await doctor(settings)
    assert code == 0, text
    assert line_for(text, "Slack").startswith("- ") and "not configured" in text


async def test_unverified_prices_are_a_warning(fakes: Fakes) -> None:
    settings = fakes.settings(models={"gpt-image-2": {"prices_verified": False}})
    code, text = await doctor(settings)
    assert code == 0, text
    warn = line_for(text, "Prices of gpt-image-2")
    assert warn.startswith("! ") and "prices_verified = true in [models.gpt-image-2]" in warn


async def test_demo_provider_skips_the_gateway(fakes: Fakes) -> None:
    settings = fakes.settings(provider={"kind": "demo", "api_key": None})
    code, text = await doctor(settings)
    assert code == 0, text
    assert line_for(text, "Gateway key").startswith("- ")
    assert fakes.gateway.calls == []


async def test_bad_gateway_key(fakes: Fakes) -> None:
    code, text = await doctor(fakes.settings(provider={"api_key": WRONG_KEY}))
    assert code == 1
    line = line_for(text, "Gateway key")
    assert line.startswith("✗ ") and "HTTP 401" in line
    assert "Fix: The gateway rejected the API key (HTTP 401). Set PIXELSMITH_API_KEY" in line
    assert line_for(text, "Model gpt-image-2").startswith("- ")
    assert text.splitlines()[-1].startswith("1 check failed: fix it,")


async def test_model_not_served(fakes: Fakes) -> None:
    fakes.gateway.served_models = {"gpt-image-2"}
    code, text = await doctor(fakes.settings())
    assert code == 1
    line = line_for(text, "Model gpt-4o-image")
    assert line.startswith("✗ ") and "does not serve it" in line and "gpt-image-2" in line
    assert "Fix: Set enabled = false in [models.gpt-4o-image]" in line
    assert line_for(text, "Model gpt-image-2").startswith("✓ ")


async def test_default_model_not_served(fakes: Fakes) -> None:
    fakes.gateway.served_models = {"gpt-4o-image"}
    code, text = await doctor(fakes.settings())
    assert code == 1
    assert "Fix: Set provider.default_model to another model" in line_for(text, "Model gpt-image-2")


async def test_a_retired_model_the_gateway_still_lists_passes_with_a_warning(
    fakes: Fakes,
) -> None:
    # The gateway is the authority on what it serves: a catalog date does not fail a model it lists.
    settings = fakes.settings(models={"gpt-image-1": {"retired_on": "2020-01-01"}})
    code, text = await doctor(settings)
    assert code == 0, text
    line = line_for(text, "Model gpt-image-1")
    assert line.startswith("! ") and "2020-01-01" in line and "still lists it" in line


async def test_a_model_past_its_shutdown_today_still_served(fakes: Fakes) -> None:
    fakes.gateway.served_models = {"gpt-image-2", "gpt-image-1.5", "gpt-4o-image"}
    settings = fakes.settings(models={"gpt-image-1.5": {}})
    out, err = io.StringIO(), io.StringIO()
    code = await run_doctor(settings, out, err, locale="en", today=date(2026, 12, 1))
    assert code == 0, out.getvalue()
    assert line_for(out.getvalue(), "Model gpt-image-1.5").startswith("! ")


async def test_a_retired_model_the_gateway_does_not_list_fails(fakes: Fakes) -> None:
    settings = fakes.settings(models={"gpt-image-1-mini": {}})
    code, text = await doctor(settings)
    assert code == 1
    line = line_for(text, "Model gpt-image-1-mini")
    assert line.startswith("✗ ") and "does not serve it" in line and "2026-12-01" in line
    assert "Fix: Set enabled = false in [models.gpt-image-1-mini]" in line


async def test_gateway_that_does_not_list_models_is_a_warning(fakes: Fakes) -> None:
    runner = web.AppRunner(web.Application())  # every path 404, like a gateway without /models
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        settings = fakes.settings(provider={"base_url": f"http://127.0.0.1:{port}/v1"})
        code, text = await doctor(settings)
    finally:
        await runner.cleanup()
    assert code == 0, text
    assert line_for(text, "Gateway key").startswith("! ") and "HTTP 404" in text
    assert line_for(text, "Model gpt-image-2").startswith("! ")


async def test_unreachable_gateway(fakes: Fakes) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    code, text = await doctor(fakes.settings(provider={"base_url": url}))
    assert code == 1
    line = line_for(text, "Gateway key")
    assert line.startswith("✗ ") and "cannot reach" in line
    assert "Fix: Check provider.base_url" in line


async def test_bad_discord_token(fakes: Fakes) -> None:
    settings = fakes.settings(discord={"token": "discord.HUSHWRONG.Wx27"})
    code, text = await doctor(settings)
    assert code == 1
    line = line_for(text, "Discord token")
    assert line.startswith("✗ ") and "HTTP 401" in line
    assert "Fix: Set DISCORD_TOKEN (or discord.token) to the bot token" in line


async def test_unreachable_discord(fakes: Fakes) -> None:
    base = f"http://127.0.0.1:{closed_port()}/api/v10"
    code, text = await doctor(fakes.settings(discord={"api_base_url": base}))
    assert code == 1
    assert "cannot reach" in line_for(text, "Discord token")


async def test_bad_slack_bot_token(fakes: Fakes) -> None:
    code, text = await doctor(fakes.settings(slack={"bot_token": "xoxb-HUSHWRONG-Bw18"}))
    assert code == 1
    line = line_for(text, "Slack bot token")
    assert line.startswith("✗ ") and "invalid_auth" in line
    assert "Fix: Set SLACK_BOT_TOKEN (or slack.bot_token)" in line


async def test_socket_mode_without_app_token(fakes: Fakes) -> None:
    code, text = await doctor(fakes.settings(slack={"app_token": None}))
    assert code == 1
    line = line_for(text, "Slack app token")
    assert line.startswith("✗ ") and "Fix: Set SLACK_APP_TOKEN" in line
    assert line_for(text, "Slack bot token").startswith("✓ ")


async def test_bot_token_given_as_app_token(fakes: Fakes) -> None:
    code, text = await doctor(fakes.settings(slack={"app_token": BOT}))
    assert code == 1
    line = line_for(text, "Slack app token")
    assert "not_allowed_token_type" in line and "Fix: Set SLACK_APP_TOKEN" in line


async def test_http_mode_without_signing_secret(fakes: Fakes) -> None:
    code, text = await doctor(fakes.settings(slack={"mode": "http", "app_token": None}))
    assert code == 1
    assert "Fix: Set SLACK_SIGNING_SECRET" in line_for(text, "Slack signing secret")


async def test_unreachable_database(fakes: Fakes) -> None:
    url = "postgresql+psycopg://nobody:HUSHDB@127.0.0.1:1/x"
    code, text = await doctor(fakes.settings(database={"url": url}))
    assert code == 1
    line = line_for(text, "Database")
    assert line.startswith("✗ ") and "PostgreSQL 127.0.0.1:1/x" in line
    assert "Fix: Start the PostgreSQL server" in line


async def test_unsupported_database_url(fakes: Fakes) -> None:
    code, text = await doctor(fakes.settings(database={"url": "mysql://u@h/db"}))
    assert code == 1
    assert "Fix: Use sqlite:///PATH" in line_for(text, "Database")


async def test_no_key_with_kind_openai(fakes: Fakes) -> None:
    code, text = await doctor(fakes.settings(provider={"api_key": None}))
    assert code == 1
    line = line_for(text, "Gateway key")
    assert line.startswith("✗ ") and "no API key" in line
    assert "Fix: Set PIXELSMITH_API_KEY (or provider.api_key)" in line
    assert fakes.gateway.calls == []


async def test_chinese_checklist(fakes: Fakes) -> None:
    code, text = await doctor(fakes.settings(provider={"api_key": None}), locale="zh-CN")
    assert code == 1
    assert "网关密钥" in text and "修复：" in text


async def test_cli_dispatch_reads_the_config_file(
    fakes: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bots import cli
    from bots.cli import _dispatch, build_parser

    monkeypatch.setattr(cli, "_configure_logging", lambda settings, **kw: None)  # keep root logging

    config = tmp_path / "doctor.toml"
    config.write_text(
        f'[provider]\nbase_url = "{fakes.gateway.base_url}"\n'
        f"[models.gpt-image-2]\nprices_verified = true\n"
        f'[database]\nurl = "sqlite:///{tmp_path / "cli.db"}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("PIXELSMITH_API_KEY", KEY)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    for var in ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(var, raising=False)
    args = build_parser().parse_args(["--config", str(config), "doctor"])
    out, err = io.StringIO(), io.StringIO()
    code = await _dispatch(args, out, err)
    assert code == 0, out.getvalue()
    assert f"loaded from {config}" in out.getvalue()
    assert "HUSH" not in out.getvalue() + err.getvalue()


@pytest.mark.postgres
async def test_postgres_database(fakes: Fakes) -> None:
    import uuid

    from sqlalchemy.engine import make_url

    from tests.store.conftest import PG_URL, _admin, pg_unreachable

    reason = pg_unreachable()
    if reason:
        pytest.skip(reason)
    schema = f"doctor_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE SCHEMA "{schema}"')
    try:
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        settings = fakes.settings(database={"url": url.render_as_string(hide_password=False)})
        code, text = await doctor(settings)
    finally:
        _admin(f'DROP SCHEMA "{schema}" CASCADE')
    assert code == 0, text
    line = line_for(text, "Database")
    assert line.startswith("✓ Database: PostgreSQL"), line
    assert "migrated to head" in line and "several bot processes" in line


async def test_discord_shard_setup_line(fakes: Fakes) -> None:
    fakes.discord.shard_count, fakes.discord.max_concurrency = 2, 1
    code, text = await doctor(fakes.settings())
    assert code == 0, text
    line = line_for(text, "Discord shards")
    assert line.startswith("✓ ") and '2 in all (discord.shard_count = "auto"' in line
    assert "this process runs 0..1" in line and "Discord recommends 2" in line
    settings = fakes.settings(discord={"shard_count": 4, "shard_ids": [2, 3]})
    code, text = await doctor(settings)
    assert "4 in all (discord.shard_count); this process runs 2, 3" in line_for(
        text, "Discord shards"
    )
    assert code == 0, text


async def test_fewer_shards_than_discord_recommends_is_a_warning(fakes: Fakes) -> None:
    fakes.discord.shard_count = 3
    code, text = await doctor(fakes.settings(discord={"shard_count": 2}))
    assert code == 0, text  # a warning: it runs, until a shard passes 2,500 servers
    line = line_for(text, "Discord shards")
    assert line.startswith("! ") and "Discord recommends 3" in line
    assert "raise discord.shard_count to 3" in line and "4011" in line


async def test_jobs_to_look_at_are_listed(fakes: Fakes) -> None:
    """A capped cost, an unknown outcome and a job past its lease: a warning with each job."""
    from datetime import UTC, datetime, timedelta

    from core.store import EffectiveLimits, Store
    from core.types import Identity, JobState

    settings = fakes.settings()
    store = await Store.open(settings.database.url)
    now = datetime.now(UTC)
    ids = []
    for key in ("capped", "unknown", "stuck"):
        claim = await store.begin_job(
            idem_key=key, identity=Identity("cli", "bob"), request={"prompt": key}, model="m",
            images=1, worst_cost_micros=1_000, limits=EffectiveLimits(),
            now=now - timedelta(hours=1),
        )  # fmt: skip
        ids.append(claim.job.id)
        await store.mark_submitted(claim.job.id, lease_s=60, now=now - timedelta(hours=1))
    await store.settle(
        ids[0], state=JobState.SUCCEEDED, cost_micros=10_000, images_delivered=1, cost_capped=True
    )
    await store.settle(
        ids[1], state=JobState.UNKNOWN_CHARGED, cost_micros=1_000, images_delivered=0
    )
    await store.close()
    code, text = await doctor(settings)
    assert code == 0, text  # a warning, not a failure
    line = line_for(text, "Jobs to look at")
    assert line.startswith("! ") and "3 jobs" in line and "pixelsmith usage --check" in line
    shown = text.splitlines()
    start = shown.index(line)
    listed = shown[start + 1 : start + 4]
    assert [s.strip().split(":")[0] for s in listed] == [f"job {i}" for i in ids]
    assert "sanity bound" in listed[0] and "outcome unknown" in listed[1]
    assert "past its lease" in listed[2]


async def test_no_jobs_to_look_at(fakes: Fakes) -> None:
    code, text = await doctor(fakes.settings())
    assert code == 0 and line_for(text, "Jobs to look at").startswith("✓ ")
