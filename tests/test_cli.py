"""The ``pixelsmith`` command as a subprocess: files, stdout, stderr and exit codes.

The fake gateway runs in the test's event loop; the CLI runs beside it through
``asyncio.create_subprocess_exec`` so both make progress. Independent invocations are gathered
to keep the suite fast (each process pays the import of the SDK and SQLAlchemy).
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY
from tests.fakes.gateway import ERRORS, Behavior, FakeGateway
from tests.fakes.images import jpeg_bytes, mask_png, sniff, solid_png

REPO = Path(__file__).resolve().parents[1]
COST = re.compile(r"^Cost: \$(\d+\.\d{4})$")


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


def write_config(folder: Path, base_url: str, extra: str = "", provider: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pixelsmith.toml"
    path.write_text(
        f"""
[provider]
base_url = "{base_url}"
timeout_s = 10
stream_partials = 0
{provider}
[database]
url = "sqlite:///{(folder / "px.db").as_posix()}"
{extra}
""",
        encoding="utf-8",
    )
    return path


async def pixelsmith(
    cwd: Path,
    *args: str,
    config: Path | None,
    key: str | None = TEST_KEY,
    stdin: str | None = None,
) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXELSMITH_")}
    env.update({"LANG": "en", "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"})
    if config is not None:
        env["PIXELSMITH_CONFIG"] = str(config)
    if key is not None:
        env["PIXELSMITH_API_KEY"] = key
    cwd.mkdir(parents=True, exist_ok=True)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots.cli",
        *args,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(
        proc.communicate(stdin.encode() if stdin is not None else b""), 60
    )
    run = Run(proc.returncode or 0, out.decode(), err.decode())
    assert "Traceback" not in run.err, run.err
    assert "Traceback" not in run.out, run.out
    assert TEST_KEY not in run.err + run.out
    return run


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def cost_of(run: Run) -> float:
    match = COST.match(run.lines[-1])
    assert match, run.out
    return float(match[1])


# --------------------------------------------------------------------------------------------


async def test_imagine_saves_without_overwriting(tmp_path: Path, gateway: FakeGateway) -> None:
    config = write_config(tmp_path / "cfg", gateway.base_url)
    work = tmp_path / "work"
    work.mkdir()
    (work / "pixelsmith_0.png").write_bytes(b"mine")

    run = await pixelsmith(
        work,
        "imagine",
        "a red fox in snow",
        "-n",
        "2",
        "--quality",
        "low",
        "--size",
        "1024x1024",
        config=config,
    )

    assert run.code == 0, run.err
    assert run.lines[:2] == ["pixelsmith_1.png", "pixelsmith_2.png"]
    assert len(run.lines) == 3
    assert (work / "pixelsmith_0.png").read_bytes() == b"mine"
    for name in run.lines[:2]:
        assert sniff((work / name).read_bytes()) == ("PNG", 1024, 1024)
    # text tokens ceil(17/4)=5 at $5/M + 2*272 output tokens at $30/M (gpt-image-2's published
    # prices)
    assert cost_of(run) == pytest.approx(round((5 * 5 + 544 * 30) / 1e6, 4))
    (call,) = gateway.calls
    assert call.json["n"] == 2 and call.key_last4 == TEST_KEY[-4:]


async def test_invalid_input_and_config_exit_2(tmp_path: Path, gateway: FakeGateway) -> None:
    good = write_config(tmp_path / "good", gateway.base_url)
    bad = write_config(tmp_path / "bad", gateway.base_url, "[images]\nmax_input_sid = 1024\n")
    empty, flag, key, missing = await asyncio.gather(
        pixelsmith(tmp_path / "a", "imagine", "   ", config=good),
        pixelsmith(tmp_path / "b", "imagine", "a fox", "--bogus", config=good),
        pixelsmith(tmp_path / "c", "imagine", "a fox", config=bad),
        pixelsmith(tmp_path / "d", "--config", "nope.toml", "imagine", "a fox", config=None),
    )
    assert empty.code == 2 and "prompt" in empty.err.lower()
    assert flag.code == 2 and "--bogus" in flag.err
    assert key.code == 2 and "images.max_input_sid" in key.err
    assert missing.code == 2 and "nope.toml" in missing.err
    for run in (empty, flag, key, missing):
        assert run.out == ""
        assert len(run.err.strip().splitlines()) == 1, run.err
    assert gateway.calls == []


async def test_refusals_exit_3(tmp_path: Path, gateway: FakeGateway) -> None:
    config = write_config(tmp_path / "cfg", gateway.base_url)
    gateway.script(Behavior(error=ERRORS["moderation_blocked"]))
    preflight, upstream = await asyncio.gather(
        pixelsmith(
            tmp_path / "a", "imagine", "a castle in the style of Hayao Miyazaki", config=config
        ),
        pixelsmith(tmp_path / "b", "imagine", "a perfectly harmless teapot", config=config),
    )
    assert preflight.code == 3 and "nothing was charged" in preflight.err
    assert upstream.code == 3, upstream.err
    assert preflight.out == upstream.out == ""
    (call,) = gateway.calls  # the pre-flight refusal never reached the gateway
    assert call.json["prompt"] == "a perfectly harmless teapot"


async def test_quota_exit_4(tmp_path: Path, gateway: FakeGateway) -> None:
    config = write_config(tmp_path / "cfg", gateway.base_url, "[quota]\nuser_daily_images = 1\n")
    first = await pixelsmith(tmp_path, "imagine", "a fox", "--as", "alice", config=config)
    assert first.code == 0, first.err
    second = await pixelsmith(tmp_path, "imagine", "a fox", "--as", "alice", config=config)
    assert second.code == 4
    assert "resets" in second.err and second.out == ""
    assert len(gateway.calls) == 1


async def test_account_and_network_failures_exit_5(tmp_path: Path, gateway: FakeGateway) -> None:
    config = write_config(tmp_path / "cfg", gateway.base_url)
    down = write_config(tmp_path / "down", f"http://127.0.0.1:{closed_port()}/v1")
    gateway.script(Behavior(error=ERRORS["invalid_api_key"]))
    bad_key, no_gateway = await asyncio.gather(
        pixelsmith(tmp_path / "a", "imagine", "a fox", config=config),
        pixelsmith(tmp_path / "b", "imagine", "a fox", config=down),
    )
    assert bad_key.code == 5 and "PIXELSMITH_API_KEY" in bad_key.err
    assert gateway.base_url in bad_key.err  # the admin hint names the gateway to fix
    assert no_gateway.code == 5 and "could not be reached" in no_gateway.err
    assert bad_key.out == no_gateway.out == ""
    assert len(gateway.calls) == 1


async def test_edit_with_two_images_and_a_mask(tmp_path: Path, gateway: FakeGateway) -> None:
    config = write_config(tmp_path / "cfg", gateway.base_url)
    (tmp_path / "room.png").write_bytes(solid_png(1024, 1024))
    (tmp_path / "chair.jpg").write_bytes(jpeg_bytes(512, 512))
    (tmp_path / "mask.png").write_bytes(mask_png(1024, 1024))
    run = await pixelsmith(
        tmp_path,
        "edit",
        "put the chair in the room",
        "--image",
        "room.png",
        "--image",
        "chair.jpg",
        "--mask",
        "mask.png",
        "--stem",
        "edited",
        config=config,
    )
    assert run.code == 0, run.err
    assert run.lines[0] == "edited_0.png" and (tmp_path / "edited_0.png").exists()
    cost_of(run)
    (call,) = gateway.calls_to("/v1/images/edits")
    assert [f.field for f in call.files].count("image[]") == 2
    assert [f.field for f in call.files].count("mask") == 1
    assert "moderation" not in call.form


async def test_reverse_model_and_demo_fallback(tmp_path: Path, gateway: FakeGateway) -> None:
    config = write_config(
        tmp_path / "cfg", gateway.base_url, provider='download_hosts = ["127.0.0.1"]'
    )
    nokey = write_config(tmp_path / "nokey", gateway.base_url)
    vip, demo = await asyncio.gather(
        pixelsmith(
            tmp_path / "vip",
            "imagine",
            "a lighthouse",
            "--model",
            "gpt-4o-image-vip",
            config=config,
        ),
        pixelsmith(
            tmp_path / "demo", "imagine", "a lighthouse", "--aspect", "3:2", config=nokey, key=None
        ),
    )
    assert vip.code == 0, vip.err
    assert vip.lines[:2] == ["pixelsmith_0.png", "pixelsmith_1.png"]
    assert cost_of(vip) == pytest.approx(0.018)
    assert [c.json["model"] for c in gateway.calls_to("/v1/chat/completions")] == [
        "gpt-4o-image-vip"
    ]

    assert demo.code == 0, demo.err
    assert "PIXELSMITH_API_KEY" in demo.err  # the fallback says so
    assert demo.lines == ["pixelsmith_0.png", "Cost: $0 (demo)"]
    assert sniff((tmp_path / "demo" / "pixelsmith_0.png").read_bytes()) == ("PNG", 1536, 1024)
    assert len(gateway.calls) == 1  # the demo run never touched the gateway


async def test_console(tmp_path: Path, gateway: FakeGateway) -> None:
    config = write_config(tmp_path / "cfg", gateway.base_url)
    run = await pixelsmith(
        tmp_path,
        "console",
        "--out",
        "shots",
        "--as",
        "bob",
        config=config,
        stdin="/imagine a fox --q low\n/quota\n/history\n/quit\n/imagine never run\n",
    )
    assert run.code == 0, run.err
    saved = [line for line in run.lines if line.endswith(".png")]
    assert saved == [str(Path("shots") / "pixelsmith_0.png")]
    assert (tmp_path / "shots" / "pixelsmith_0.png").exists()
    assert any(COST.match(line) for line in run.lines)
    history = [line for line in run.lines if "SUCCEEDED" in line]
    assert len(history) == 1 and "a fox" in history[0]
    assert len(gateway.calls) == 1  # nothing after /quit


async def test_one_shot_commands_follow_the_console_settings(
    tmp_path: Path, gateway: FakeGateway
) -> None:
    """Defaults set once with the console's /settings are what `pixelsmith imagine` sends when
    no flag says otherwise; a flag still wins, and so does an explicit --lang."""
    config = write_config(tmp_path / "cfg", gateway.base_url)
    setup = await pixelsmith(
        tmp_path,
        "console",
        "--as",
        "bob",
        config=config,
        stdin="/settings q=low ar=2:3 lang=zh\n/quit\n",
    )
    assert setup.code == 0, setup.err
    plain, flagged, english = await asyncio.gather(
        pixelsmith(tmp_path / "a", "imagine", "a fox", "--as", "bob", config=config),
        pixelsmith(tmp_path / "b", "imagine", "a fox", "--as", "bob", "--q", "high", config=config),
        pixelsmith(
            tmp_path / "c", "imagine", "a fox", "--as", "bob", "--lang", "en", config=config
        ),
    )
    assert plain.code == flagged.code == english.code == 0, plain.err + flagged.err + english.err
    sent = sorted(
        (call.params["quality"], call.params["size"])
        for call in gateway.calls_to("/v1/images/generations")
    )
    # 2:3 is 1024x1536 on the default model (what the gateway accepts for portrait)
    assert sent == [("high", "1024x1536"), ("low", "1024x1536"), ("low", "1024x1536")]
    assert plain.lines[-1].startswith("费用：$"), plain.out  # the stored language
    assert english.lines[-1].startswith("Cost: $"), english.out
    # another terminal user has no such defaults
    other = await pixelsmith(tmp_path / "d", "imagine", "a fox", "--as", "carol", config=config)
    assert other.code == 0, other.err
    last = gateway.calls_to("/v1/images/generations")[-1].params
    assert (last.get("quality"), last.get("size")) != ("low", "1024x1536")
