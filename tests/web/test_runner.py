"""The web companion inside ``pixelsmith run``: on only when ``web.port`` is set, bound to its
port, stopped with the rest; a missing secret is a config error before anything starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bots.runner import configured_adapters
from bots.web.app import WebCompanion
from core.errors import ConfigError
from core.service import ImageService
from tests.conftest import make_settings
from tests.web.conftest import SECRET

DISCORD = {"token": "discord-token-0123456789"}


async def test_the_web_companion_runs_with_the_chat_adapters(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, discord=DISCORD, web={"port": 0, "secret_key": SECRET})
    service = await ImageService.create(settings)
    try:
        adapters = configured_adapters(settings, service)
        assert [a.name for a in adapters] == ["discord", "web"]
        web = adapters[-1]
        assert isinstance(web, WebCompanion)
        assert set(web.posters) == {"discord"}
        await web.start()
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{web.port}/healthz") as answer:
                    assert answer.status == 200
                async with http.get(f"http://127.0.0.1:{web.port}/gallery") as answer:
                    assert answer.status == 403
        finally:
            await web.stop()
    finally:
        await service.close()


@pytest.mark.parametrize("web", [{}, {"port": None}])
async def test_off_unless_a_port_is_set(tmp_path: Path, web: dict[str, Any]) -> None:
    settings = make_settings(tmp_path, discord=DISCORD, web=web)
    service = await ImageService.create(settings)
    try:
        assert [a.name for a in configured_adapters(settings, service)] == ["discord"]
    finally:
        await service.close()


async def test_a_port_without_a_secret_is_a_config_error(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, discord=DISCORD, web={"port": 0})
    service = await ImageService.create(settings)
    try:
        with pytest.raises(ConfigError) as caught:
            configured_adapters(settings, service)
        assert caught.value.params["key"] == "web.secret_key"
    finally:
        await service.close()
