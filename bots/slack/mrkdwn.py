"""Slack's markup (mrkdwn) for text a listener writes: dates every client shows in its reader's
time zone, user text escaped, mentions."""

from __future__ import annotations

from datetime import datetime


def slack_time(when: datetime) -> str:
    """A date every Slack client shows in the reader's own time zone."""
    return (
        f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|{when:%Y-%m-%d %H:%M} UTC>"
    )


def escape(text: str) -> str:
    """Slack's three control characters in user text (prompts) must be escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user_id: str) -> str:
    return f"<@{user_id}>"
