"""``pixelsmith keys`` as a subprocess against the fake gateway: the key comes from stdin or a
variable (never argv), is never printed, is tested for free, and ``doctor`` checks each one."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import TEST_KEY
from tests.fakes.gateway import FakeGateway
from tests.test_cli import pixelsmith, write_config

OWN = "sk-community-key-for-cli-0123456789"
SECRET = "c" * 40


def config(tmp_path: Path, gateway: FakeGateway, fallback: bool = True) -> Path:
    extra = f"""
[web]
secret_key = "{SECRET}"
[byok]
enabled = true
fallback_to_operator = {"true" if fallback else "false"}
"""
    return write_config(tmp_path, gateway.base_url, extra=extra)


def no_key_in(*texts: str) -> None:
    for text in texts:
        assert OWN not in text and OWN[3:15] not in text


async def test_set_list_test_remove_and_rotate(tmp_path: Path, gateway: FakeGateway) -> None:
    gateway.api_key = TEST_KEY
    gateway.other_keys.add(OWN)
    cfg = config(tmp_path, gateway)
    run = await pixelsmith(tmp_path, "keys", "set", "discord:901", config=cfg, stdin=OWN + "\n")
    assert run.code == 0, run.err
    assert "discord:901" in run.out and "sha256:" in run.out
    no_key_in(run.out, run.err)

    listed = await pixelsmith(tmp_path, "keys", "list", config=cfg)
    assert listed.code == 0 and "community:discord:901" in listed.out and "yes" in listed.out
    no_key_in(listed.out, listed.err)

    tested = await pixelsmith(tmp_path, "keys", "test", config=cfg)
    assert tested.code == 0 and "the gateway accepts the key" in tested.out
    assert [c.path for c in gateway.calls][-1].endswith("/models")  # GET /models: free

    doctor = await pixelsmith(tmp_path, "doctor", config=cfg)
    key_line = next(line for line in doctor.out.splitlines() if "community:discord:901" in line)
    assert "accepted" in key_line
    no_key_in(doctor.out, doctor.err)

    gateway.other_keys.discard(OWN)  # the community's account revoked the key
    tested = await pixelsmith(tmp_path, "keys", "test", "discord:901", config=cfg)
    assert tested.code == 1 and "rejects" in tested.out
    doctor = await pixelsmith(tmp_path, "doctor", config=cfg)
    assert doctor.code == 1 and "rejects it" in doctor.out

    rotated = await pixelsmith(tmp_path, "keys", "rotate", config=cfg)
    assert rotated.code == 0 and "1 community key" in rotated.out

    removed = await pixelsmith(tmp_path, "keys", "remove", "discord:901", config=cfg)
    assert removed.code == 0 and "use your key again" in removed.out
    listed = await pixelsmith(tmp_path, "keys", "list", config=cfg)
    assert "No community has its own key" in listed.out


async def test_the_key_from_a_variable_and_bad_input(tmp_path: Path, gateway: FakeGateway) -> None:
    cfg = config(tmp_path, gateway)
    empty = await pixelsmith(
        tmp_path, "keys", "set", "discord:901", "--key-env", "NOPE_UNSET", config=cfg
    )
    assert empty.code == 2 and "NOPE_UNSET" in empty.err
    bad = await pixelsmith(tmp_path, "keys", "set", "discord:901", config=cfg, stdin="short\n")
    assert (
        bad.code == 2 and "does not look like a gateway key" in bad.err and "short" not in bad.err
    )
    wrong = await pixelsmith(tmp_path, "keys", "set", "discord 901", config=cfg, stdin=OWN)
    assert wrong.code == 2
    listed = await pixelsmith(tmp_path, "keys", "list", config=cfg)
    assert "No community has its own key" in listed.out


async def test_without_fallback_a_removed_key_stops_until_forget(
    tmp_path: Path, gateway: FakeGateway
) -> None:
    cfg = config(tmp_path, gateway, fallback=False)
    await pixelsmith(tmp_path, "keys", "set", "slack:T1", config=cfg, stdin=OWN)
    removed = await pixelsmith(tmp_path, "keys", "remove", "slack:T1", config=cfg)
    assert "stop until a new key" in removed.out
    listed = await pixelsmith(tmp_path, "keys", "list", config=cfg)
    assert "removed (jobs stop)" in listed.out
    forgot = await pixelsmith(tmp_path, "keys", "remove", "slack:T1", "--forget", config=cfg)
    assert "use your key again" in forgot.out
