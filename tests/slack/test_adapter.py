"""The adapter itself: start-up checks, notify, progress edits, the manifest, the form fix."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml

from bots.slack import blocks
from bots.slack.app import SlackAdapter
from bots.slack.http import FORM, parse_body
from bots.slack.jobs import ProgressMessage, status
from core.errors import ConfigError
from core.service import ImageService
from core.types import Progress, Stage
from tests.fakes.gateway import FakeGateway
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_requests import (
    CHANNEL_ID,
    USER_ID,
    event_callback,
    message_action,
    message_with_files,
    new_ts,
    slash_command,
)
from tests.slack.conftest import Harness, slack_settings

MANIFEST = Path(__file__).resolve().parents[2] / "bots" / "slack" / "manifest.yml"


async def _adapter(
    tmp_path: Path, gateway: FakeGateway, fake: FakeSlack, **slack: Any
) -> tuple[SlackAdapter, ImageService]:
    settings = slack_settings(tmp_path, gateway, fake, slack=slack)
    service = await ImageService.create(settings)
    return SlackAdapter(service, settings, host="127.0.0.1"), service


async def test_bad_bot_token_fails_at_start(
    tmp_path: Path, gateway: FakeGateway, fake: FakeSlack
) -> None:
    adapter, service = await _adapter(tmp_path, gateway, fake, bot_token="xoxb-wrong-000000")
    try:
        with pytest.raises(ConfigError) as failure:
            await adapter.start()
    finally:
        await service.close()
    assert failure.value.params["key"] == "slack.bot_token"
    assert "invalid_auth" in failure.value.params["problem"]
    assert "xoxb-wrong" not in repr(failure.value)


async def test_missing_tokens_name_the_setting(
    tmp_path: Path, gateway: FakeGateway, fake: FakeSlack
) -> None:
    socket, service = await _adapter(tmp_path, gateway, fake, mode="socket")
    http, _ = await _adapter(tmp_path, gateway, fake, signing_secret="")
    try:
        with pytest.raises(ConfigError) as no_app_token:
            await socket.start()
        with pytest.raises(ConfigError) as no_secret:
            await http.start()
    finally:
        await service.close()
        await _.close()
    assert no_app_token.value.params["key"] == "slack.app_token"
    assert no_secret.value.params["key"] == "slack.signing_secret"
    assert fake.calls == []


async def test_notify_tells_the_user_in_the_jobs_channel(harness: Harness) -> None:
    await harness.send(slash_command("a comet", response_url=harness.fake.response_url()))
    await harness.wait(harness.controls)
    identity = await harness.adapter.bot.identity(USER_ID, None, None)
    (job,) = await harness.service.history(identity)
    assert await harness.adapter.notify(job, "restarted, sorry") is True
    (note,) = harness.ephemerals()
    assert (note.channel, note.user, note.text) == (CHANNEL_ID, USER_ID, "restarted, sorry")


async def test_reverse_model_job_runs_through_progress(harness: Harness) -> None:
    await harness.send(
        slash_command("a dragon --model gpt-4o-image", response_url=harness.fake.response_url())
    )
    await harness.wait(harness.controls)
    await harness.settle()
    assert harness.gateway.calls_to("/v1/chat/completions")
    (progress,) = harness.posts()
    assert [c.ts for c in harness.controls()] == [progress.ts]


def test_status_line_has_a_bar_when_percent_is_known() -> None:
    line = status(Progress(Stage.GENERATING, percent=40), "en", "gpt-4o-image")
    assert line.endswith("▓▓▓▓░░░░░░ 40%") and line.startswith("Generating… 40%")
    assert "▓" not in status(Progress(Stage.QUEUED, queue_position=3), "en", "m")


async def test_progress_message_is_edited_in_place_then_removed(harness: Harness) -> None:
    identity = await harness.adapter.bot.identity(USER_ID, None, CHANNEL_ID)
    request = harness.service.build("a tower", identity)
    progress = ProgressMessage(harness.adapter.bot, request, CHANNEL_ID)
    await progress(Progress(Stage.QUEUED, queue_position=2))
    await harness.until(lambda: progress.ts)
    for percent in (10, 50, 90):  # callbacks never wait for Slack; edits are throttled
        await progress(Progress(Stage.GENERATING, percent=percent))
    await harness.wait(lambda: "90%" in (harness.fake.messages[-1].text or ""))
    await progress.close()
    (posted,) = harness.posts()
    assert "a tower" in (posted.text or "") and "position 2" in (posted.text or "")
    assert all(m.ts == posted.ts for m in harness.posts("update"))
    assert (CHANNEL_ID, posted.ts) in harness.fake.deleted


def test_manifest_matches_the_registered_listeners(tmp_path: Path) -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    features, settings = manifest["features"], manifest["settings"]
    commands = {c["command"] for c in features["slash_commands"]}
    shortcuts = {s["callback_id"] for s in features["shortcuts"] if s["type"] == "message"}
    events = set(settings["event_subscriptions"]["bot_events"])
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])

    source = "\n".join(p.read_text(encoding="utf-8") for p in (MANIFEST.parent).glob("*.py"))
    registered_commands = set(re.findall(r'@app\.command\("(/[\w-]+)"\)', source))
    registered_events = set(re.findall(r'@app\.event\("(\w+)"\)', source))
    assert (
        commands
        == registered_commands
        == {
            "/imagine",
            "/imagine-edit",
            "/imagine-history",
            "/imagine-gallery",
            "/imagine-settings",
            "/quota",
            "/imagine-admin",
        }
    )
    assert shortcuts == {blocks.EDIT_SHORTCUT}
    assert "@app.shortcut(blocks.EDIT_SHORTCUT)" in source
    # message.channels/groups/im are all delivered as "message" events
    assert (
        {e.split(".")[0] for e in events}
        == registered_events
        == {"app_mention", "message", "app_home_opened", "app_uninstalled", "tokens_revoked"}
    )
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    assert {
        "commands",
        "chat:write",
        "files:read",
        "files:write",
        "users:read",
        "app_mentions:read",
        "channels:history",
        "groups:history",
        "im:history",
    } <= scopes
    assert features["app_home"]["home_tab_enabled"] is True


async def test_manifest_names_match_the_live_app(harness: Harness) -> None:
    """The same check against what Bolt really dispatches: every manifest entry gets a 200."""
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    for command in manifest["features"]["slash_commands"]:
        reply = await harness.send(
            slash_command(
                "help", command=command["command"], response_url=harness.fake.response_url()
            )
        )
        assert reply.status == 200, command["command"]
    unknown = await harness.send(
        slash_command("x", command="/nope", response_url=harness.fake.response_url())
    )
    assert unknown.status == 404
    for name in manifest["settings"]["event_subscriptions"]["bot_events"]:
        event = {
            "type": name.split(".")[0],
            "user": USER_ID,
            "channel": CHANNEL_ID,
            "text": "hi",
            "ts": new_ts(),
            "tab": "messages",
        }
        assert (await harness.send(event_callback(event))).status == 200, name
    reaction = event_callback({"type": "reaction_added", "user": USER_ID, "reaction": "fox"})
    assert (await harness.send(reaction)).status == 404
    for shortcut in manifest["features"]["shortcuts"]:
        message = message_with_files("x", [])
        reply = await harness.send(
            message_action(
                shortcut["callback_id"], message, response_url=harness.fake.response_url()
            )
        )
        assert reply.status == 200, shortcut["callback_id"]
    await harness.settle()


def test_plain_form_with_the_word_payload_is_parsed_as_a_form() -> None:
    body = urlencode({"command": "/imagine", "text": "a payload of apples", "team_id": "T1"})
    assert parse_body(body, FORM)["text"] == "a payload of apples"
    interactive = urlencode({"payload": '{"type": "block_actions", "team": {"id": "T2"}}'})
    assert parse_body(interactive, FORM)["type"] == "block_actions"
