"""/imagine end to end: defer first, progress, PNGs as multipart, 413 re-packing, an expired
token, and one interaction delivered to two bot processes."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from bots.discord.app import DiscordAdapter
from core.errors import ConfigError
from core.service import ImageService
from core.types import Identity
from tests.discord.conftest import WAIT, SettingsFactory, final, running_bot
from tests.fakes import discord_payloads as P
from tests.fakes.discord import FakeDiscord, MessageEvent, Rejection
from tests.fakes.gateway import Behavior, FakeGateway
from tests.fakes.images import sniff

FIXTURES = P.FIXTURES
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def alice(fake: FakeDiscord) -> Identity:
    return Identity(platform="discord", user_id=fake.context().user_id, community_id=fake.guild_id)


class RecordingProvider:
    """Wraps the real provider; notes what Discord had already seen when the upstream call began."""

    def __init__(self, inner: Any, fake: FakeDiscord) -> None:
        self.inner, self.fake = inner, fake
        self.callbacks_at_call: list[list[int]] = []
        self.demo = False

    async def run(self, call: Any, on_progress: Any) -> Any:
        self.callbacks_at_call.append([c.type for c in self.fake.callbacks])
        return await self.inner.run(call, on_progress)

    async def list_models(self) -> list[str]:
        models: list[str] = await self.inner.list_models()
        return models

    async def close(self) -> None:
        await self.inner.close()


def without_refs(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The components with each button's job reference replaced (public ids are random)."""
    text = re.sub(r'"px:([a-z_]+):[^"]+"', r'"px:\1:<job>"', json.dumps(components))
    rows: list[dict[str, Any]] = json.loads(text)
    return rows


def _matches_fixture(name: str, data: Any) -> None:
    path = FIXTURES / f"{name}.json"
    if os.environ.get("PIXELSMITH_UPDATE_FIXTURES"):
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert data == json.loads(path.read_text(encoding="utf-8"))


async def test_synced_commands_match_the_fixture(fake: FakeDiscord, bot: DiscordAdapter) -> None:
    [sync] = fake.commands
    assert sync.method == "PUT" and sync.guild_id == fake.guild_id
    by_name = {c["name"]: c for c in sync.payload}
    assert set(by_name) == {
        "imagine",
        "edit",
        "quota",
        "history",
        "gallery",
        "settings",
        "Edit image",
        "pixelsmith-admin",
    }
    assert by_name["Edit image"]["type"] == 3
    assert by_name["Edit image"]["name_localizations"]["zh-CN"] == "编辑图片"
    imagine = {o["name"]: o for o in by_name["imagine"]["options"]}
    assert imagine["model"]["autocomplete"] is True
    assert [c["value"] for c in imagine["quality"]["choices"]] == ["low", "medium", "high", "auto"]
    assert imagine["n"]["min_value"] == 1 and imagine["n"]["max_value"] == 10
    edit = {o["name"]: o for o in by_name["edit"]["options"]}
    assert edit["image"]["type"] == 11 and edit["image"]["required"] is True
    assert edit["mask"]["type"] == 11 and edit["mask"]["required"] is False
    admin = by_name["pixelsmith-admin"]
    assert int(admin["default_member_permissions"]) == 1 << 5  # Manage Server (a hint only)
    _matches_fixture("commands_sync", sync.payload)


async def test_imagine_defers_first_then_posts_pngs_as_multipart(
    fake: FakeDiscord, bot: DiscordAdapter, gateway: FakeGateway
) -> None:
    recorder = RecordingProvider(bot.service.provider, fake)
    bot.service.provider = recorder
    payload = P.slash_command(
        fake.context(), "imagine", options={"prompt": "a red fox in snow", "n": 2, "aspect": "3:2"}
    )
    await fake.dispatch("INTERACTION_CREATE", payload)
    msg: MessageEvent = await fake.wait_for_message(final(fake, payload), timeout=WAIT)

    assert recorder.callbacks_at_call == [[5]]  # deferred before the upstream call
    [callback] = fake.callbacks
    assert callback.type == 5 and not callback.ephemeral and callback.seq < msg.seq
    [call] = gateway.calls_to("/v1/images/generations")
    assert call.json["n"] == 2 and call.json["size"] == "1536x1024"

    assert msg.kind == "original_edit" and msg.multipart and not msg.ephemeral
    assert len(msg.files) == 2
    for f in msg.files:
        assert f.content_type == "image/png" and f.data.startswith(PNG_MAGIC)
        assert sniff(f.data) == ("PNG", 1536, 1024)
    assert "a red fox in snow" in (msg.content or "")
    assert f"<@{fake.context().user_id}>" in (msg.content or "")
    assert "gpt-image-2" in (msg.content or "") and "Cost: $" in (msg.content or "")
    _matches_fixture("result_components", without_refs(msg.components))
    [job] = await bot.service.history(alice(fake))
    assert job.state == "SUCCEEDED" and job.idem_key == f"discord:interaction:{payload['id']}"


async def test_progress_shows_partial_previews_then_the_result(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    gateway.default = Behavior(event_interval_s=0.05)
    settings = discord_settings(provider={"stream_partials": 2})
    async with running_bot(settings, live_progress=True):
        payload = P.slash_command(fake.context(), "imagine", options={"prompt": "a lighthouse"})
        await fake.dispatch("INTERACTION_CREATE", payload)
        msg = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
        previews = [
            m for m in fake.messages if m.kind == "original_edit" and m.seq < msg.seq and m.files
        ]
        assert previews and all(m.files[0].filename == "preview.png" for m in previews)
        assert "%" in (previews[-1].content or "")
        # The result replaces the preview: only the result file is left on the message.
        assert [a["filename"] for a in msg.message["attachments"]] == ["pixelsmith.png"]


async def test_reverse_model_progress_bar(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    gateway.default = Behavior(event_interval_s=0.02)
    async with running_bot(discord_settings(), live_progress=True):
        payload = P.slash_command(
            fake.context(), "imagine", options={"prompt": "a kite", "model": "gpt-4o-image"}
        )
        await fake.dispatch("INTERACTION_CREATE", payload)
        msg = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    edits = [
        m.content or "" for m in fake.messages if m.kind == "original_edit" and m.seq < msg.seq
    ]
    assert any("▰" in text and "%" in text for text in edits)
    assert msg.files and "gpt-4o-image" in (msg.content or "")


async def test_413_repacks_and_still_delivers(fake: FakeDiscord, bot: DiscordAdapter) -> None:
    fake.fail_next_upload()
    payload = P.slash_command(fake.context(), "imagine", options={"prompt": "a tiny robot"})
    await fake.dispatch("INTERACTION_CREATE", payload)
    msg = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    [rejected] = [r for r in fake.rejections if r.status == 413]
    assert rejected.code == 40005 and rejected.seq < msg.seq
    assert msg.files and msg.files[0].data.startswith(PNG_MAGIC)
    assert [c.type for c in fake.callbacks] == [5]


async def test_expired_token_result_still_reaches_the_channel(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    payload = P.slash_command(fake.context(), "imagine", options={"prompt": "a late owl"})
    fake.register_interaction(payload)
    fake.expire_interaction(payload["token"])
    await fake.dispatch("INTERACTION_CREATE", payload)
    msg = await fake.wait_for_message(lambda m: m.kind == "channel", timeout=WAIT)
    assert any(r.code == 10062 for r in fake.rejections)
    assert msg.channel_id == fake.channel_id and msg.files
    assert (msg.content or "").startswith(f"<@{fake.context().user_id}>")
    assert [str(u) for u in msg.payload["allowed_mentions"]["users"]] == [fake.context().user_id]
    assert msg.components  # the buttons come along


async def test_one_interaction_two_processes_one_job(
    fake: FakeDiscord, discord_settings: SettingsFactory, gateway: FakeGateway
) -> None:
    settings = discord_settings()  # one SQLite file, two services, two gateway connections
    async with running_bot(settings) as first, running_bot(settings) as second:
        assert fake.gateway_clients == 2
        payload = P.slash_command(fake.context(), "imagine", options={"prompt": "twin cats"})
        assert await fake.dispatch("INTERACTION_CREATE", payload) == 2
        msg = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
        await fake.wait_for(lambda e: isinstance(e, Rejection) and e.code == 40060, timeout=WAIT)
        assert msg.files
        assert [c.type for c in fake.callbacks] == [5]
        assert len(gateway.calls_to("/v1/images/generations")) == 1
        jobs = await first.service.history(alice(fake))
        assert len(jobs) == 1 and jobs == await second.service.history(alice(fake))
        # The loser said nothing: one deferred message, edited into the result.
        assert {m.kind for m in fake.messages} <= {"deferred", "original_edit"}


async def test_model_autocomplete_lists_enabled_models(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    payload = P.autocomplete(fake.context(), "imagine", focused="model", value="image-1")
    await fake.dispatch("INTERACTION_CREATE", payload)
    answer = await fake.wait_for_callback(lambda c: c.type == 8, timeout=WAIT)
    names = [c["value"] for c in answer.data["choices"]]
    assert names and all("image-1" in n for n in names)
    assert set(names) <= set(bot.service.catalog.names(enabled_only=True))


async def test_notify_posts_in_the_jobs_channel(fake: FakeDiscord, bot: DiscordAdapter) -> None:
    payload = P.slash_command(fake.context(), "imagine", options={"prompt": "a bell"})
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    [job] = await bot.service.history(alice(fake))
    assert await bot.notify(job, "restarted, sorry") is True
    msg = await fake.wait_for_message(lambda m: m.kind == "channel", timeout=WAIT)
    assert msg.channel_id == fake.channel_id
    assert msg.content == f"<@{fake.context().user_id}> restarted, sorry"


async def test_a_rejected_token_is_a_config_error(
    fake: FakeDiscord, discord_settings: SettingsFactory
) -> None:
    settings = discord_settings(discord={"token": "not-the-token"})
    service = await ImageService.create(settings)
    try:
        with pytest.raises(ConfigError) as caught:
            await DiscordAdapter(service, guild_ready_timeout=0.05).start()
        assert caught.value.params["key"] == "discord.token"
    finally:
        await service.close()
