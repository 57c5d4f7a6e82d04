"""Reading Slack payloads defensively: every field may be missing or of the wrong type.

Slack documents the shapes (https://api.slack.com/reference/interaction-payloads), but a listener
must not crash on one that is incomplete: :func:`origin` answers ``None`` for whatever it cannot
find, and the listeners say so politely (or log a warning when there is nobody to tell).

The Enterprise Grid org is the actor's, read the way Bolt reads it for its own context
(``slack_bolt.request.internals.extract_actor_enterprise_id``: ``enterprise`` as an object or an
id, ``authorizations[0].enterprise_id``, ``enterprise_id``, ``team.enterprise_id``). An org-wide
install may send ``team: null``: the workspace is then the user's ``team_id``, else whatever
Bolt's ``extract_actor_team_id`` finds (``authorizations[0].team_id``, the view's team).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from slack_bolt.request.internals import extract_actor_enterprise_id, extract_actor_team_id

# Slack ids: upper-case letters and digits after a one-letter kind (U/W user, T team,
# E enterprise, C/G/D channel). Anything else is not an id and is not used.
_ID = re.compile(r"^[A-Z][A-Z0-9]{1,63}$")
MAX_METADATA = 3000  # Slack's limit for a view's private_metadata


def text(value: Any, limit: int = 4000) -> str | None:
    """A non-empty string of at most ``limit`` characters, else None."""
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def slack_id(value: Any, kinds: str) -> str | None:
    """``value`` if it looks like a Slack id of one of ``kinds`` (first letters), else None."""
    if isinstance(value, str) and _ID.match(value) and value[0] in kinds:
        return value
    return None


@dataclass(frozen=True)
class Origin:
    """Who sent a payload, from which workspace (and Enterprise Grid org), in which channel."""

    user: str | None
    team: str | None
    enterprise: str | None
    channel: str | None
    thread_ts: str | None = None


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """A modal's ``private_metadata`` as the JSON object this app wrote, else ``{}``."""
    raw = view.get("private_metadata")
    if not isinstance(raw, str) or not raw or len(raw) > MAX_METADATA:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return obj(value)


def _bolt(extract: Any, body: dict[str, Any]) -> Any:
    """What Bolt's own extractor finds, or None where a hostile shape makes it raise."""
    try:
        return extract(body)
    except (AttributeError, KeyError, TypeError, IndexError):
        return None


def origin(body: dict[str, Any]) -> Origin:
    """The :class:`Origin` of any payload: command, event, action, shortcut or view."""
    event, user, team = obj(body.get("event")), obj(body.get("user")), obj(body.get("team"))
    container = obj(body.get("container"))
    user_id = slack_id(body.get("user_id") or user.get("id") or event.get("user"), "UW")
    team_id = slack_id(body.get("team_id") or team.get("id") or user.get("team_id"), "T")
    team_id = team_id or slack_id(_bolt(extract_actor_team_id, body), "T")
    enterprise_id = slack_id(_bolt(extract_actor_enterprise_id, body), "E")
    channel = slack_id(
        body.get("channel_id")
        or obj(body.get("channel")).get("id")
        or container.get("channel_id")
        or event.get("channel"),
        "CGD",
    )
    meta = metadata(obj(body.get("view")))
    if channel is None:
        channel = slack_id(meta.get("c"), "CGD")
    thread = text(container.get("thread_ts") or meta.get("t"), 32)
    return Origin(user_id, team_id, enterprise_id, channel, thread)
