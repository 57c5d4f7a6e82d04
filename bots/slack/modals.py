"""Opening modals in time: ``views.open`` first, every lookup after.

A ``trigger_id`` works once and for about 3 seconds
(https://api.slack.com/interactivity/handling#modal_responses), so a modal is opened with what is
known without asking anyone (the user's cached language, else English). Then the user's language
is looked up and the job checked; the modal is updated (``views.update`` with the opened view's
``hash``, so a newer view is never overwritten) to the user's language, or to a notice when the
button it came from is no longer valid. Inputs keep what the user typed: the updated view has
the same block and action ids.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bots.slack import blocks
from bots.slack.payload import Origin, obj, text
from bots.slack.runtime import SlackBot
from core import messages
from core.types import Identity

log = logging.getLogger("pixelsmith.slack")

ViewBuilder = Callable[[str], dict[str, Any]]
Check = Callable[[Identity], Awaitable[bool]]


async def open_then_check(
    bot: SlackBot, trigger_id: str, where: Origin, build: ViewBuilder, check: Check | None = None
) -> None:
    """Open ``build(locale)`` now; then localize it, or replace it with a notice if ``check``
    (run after the open) says the modal's subject is not the caller's to use."""
    if where.user is None:
        return
    provisional = bot.cached_locale(where.user) or "en"
    answer = await bot.client.views_open(trigger_id=trigger_id, view=build(provisional))
    opened = obj(answer.get("view"))
    identity = await bot.identity_of(where)
    if check is not None and not await check(identity):
        notice = messages.text("slack.button_invalid", identity.locale)
        view = blocks.notice_modal(identity.locale, notice)
    elif identity.locale != provisional:
        view = build(identity.locale)
    else:
        return
    view_id, view_hash = text(opened.get("id"), 64), text(opened.get("hash"), 64)
    if view_id is None:
        return
    try:
        await bot.client.views_update(view_id=view_id, hash=view_hash, view=view)
    except SlackApiError as exc:  # closed or changed meanwhile: the submit is checked again
        log.info("could not update the modal: %s", exc.response.get("error"))
