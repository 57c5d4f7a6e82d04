"""Socket Mode: Bolt's aiohttp handler with a client that drops malformed envelopes.

Envelopes come from Slack over a connection the app opened with its app token, so they are
trusted as Slack documents (no signature to check). One that is not an envelope at all (not
JSON, not an object, no type, no envelope id, a payload that is not an object, a type this app
does not serve) is dropped with one warning line instead of reaching Bolt; when it names an
envelope id it is acknowledged, so that Slack does not send it again.
Envelope shape: https://api.slack.com/apis/socket-mode#events
"""

from __future__ import annotations

import json
import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.response import SocketModeResponse

log = logging.getLogger("pixelsmith.slack")

ENVELOPE_TYPES = frozenset({"slash_commands", "events_api", "interactive"})
CONTROL_TYPES = frozenset({"hello", "disconnect"})
MAX_ENVELOPE_ID = 128


def envelope_problem(raw: str) -> tuple[str | None, str | None]:
    """(what is wrong with the message or None, its envelope id if it has a usable one)."""
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError):
        return "not JSON", None
    if not isinstance(message, dict):
        return "not a JSON object", None
    kind = message.get("type")
    if kind in CONTROL_TYPES:
        return None, None
    envelope_id = message.get("envelope_id")
    if not isinstance(envelope_id, str) or not 0 < len(envelope_id) <= MAX_ENVELOPE_ID:
        return "no envelope id", None
    if not isinstance(kind, str) or kind not in ENVELOPE_TYPES:
        return "unknown envelope type", envelope_id
    if not isinstance(message.get("payload"), dict):
        return "payload is not an object", envelope_id
    return None, envelope_id


class CheckedSocketModeClient(SocketModeClient):
    async def enqueue_message(self, message: str) -> None:
        problem, envelope_id = envelope_problem(message)
        if problem is None:
            await super().enqueue_message(message)
            return
        log.warning("dropped a malformed Socket Mode envelope: %s", problem)
        if envelope_id is not None:
            await self.send_socket_mode_response(SocketModeResponse(envelope_id=envelope_id))


class SocketHandler(AsyncSocketModeHandler):
    """``AsyncSocketModeHandler`` on a :class:`CheckedSocketModeClient`."""

    def __init__(self, app: AsyncApp, app_token: str) -> None:
        self.app = app
        self.app_token = app_token
        self.client = CheckedSocketModeClient(
            app_token=app_token, logger=app.logger, web_client=app.client
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]
