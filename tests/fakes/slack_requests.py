"""Build and sign the requests Slack sends to an app in HTTP mode (``POST /slack/events``).

Payloads start from the captured-style fixtures in ``tests/fixtures/slack/`` and override the
fields a test cares about. Signing uses slack_sdk's own ``SignatureVerifier.generate_signature``
(HMAC-SHA256 over ``v0:{timestamp}:{body}``), the check Bolt runs.

    payload = slash_command("a fox", response_url=fake.response_url())
    reply = await send(session, events_url, payload, "secret")             # 200, acked
    reply = await send(session, events_url, payload, "wrong-secret")       # 401, bad signature
    reply = await send(session, events_url, payload, "secret", timestamp=stale_timestamp())  # 401

No default points at a real Slack host: response_url must be given (use ``fake.response_url()``).
"""

from __future__ import annotations

import copy
import itertools
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack import CLOCK

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "slack"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

TEAM_ID = "T0FAKE001"
TEAM_DOMAIN = "pixelsmith-test"
APP_ID = "A0APP0001"
BOT_USER_ID = "U0BOT0001"
USER_ID = "U0USER001"
CHANNEL_ID = "C0CHAN001"

_counter = itertools.count(1)


@dataclass(frozen=True)
class SlackPayload:
    """A request body exactly as Slack sends it, plus the dict Bolt will parse it into."""

    body: str
    content_type: str
    data: dict[str, Any]


@dataclass(frozen=True)
class SignedReply:
    status: int
    text: str
    content_type: str

    def json(self) -> Any:
        return json.loads(self.text)


def load_fixture(name: str) -> dict[str, Any]:
    """A fresh copy of ``tests/fixtures/slack/<name>.json``."""
    fixture: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return fixture


def new_trigger_id() -> str:
    """A fresh trigger_id, issued now on the fakes' Slack clock (it expires 3 s of it later)."""
    trigger = f"{int(time.time())}{next(_counter):04d}.2222222222.{secrets.token_hex(16)}"
    return CLOCK.issue_trigger(trigger)


def new_event_id() -> str:
    return f"Ev0{secrets.token_hex(5).upper()}"


def new_ts() -> str:
    return f"{int(time.time())}.{next(_counter):06d}"


# ---------------------------------------------------------------------- slash commands


def slash_command(
    text: str,
    *,
    response_url: str,
    command: str = "/imagine",
    trigger_id: str | None = None,
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
    **fields: str,
) -> SlackPayload:
    """Form-encoded slash command (no files, no thread: Slack sends neither)."""
    data = load_fixture("slash_command")
    data.update(
        text=text,
        command=command,
        response_url=response_url,
        trigger_id=trigger_id or new_trigger_id(),
        user_id=user_id,
        channel_id=channel_id,
        **fields,
    )
    return SlackPayload(urlencode(data), FORM, data)


# ---------------------------------------------------------------------- Events API


def event_callback(
    event: dict[str, Any],
    *,
    event_id: str | None = None,
    event_time: int | None = None,
    team_id: str = TEAM_ID,
) -> SlackPayload:
    """JSON ``event_callback`` envelope around ``event`` (see the ``*_event`` builders)."""
    envelope = load_fixture("event_app_mention")
    envelope.pop("event_context", None)
    envelope.update(
        event=event,
        event_id=event_id or new_event_id(),
        event_time=event_time or int(time.time()),
        team_id=team_id,
        context_team_id=team_id,
    )
    envelope["authorizations"][0]["team_id"] = team_id
    return SlackPayload(json.dumps(envelope), JSON, envelope)


def app_mention_event(
    text: str,
    *,
    files: list[dict[str, Any]] | None = None,
    user: str = USER_ID,
    channel: str = CHANNEL_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = load_fixture("event_app_mention")["event"]
    ts = ts or new_ts()
    event.update(text=text, user=user, channel=channel, ts=ts, event_ts=ts)
    if files:
        event["files"] = copy.deepcopy(files)
    else:
        event.pop("files", None)
        event.pop("upload", None)
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def file_share_event(
    text: str,
    files: list[dict[str, Any]],
    *,
    user: str = USER_ID,
    channel: str = CHANNEL_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
) -> dict[str, Any]:
    """``message`` event with ``subtype: file_share`` (sometimes the only event for an upload)."""
    event: dict[str, Any] = load_fixture("event_message_file_share")["event"]
    ts = ts or new_ts()
    event.update(
        text=text, files=copy.deepcopy(files), user=user, channel=channel, ts=ts, event_ts=ts
    )
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def app_home_opened_event(user: str = USER_ID, *, tab: str = "home") -> dict[str, Any]:
    event: dict[str, Any] = load_fixture("event_app_home_opened")["event"]
    event.update(user=user, tab=tab, event_ts=new_ts())
    return event


def file_stub(file: dict[str, Any]) -> dict[str, Any]:
    """What events sometimes carry instead of a full file object: call ``files.info``."""
    return {
        "id": file["id"],
        "mode": "hosted",
        "file_access": "check_file_info",
        "created": file.get("created", int(time.time())),
        "timestamp": file.get("timestamp", int(time.time())),
        "user": file.get("user", USER_ID),
    }


# ---------------------------------------------------------------------- interactivity


def _interactive(data: dict[str, Any]) -> SlackPayload:
    return SlackPayload(urlencode({"payload": json.dumps(data)}), FORM, data)


def message_action(
    callback_id: str,
    message: dict[str, Any],
    *,
    response_url: str,
    trigger_id: str | None = None,
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
) -> SlackPayload:
    """A message shortcut; ``message`` is the full message (with ``files``) it was used on."""
    data = load_fixture("message_action")
    data.update(
        callback_id=callback_id,
        message=copy.deepcopy(message),
        message_ts=message["ts"],
        response_url=response_url,
        trigger_id=trigger_id or new_trigger_id(),
        action_ts=new_ts(),
    )
    data["user"].update(id=user_id)
    data["channel"].update(id=channel_id)
    return _interactive(data)


def message_with_files(
    text: str, files: list[dict[str, Any]], *, user: str = USER_ID, ts: str | None = None
) -> dict[str, Any]:
    message: dict[str, Any] = load_fixture("message_action")["message"]
    message.update(text=text, files=copy.deepcopy(files), user=user, ts=ts or new_ts())
    return message


def block_actions(
    action_id: str,
    value: str,
    *,
    response_url: str,
    message: dict[str, Any] | None = None,
    block_id: str = "result_actions",
    trigger_id: str | None = None,
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
) -> SlackPayload:
    """A button click in a message (``message`` defaults to the fixture's bot message)."""
    data = load_fixture("block_actions")
    if message is not None:
        data["message"] = copy.deepcopy(message)
    data["container"].update(message_ts=data["message"]["ts"], channel_id=channel_id)
    data["channel"].update(id=channel_id)
    data["user"].update(id=user_id)
    action = data["actions"][0]
    action.update(action_id=action_id, value=value, block_id=block_id, action_ts=new_ts())
    data.update(response_url=response_url, trigger_id=trigger_id or new_trigger_id())
    return _interactive(data)


def view_submission(
    callback_id: str,
    values: dict[str, dict[str, Any]],
    *,
    private_metadata: str = "",
    view_id: str = "V0VIEW0001",
    user_id: str = USER_ID,
    trigger_id: str | None = None,
) -> SlackPayload:
    """Modal submit; ``values`` is ``state.values`` ({block_id: {action_id: element value}})."""
    data = load_fixture("view_submission_file_input")
    view = data["view"]
    view.update(
        id=view_id,
        root_view_id=view_id,
        callback_id=callback_id,
        private_metadata=private_metadata,
        state={"values": copy.deepcopy(values)},
    )
    data["user"].update(id=user_id)
    data["trigger_id"] = trigger_id or new_trigger_id()
    return _interactive(data)


def file_input_value(files: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "file_input", "files": copy.deepcopy(files)}


def text_input_value(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


# ---------------------------------------------------------------------- signing and sending


def stale_timestamp(age_seconds: int = 600) -> int:
    """A timestamp older than Slack's 5-minute window: Bolt must answer 401."""
    return int(time.time()) - age_seconds


def signed_headers(
    body: str, content_type: str, secret: str, timestamp: int | None = None
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }


async def post_signed(
    session: aiohttp.ClientSession,
    url: str,
    body: str,
    content_type: str,
    secret: str,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
    signature: str | None = None,
) -> SignedReply:
    """POST ``body`` signed with ``secret`` (pass a wrong secret for a bad signature,
    ``stale_timestamp()`` for a replay, ``signature=`` to send any header verbatim)."""
    headers = signed_headers(body, content_type, secret, timestamp)
    if signature is not None:
        headers["X-Slack-Signature"] = signature
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    async with session.post(url, data=body.encode("utf-8"), headers=headers) as resp:
        return SignedReply(resp.status, await resp.text(), resp.content_type)


async def send(
    session: aiohttp.ClientSession,
    url: str,
    payload: SlackPayload,
    secret: str,
    **kwargs: Any,
) -> SignedReply:
    """``post_signed`` for a built ``SlackPayload``."""
    return await post_signed(session, url, payload.body, payload.content_type, secret, **kwargs)


async def ack_times(url: str, payloads: list[SlackPayload], secret: str) -> list[float | None]:
    """Send every payload at once, as Slack does in a burst (no connection limit); each one's
    ack time in seconds, or None when it was not answered 200 (the benchmarks' measure)."""
    import asyncio

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def one(payload: SlackPayload) -> float | None:
            started = time.monotonic()
            try:
                reply = await send(http, url, payload, secret)
            except aiohttp.ClientError:
                return None
            return time.monotonic() - started if reply.status == 200 else None

        return list(await asyncio.gather(*(one(p) for p in payloads)))
