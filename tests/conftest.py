"""Shared fixtures: the fake gateway, settings on a temporary SQLite database, a service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from core import messages
from core.config import Settings
from core.service import ImageService
from tests.fakes.gateway import FakeGateway

# An unknown key, a missing translation or a missing parameter fails the test that hits it.
messages.set_strict(True)

TEST_KEY = "sk-test-pixelsmith-0123456789"


def make_settings(
    tmp_path: Path, base_url: str = "http://127.0.0.1:9/v1", **sections: Any
) -> Settings:
    """Settings for tests: a fresh SQLite file, a test key, fast progress; sections override."""
    data: dict[str, Any] = {
        "provider": {
            "base_url": base_url,
            "api_key": TEST_KEY,
            "timeout_s": 10,
            "stream_partials": 0,
            "default_model": "gpt-image-2",
        },
        "database": {"url": f"sqlite:///{tmp_path / 'pixelsmith.db'}"},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return Settings.model_validate(data)


@pytest.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    async with FakeGateway() as gw:
        yield gw


@pytest.fixture
def settings_factory(tmp_path: Path, gateway: FakeGateway) -> Callable[..., Settings]:
    def factory(**sections: Any) -> Settings:
        return make_settings(tmp_path, gateway.base_url, **sections)

    return factory


@pytest.fixture
async def service(settings_factory: Callable[..., Settings]) -> AsyncIterator[ImageService]:
    svc = await ImageService.create(settings_factory())
    try:
        yield svc
    finally:
        await svc.close()
