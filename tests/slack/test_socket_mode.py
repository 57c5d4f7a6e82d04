"""The Slack adapter in Socket Mode against FakeSlack's websocket and FakeGateway.

The real ``SlackAdapter`` (Bolt's ``AsyncSocketModeHandler`` on slack_sdk's aiohttp client) asks
apps.connections.open for a URL with the app token, connects, and gets envelopes pushed by the
fake; every envelope must be acked with its ``envelope_id``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import warnings
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.app import SlackAdapter
from bots.slack.socket import envelope_problem
from core.errors import ConfigError
from core.service import ImageService
from tests.fakes.gateway import FakeGateway
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_requests import (
    BOT_USER_ID,
    CHANNEL_ID,
    app_mention_event,
    event_callback,
    slash_command,
)
from tests.slack.conftest import TOKEN, Harness, png, slack_settings

APP_TOKEN = "xapp-1-A0APP0001-socket-test"
SOCKET = {"mode": "socket", "app_token": APP_TOKEN, "signing_secret": None}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """Overrides conftest's: the same fake, with an app token to check."""
    async with FakeSlack(token=TOKEN, app_token=APP_TOKEN) as f:
        yield f


@pytest.fixture
async def socket_harness(closing: Callable[..., Any]) -> Harness:
    harness: Harness = await closing(slack=SOCKET)
    return harness


async def test_start_connects_with_the_app_token(socket_harness: Harness) -> None:
    fake = socket_harness.fake
    conn = await fake.socket_connection()
    assert [c.method for c in fake.calls] == ["auth.test", "apps.connections.open"]
    (opened,) = fake.calls_of("apps.connections.open")
    assert opened.token_ok  # the app token, not the bot token
    assert fake.calls_of("auth.test")[0].token_ok
    assert socket_harness.adapter.port is None  # no HTTP server in Socket Mode
    # the client pinged on connect and answers the server's pings
    await fake.wait_for(lambda: fake.socket_pings)
    assert await fake.socket_ping(b"are-you-there") == b"are-you-there"
    assert not conn.closed and fake.socket_messages == []


async def test_slash_command_is_acked_and_uploads(socket_harness: Harness) -> None:
    fake, gateway = socket_harness.fake, socket_harness.gateway
    payload = slash_command("a fox", response_url=fake.response_url()).data
    envelope_id = await fake.socket_send("slash_commands", payload)
    ack = await fake.wait_for_ack(envelope_id)
    assert ack.payload is None  # an empty ack: the result comes as messages
    await socket_harness.wait(socket_harness.controls)
    await fake.wait_for(lambda: fake.uploads)
    await socket_harness.settle()

    (call,) = gateway.calls_to("/v1/images/generations")
    assert call.params["prompt"] == "a fox"
    (upload,) = fake.uploads
    assert upload.channel == CHANNEL_ID and upload.data.startswith(b"\x89PNG")
    assert not upload.upload_token_present
    assert len(fake.acks_of(envelope_id)) == 1 and socket_harness.ephemerals() == []


async def test_app_mention_with_an_image_edits_it(socket_harness: Harness) -> None:
    fake, gateway = socket_harness.fake, socket_harness.gateway
    photo = fake.add_file("cat.png", png(), "image/png")
    event = event_callback(
        app_mention_event(f"<@{BOT_USER_ID}> make it a watercolour", files=[photo])
    )
    envelope_id = await fake.socket_send("events_api", event.data)
    await fake.wait_for_ack(envelope_id)
    await socket_harness.wait(socket_harness.controls)
    await socket_harness.settle()

    (call,) = gateway.calls_to("/v1/images/edits")
    assert call.params["prompt"] == "make it a watercolour" and len(call.files) == 1
    assert gateway.calls_to("/v1/images/generations") == []
    assert [(f.file_id, f.authorized) for f in fake.file_fetches] == [(photo["id"], True)]
    assert len(socket_harness.controls()) == 1 and socket_harness.ephemerals() == []


async def test_retried_envelope_makes_one_job(socket_harness: Harness) -> None:
    fake, gateway = socket_harness.fake, socket_harness.gateway
    event = event_callback(app_mention_event(f"<@{BOT_USER_ID}> a lighthouse"))
    first = await fake.socket_send("events_api", event.data)
    await fake.wait_for_ack(first)
    again = await fake.socket_send(
        "events_api", event.data, retry_attempt=1, retry_reason="timeout"
    )
    await fake.wait_for_ack(again)  # a retry is acked too, or Slack keeps retrying
    await socket_harness.wait(socket_harness.controls)
    await socket_harness.settle()
    assert len(gateway.calls_to("/v1/images/generations")) == 1
    assert len(socket_harness.controls()) == 1


async def test_disconnect_request_reconnects(socket_harness: Harness) -> None:
    fake = socket_harness.fake
    old = await fake.socket_connection()
    await fake.socket_disconnect()
    await fake.wait_for(
        lambda: len(fake.calls_of("apps.connections.open")) == 2 and old.closed and fake.socket_open
    )
    payload = slash_command("a heron", response_url=fake.response_url()).data
    await fake.wait_for_ack(await fake.socket_send("slash_commands", payload))
    await socket_harness.wait(socket_harness.controls)
    assert len(socket_harness.gateway.calls_to("/v1/images/generations")) == 1


async def test_stop_closes_cleanly(socket_harness: Harness) -> None:
    fake, adapter = socket_harness.fake, socket_harness.adapter
    conn = await fake.socket_connection()
    assert adapter._socket is not None
    client = adapter._socket.client
    loop = asyncio.get_running_loop()
    problems: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: problems.append(context))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            await adapter.stop()
            await fake.wait_for(lambda: conn.closed)
            for _ in range(3):
                await asyncio.sleep(0)  # let the cancelled tasks finish
            gc.collect()
    finally:
        loop.set_exception_handler(previous)

    assert conn.closed_by_client and conn.close_code == 1000
    assert client.closed and client.aiohttp_client_session.closed
    assert client.current_session is not None and client.current_session.closed
    tasks = [client.message_processor, client.message_receiver, client.current_session_monitor]
    assert all(t is not None and t.done() for t in tasks)
    assert adapter.bot.http is None
    assert problems == []
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert len(fake.calls_of("apps.connections.open")) == 1  # no reconnect after stop


async def test_connections_open_takes_only_the_app_token(fake: FakeSlack) -> None:
    client = AsyncWebClient(base_url=fake.api_base)
    with pytest.raises(SlackApiError) as wrong:
        await client.apps_connections_open(app_token="xapp-1-wrong")
    with pytest.raises(SlackApiError) as bot:
        await client.apps_connections_open(app_token=TOKEN)
    assert wrong.value.response["error"] == "invalid_auth"
    assert bot.value.response["error"] == "not_allowed_token_type"
    url = (await client.apps_connections_open(app_token=APP_TOKEN))["url"]
    assert url.startswith(f"ws://127.0.0.1:{fake.base_url.rsplit(':', 1)[1]}/socket-mode?ticket=")
    assert [c.token_ok for c in fake.calls] == [False, False, True]


async def test_rejected_app_token_fails_start(
    tmp_path: Path, gateway: FakeGateway, fake: FakeSlack
) -> None:
    # slack_sdk's connect() would retry a rejected token forever: start() must fail instead.
    socket = {**SOCKET, "app_token": "xapp-1-A0APP0001-revoked"}
    settings = slack_settings(tmp_path, gateway, fake, slack=socket)
    service = await ImageService.create(settings)
    adapter = SlackAdapter(service, settings, host="127.0.0.1")
    try:
        with pytest.raises(ConfigError) as failed:
            await asyncio.wait_for(adapter.start(), 10)
    finally:
        await adapter.stop()
        await service.close()
    assert failed.value.params["key"] == "slack.app_token"
    assert "invalid_auth" in str(failed.value.params["problem"])
    assert [c.method for c in fake.calls] == ["auth.test", "apps.connections.open"]
    assert fake.socket_connections == []


MALFORMED = [
    ("not JSON", "{not json", None),
    ("a JSON list", '[{"type": "slash_commands"}]', None),
    ("no envelope id", json.dumps({"type": "slash_commands", "payload": {}}), None),
    ("a number for an envelope id", json.dumps({"type": "interactive", "envelope_id": 7}), None),
    (
        "a payload that is a list",
        json.dumps({"type": "events_api", "envelope_id": "e-1", "payload": [1]}),
        "e-1",
    ),
    (
        "a payload that is a string",
        json.dumps({"type": "slash_commands", "envelope_id": "e-2", "payload": "a fox"}),
        "e-2",
    ),
    (
        "an unknown envelope type",
        json.dumps({"type": "mystery", "envelope_id": "e-3", "payload": {}}),
        "e-3",
    ),
]


@pytest.mark.parametrize("raw,acked", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
async def test_malformed_envelope_is_dropped_with_a_warning(
    socket_harness: Harness, raw: str, acked: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    fake = socket_harness.fake
    conn = await fake.socket_connection()
    caplog.set_level(logging.INFO)
    await conn.ws.send_str(raw)
    # a good envelope afterwards is served: the connection and the processor are alive
    payload = slash_command("a fox", response_url=fake.response_url()).data
    await fake.wait_for_ack(await fake.socket_send("slash_commands", payload))
    await socket_harness.wait(socket_harness.controls)
    await socket_harness.settle()

    assert [a.envelope_id for a in fake.socket_acks][:-1] == ([acked] if acked else [])
    assert len(socket_harness.gateway.calls_to("/v1/images/generations")) == 1
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in loud] == [
        f"dropped a malformed Socket Mode envelope: {envelope_problem(raw)[0]}"
    ]
    assert all(r.exc_info is None for r in caplog.records)
    assert socket_harness.ephemerals() == []
