"""``pixelsmith models``: the gateway's image models beside the catalog (fake gateway, real SDK)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from bots.cli import main
from bots.models_cmd import run_models
from core.config import Settings
from tests.fakes.gateway import FakeGateway

KEY = "sk-models-HUSHKEY-Mq55"
TODAY = date(2026, 12, 1)


@pytest.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    served = ("gpt-image-2", "gpt-image-1.5", "gpt-image-3-preview", "gpt-5.4", "gpt-4o-image")
    async with FakeGateway(served_models=served, api_key=KEY) as gw:
        gw.model_extras["gpt-image-1.5"] = {"shutdown_date": "2026-12-01"}
        yield gw


def settings(gateway: FakeGateway, tmp_path: Path, key: str = KEY) -> Settings:
    return Settings.model_validate(
        {
            "provider": {"base_url": gateway.base_url, "api_key": key},
            "database": {"url": f"sqlite:///{tmp_path / 'm.db'}"},
        }
    )


async def report(s: Settings, locale: str = "en") -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run_models(s, out, err, locale=locale, today=TODAY)
    text = out.getvalue() + err.getvalue()
    assert "HUSH" not in text and "Mq55" not in text
    return code, text


def block(text: str, name: str) -> str:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{name} — "))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("  ")), None)
    return "\n".join(lines[start:end])


async def test_the_gateway_beside_the_catalog(gateway: FakeGateway, tmp_path: Path) -> None:
    code, text = await report(settings(gateway, tmp_path))
    assert code == 0, text
    two = block(text, "gpt-image-2")
    assert "default" in two and "served by the gateway" in two and "in the catalog" in two
    assert "655,360 to 8,294,400 pixels" in two
    assert "low, medium, high, auto" in two
    assert "backgrounds: transparent (preview), opaque, auto (transparent needs png or webp)" in two
    assert "text in $5/1M tokens, image in $8/1M, image out $30/1M" in two
    assert "low $0.006, medium $0.053, high $0.211" in two and "prices verified" in two
    assert "status: active" in two
    one5 = block(text, "gpt-image-1.5")
    assert "past its shutdown date 2026-12-01, still listed by the gateway" in one5
    assert "the gateway announces shutdown on 2026-12-01" in one5
    sunburst = block(text, "gpt-image-2.5-sunburst")
    assert "NOT served by the gateway" in sunburst and "xhigh, max" in sunburst
    assert "sketch (markup)" in sunburst and "transparent (preview)" not in sunburst
    assert "prices NOT verified" in sunburst
    reverse = block(text, "gpt-4o-image")
    assert "no quality parameter" in reverse and "$0.005 per image" in reverse
    unknown = block(text, "gpt-image-3-preview")
    assert "not in the catalog" in unknown and '[models."gpt-image-3-preview"]' in unknown
    assert "gpt-5.4" not in text  # not an image model
    assert [c.path for c in gateway.calls] == ["/v1/models"]  # nothing generated or billed


async def test_in_chinese(gateway: FakeGateway, tmp_path: Path) -> None:
    code, text = await report(settings(gateway, tmp_path), locale="zh")
    assert code == 0
    assert "网关提供" in block(text, "gpt-image-2") and "价格已核实" in text


async def test_a_bad_key_still_shows_the_catalog(gateway: FakeGateway, tmp_path: Path) -> None:
    code, text = await report(settings(gateway, tmp_path, key="sk-models-HUSHWRONG-Wx01"))
    assert code == 5
    assert "could not be read (rejected, HTTP 401)" in text
    assert "gateway not asked" in block(text, "gpt-image-2")
    assert "Wx01" not in text


async def test_the_command_line(
    gateway: FakeGateway,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[provider]\nbase_url = "{gateway.base_url}"\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "c.db"}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("PIXELSMITH_API_KEY", KEY)
    code = await _run_main(["--config", str(config), "models"])
    assert code == 0
    assert "gpt-image-2 — default" in capsys.readouterr().out


async def _run_main(argv: list[str]) -> int:
    import asyncio

    return await asyncio.to_thread(main, argv)
