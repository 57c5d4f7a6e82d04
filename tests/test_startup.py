"""Start-up: a one-shot command imports only what it uses; `pixelsmith run` loads before serving
what its first burst needs. (The time itself is measured by bench/cli_startup.py, not here.)"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from core.config import Settings
from core.providers.routing import ClientOwner, OnFirstUse
from core.service import ImageService
from tests.conftest import TEST_KEY
from tests.fakes.gateway import FakeGateway

ROOT = Path(__file__).resolve().parents[1]

# Loaded by nothing `pixelsmith imagine` does with an images-API model on a migrated database.
NOT_FOR_IMAGINE = (
    "alembic",  # the database is at head
    "sqlalchemy.dialects.postgresql",  # a SQLite URL
    "matplotlib",  # charts are for `usage --chart` and the admin commands
    "core.providers.chat_stream",  # another API's provider
    "core.providers.demo",  # a key is configured
    "PIL.ImageFont",  # the demo's drawing
)


async def test_imagine_imports_only_what_it_uses(gateway: FakeGateway, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[provider]\nbase_url = "{gateway.base_url}"\ndefault_model = "gpt-image-1"\n'
        f'stream_partials = 0\n[database]\nurl = "sqlite:///{tmp_path / "p.db"}"\n',
        encoding="utf-8",
    )
    modules = tmp_path / "modules.json"
    code = (
        "import json, sys\n"
        "from bots.cli import main\n"
        "code = main(['imagine', 'a fox', '--size', '1024x1024', '--quality', 'low',"
        f" '--out', {str(tmp_path / 'out')!r}])\n"
        f"open({str(modules)!r}, 'w').write(json.dumps([code, sorted(sys.modules)]))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXELSMITH_")}
    env.update(
        PIXELSMITH_CONFIG=str(config),
        PIXELSMITH_API_KEY=TEST_KEY,
        LANG="en",
        PYTHONPATH=str(ROOT),
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    for _ in range(2):  # the first run creates and migrates the database
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE
        )
        await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0
    exit_code, loaded = json.loads(modules.read_text(encoding="utf-8"))
    assert exit_code == 0
    unexpected = sorted(
        m for m in loaded for prefix in NOT_FOR_IMAGINE if m == prefix or m.startswith(prefix + ".")
    )
    assert not unexpected, f"`pixelsmith imagine` imported {unexpected}"
    assert "openai" in loaded and "sqlalchemy" in loaded  # what it does use


async def test_run_builds_every_provider_before_serving(
    settings_factory: Callable[..., Settings],
) -> None:
    service = await ImageService.create(settings_factory())
    try:
        owner = service.provider
        assert isinstance(owner, ClientOwner)
        lazy = [p for p in owner._inner._by_api.values() if isinstance(p, OnFirstUse)]
        assert lazy and all(p._provider is None for p in lazy)  # a one-shot command stops here
        await service.start()  # what `pixelsmith run` does before taking events
        assert all(p._provider is not None for p in lazy)
    finally:
        await service.close()


def test_console_script_loads_the_command_without_the_collector() -> None:
    """The ``pixelsmith`` script imports the command with the collector off, freezes what the
    import built, and runs the command with the collector back on."""
    code = (
        "import gc, json, sys\n"
        "from bots import launch\n"
        "full_before = gc.get_stats()[2]['collections']\n"
        "sys.argv = ['pixelsmith', 'imagine', '--help']\n"
        "try:\n"
        "    launch.main()\n"
        "except SystemExit as done:\n"
        "    code = done.code\n"
        "print(json.dumps([code, gc.isenabled(), gc.get_freeze_count(),\n"
        "                  gc.get_stats()[2]['collections'] - full_before]))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXELSMITH_")}
    env.update(PYTHONPATH=str(ROOT), LANG="en")
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    exit_code, enabled, frozen, full_collections = json.loads(done.stdout.splitlines()[-1])
    assert exit_code == 0 and enabled
    assert frozen > 50_000  # the command's modules: never walked by a collection again
    assert full_collections == 0
