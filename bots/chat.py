"""What the chat adapters (Discord, Slack) say alike about quota and history, from the shared
catalog ``bots/locales/*/chat.ftl``; each passes its own way of showing a time."""

from __future__ import annotations

from core import messages
from core.account import HistoryLine, LimitLine


def unlimited(line: LimitLine, locale: str) -> str:
    return messages.text("chat.quota.unlimited", locale, name=line.name)


def history_line(line: HistoryLine, locale: str, *, when: str, prompt: str | None = None) -> str:
    """``when · state · $cost · prompt``; ``prompt`` replaces the line's own (escaped, say)."""
    return messages.text(
        "chat.history.line",
        locale,
        when=when,
        state=messages.text(f"chat.state.{line.state.value}", locale),
        cost=line.cost_usd,
        prompt=line.prompt if prompt is None else prompt,
    )
