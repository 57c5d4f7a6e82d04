"""Members' preferences (/settings) in core: stored per member and community, applied under
the prompt's flags, checked again against the catalog on every use; and the console's
/settings. The requests are read as the fake gateway received them."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from bots import console
from core import messages
from core.config import Settings
from core.errors import InvalidRequest
from core.preferences import Preferences, parse_assignments
from core.request import Options
from core.service import ImageService
from core.types import Identity
from tests.fakes.gateway import FakeGateway

GEN = "/v1/images/generations"
ALICE_HERE = Identity("discord", "alice", "guild-1")
ALICE_THERE = Identity("discord", "alice", "guild-2")
BOB_HERE = Identity("discord", "bob", "guild-1")


async def test_stored_per_member_and_community(service: ImageService) -> None:
    saved = await service.set_preferences(ALICE_HERE, {"quality": "high", "n": "2"})
    assert saved == Preferences(quality="high", n=2)
    assert await service.preferences(ALICE_HERE) == saved
    # the same user in another community, and another member here: nothing set
    assert (await service.preferences(ALICE_THERE)).empty
    assert (await service.preferences(BOB_HERE)).empty
    # "default" clears one value; the others stay
    again = await service.set_preferences(ALICE_HERE, {"n": "default"})
    assert again == Preferences(quality="high")


async def test_preferences_fill_what_flags_do_not_say(
    service: ImageService, gateway: FakeGateway
) -> None:
    await service.set_preferences(
        ALICE_HERE, {"size": "2:3", "quality": "low", "n": 2, "output_format": "webp"}
    )
    prefs = await service.preferences(ALICE_HERE)
    await service.run(service.build("a fox", ALICE_HERE, prefs=prefs))
    await service.run(service.build("a fox --ar 3:2 --q high", ALICE_HERE, prefs=prefs))
    # explicit options (a slash command's) win over both
    explicit = service.build("a fox", ALICE_HERE, options=Options(n=1), prefs=prefs)
    await service.run(explicit)
    first, second, third = (c.json for c in gateway.calls_to(GEN))
    assert (first["size"], first["quality"], first["n"], first["output_format"]) == (
        "1024x1536",
        "low",
        2,
        "webp",
    )
    # typed flags win; the untouched defaults still apply
    assert (second["size"], second["quality"], second["n"]) == ("1536x1024", "high", 2)
    assert third["n"] == 1 and third["quality"] == "low"


async def test_invalid_values_are_refused_with_nothing_stored(service: ImageService) -> None:
    cases: list[tuple[dict[str, str | bool | int | None], str]] = [
        ({"model": "no-such-model"}, "invalid.unknown_model"),
        ({"quality": "ultra"}, "invalid.option"),
        ({"size": "7:1"}, "invalid.aspect"),
        ({"n": "99"}, "invalid.n_range"),
        ({"n": "two"}, "invalid.not_a_number"),
        ({"background": "transparent", "output_format": "jpeg"}, "invalid.transparent_jpeg"),
        ({"private": "maybe"}, "invalid.pref_value"),
        ({"language": "klingon"}, "invalid.pref_value"),
        ({"colour": "red"}, "invalid.pref_unknown"),
    ]
    for typed, key in cases:
        with pytest.raises(InvalidRequest) as caught:
            await service.set_preferences(ALICE_HERE, typed)
        assert caught.value.key == key, typed
        assert messages.render(caught.value, "zh")  # a sentence in both languages
    assert (await service.preferences(ALICE_HERE)).empty


async def test_a_catalog_change_falls_back_with_notes_not_errors(
    settings_factory: Callable[..., Settings], gateway: FakeGateway
) -> None:
    before = await ImageService.create(settings_factory())
    try:
        await before.set_preferences(
            ALICE_HERE, {"model": "gpt-image-2.5-sunburst", "quality": "xhigh", "size": "16:9"}
        )
    finally:
        await before.close()
    # the operator disables the model (same database): every later request still runs
    after = await ImageService.create(
        settings_factory(models={"gpt-image-2.5-sunburst": {"enabled": False}})
    )
    try:
        prefs = await after.preferences(ALICE_HERE)
        for _ in range(2):  # and again: no error loop, the same fallback each time
            result = await after.run(after.build("a fox", ALICE_HERE, prefs=prefs))
            keys = [note.key for note in result.notes]
            assert "note.pref_model_gone" in keys and "note.pref_ignored" in keys
            words = [messages.note(note, "en") for note in result.notes]
            assert any("gpt-image-2.5-sunburst" in w and "gpt-image-2" in w for w in words)
            assert any("xhigh" in w for w in words)
        calls = gateway.calls_to(GEN)
        assert [c.json["model"] for c in calls] == ["gpt-image-2", "gpt-image-2"]
        assert all("quality" not in c.json for c in calls)  # xhigh left out, not sent
        assert all(c.json["size"] == "1536x864" for c in calls)  # 16:9 still fits gpt-image-2
    finally:
        await after.close()


async def test_a_default_the_typed_model_does_not_take_is_left_out(
    service: ImageService, gateway: FakeGateway
) -> None:
    await service.set_preferences(ALICE_HERE, {"size": "16:9"})
    prefs = await service.preferences(ALICE_HERE)
    # gpt-image-2.6-sunburst takes no free-form sizes: 16:9 does not apply to it
    result = await service.run(
        service.build("a fox --model gpt-image-2.6-sunburst", ALICE_HERE, prefs=prefs)
    )
    assert [n.key for n in result.notes if n.key.startswith("note.pref")] == ["note.pref_ignored"]
    assert "size" not in gateway.last_call.json


async def test_language_overrides_the_platform_locale(service: ImageService) -> None:
    await service.set_preferences(ALICE_HERE, {"language": "zh"})
    identity, prefs = await service.localized(ALICE_HERE)
    assert identity.locale == "zh-CN" and prefs.language == "zh-CN"
    await service.set_preferences(ALICE_HERE, {"language": "default"})
    identity, _ = await service.localized(ALICE_HERE)
    assert identity.locale == ALICE_HERE.locale


def test_assignments_parse_strictly() -> None:
    assert parse_assignments("q=high ar=2:3 lang=zh private=on") == {
        "quality": "high",
        "size": "2:3",
        "language": "zh",
        "private": "on",
    }
    for bad in ("quality high", "=x", "quality=high and more"):
        with pytest.raises(InvalidRequest):
            parse_assignments(bad)


def test_hand_edited_rows_are_read_leniently() -> None:
    odd = {"n": "2", "private": "yes", "language": "fr", "model": 5, "quality": "high"}
    assert Preferences.from_stored(odd) == Preferences(quality="high")


async def test_console_settings_show_change_and_apply(
    service: ImageService, gateway: FakeGateway, tmp_path: Path
) -> None:
    me = Identity("console", "me")
    out, err = io.StringIO(), io.StringIO()
    assert await console.handle_line("/settings q=low n=2", service, me, tmp_path, out, err)
    assert err.getvalue() == ""
    assert "Settings saved." in out.getvalue() and "Quality: low" in out.getvalue()
    assert await console.handle_line("a lighthouse", service, me, tmp_path, out, err)
    assert (gateway.last_call.json["quality"], gateway.last_call.json["n"]) == ("low", 2)
    # a bad value: one clear line, nothing stored
    out, err = io.StringIO(), io.StringIO()
    await console.handle_line("/settings n=99", service, me, tmp_path, out, err)
    refused = InvalidRequest("invalid.n_range", n=99, max=10, model="gpt-image-2")
    assert err.getvalue().strip() == messages.render(refused, "en")
    assert (await service.preferences(me)).n == 2
    # the language setting switches the console's answers
    out, err = io.StringIO(), io.StringIO()
    await console.handle_line("/settings lang=zh", service, me, tmp_path, out, err)
    assert "设置已保存" in out.getvalue() and "质量：low" in out.getvalue()
