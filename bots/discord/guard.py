"""Incomplete INTERACTION_CREATE payloads, caught before discord.py builds anything from them.

discord.py trusts Discord's payloads: a component click without ``data`` raises KeyError inside
the gateway reader, which ends the connection task (the bot goes offline), and a command
without ``member``/``user`` reaches the handler with no user. :func:`problem` names what a
payload lacks for its type; the bot then answers it (when it has an id and a token) with one
ephemeral sentence, logs one warning line, and runs nothing: nothing is charged.
"""

from __future__ import annotations

from typing import Any

PING, COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
REQUIRED = ("id", "token", "type", "application_id", "version", "attachment_size_limit")
EPHEMERAL = 1 << 6
CHANNEL_MESSAGE = 4  # interaction callback types
AUTOCOMPLETE_RESULT = 8


def _is_snowflake(value: object) -> bool:
    return isinstance(value, str | int) and str(value).isdigit() and len(str(value)) <= 20


def _who(payload: dict[str, Any]) -> str | None:
    member = payload.get("member")
    user = member.get("user") if isinstance(member, dict) else payload.get("user")
    if not isinstance(user, dict) or not _is_snowflake(user.get("id")):
        return "no member or user"
    if isinstance(member, dict) and "guild_id" not in payload:
        return "a member outside a guild"
    return None


def _data(kind: int, data: object) -> str | None:
    if not isinstance(data, dict):
        return "no data"
    if kind in (COMMAND, AUTOCOMPLETE):
        if not isinstance(data.get("name"), str) or not _is_snowflake(data.get("id")):
            return "no command name"
        if not isinstance(data.get("options", []), list):
            return "options are not a list"
    if kind == COMPONENT:
        if not isinstance(data.get("custom_id"), str):
            return "no custom_id"
        if not isinstance(data.get("component_type"), int):
            return "no component_type"
    if kind == MODAL_SUBMIT:
        if not isinstance(data.get("custom_id"), str):
            return "no custom_id"
        if not isinstance(data.get("components"), list):
            return "no components"
    return None


def problem(payload: object) -> str | None:
    """What this INTERACTION_CREATE lacks for discord.py and for us, or None if complete."""
    if not isinstance(payload, dict):
        return "not an object"
    missing = [key for key in REQUIRED if key not in payload]
    if missing:
        return "missing " + ", ".join(missing)
    kind = payload["type"]
    if kind == PING:
        return None
    if kind not in (COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT):
        return f"unknown interaction type {kind!r}"
    return _who(payload) or _data(kind, payload.get("data"))


def answerable(payload: object) -> bool:
    """Whether the payload names an interaction we can answer (an id and a token)."""
    return (
        isinstance(payload, dict)
        and _is_snowflake(payload.get("id"))
        and isinstance(payload.get("token"), str)
        and 0 < len(payload["token"]) <= 500
        and payload.get("type") != PING
    )


def refusal(payload: dict[str, Any], text: str) -> dict[str, Any]:
    """The interaction callback body that answers ``payload`` with ``text`` (ephemeral)."""
    if payload.get("type") == AUTOCOMPLETE:
        return {"type": AUTOCOMPLETE_RESULT, "data": {"choices": []}}
    return {"type": CHANNEL_MESSAGE, "data": {"content": text, "flags": EPHEMERAL}}
