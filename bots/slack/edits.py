"""Edits of images people share: the "Edit image" message shortcut, the modals, and mentions.

A mention with images may arrive as ``app_mention``, as ``message``/``file_share``, or both:
one message is one job, keyed by its (channel, ts).
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from bots.slack import blocks
from bots.slack.files import image_files, prepare
from bots.slack.jobs import run_job
from bots.slack.runtime import LocaleFuture, SlackBot
from core import messages
from core.types import Identity


async def edit(
    bot: SlackBot,
    identity: Identity,
    channel: str,
    prompt: str,
    files: list[dict[str, Any]],
    idem_key: str,
    thread_ts: str | None = None,
    locale: LocaleFuture | None = None,
) -> None:
    images = await prepare(bot, files)
    request = bot.service.build(prompt, identity, images=images, idem_key=idem_key)
    await run_job(bot, request, channel, thread_ts, locale)


def strip_mention(text: str, bot_user_id: str | None) -> str:
    who = re.escape(bot_user_id) if bot_user_id else r"[UW][A-Z0-9]+"
    return re.sub(rf"<@{who}(?:\|[^>]*)?>", " ", text).strip()


def mentions_bot(text: str, bot_user_id: str | None) -> bool:
    return bool(bot_user_id) and f"<@{bot_user_id}" in text


async def on_mention(bot: SlackBot, event: dict[str, Any], team_id: str | None) -> None:
    """Edit the attached images, or generate from the text when nothing is attached."""
    channel, ts = str(event["channel"]), str(event["ts"])
    key = f"slack:message:{channel}:{ts}"
    if not bot.seen.add(key):
        return  # the other event for the same message (or a retry) is already handled
    identity, locale = bot.identity_soon(str(event["user"]), team_id, channel)
    prompt = strip_mention(str(event.get("text") or ""), bot.bot_user_id)
    thread_ts = event.get("thread_ts")
    files = image_files(event.get("files"))
    if files:
        await edit(bot, identity, channel, prompt, files, key, thread_ts, locale)
        return
    request = bot.service.build(prompt, identity, idem_key=key)
    await run_job(bot, request, channel, thread_ts, locale)


async def open_prompt_modal(bot: SlackBot, shortcut: dict[str, Any]) -> None:
    user, channel = shortcut["user"]["id"], shortcut["channel"]["id"]
    locale = await bot.locale(user)
    files = image_files(shortcut.get("message", {}).get("files"))
    if not files:
        await bot.ephemeral(channel, user, messages.text("slack.no_images", locale))
        return
    view = blocks.prompt_modal(locale, channel, [str(f["id"]) for f in files])
    await bot.client.views_open(trigger_id=shortcut["trigger_id"], view=view)


async def on_submit(bot: SlackBot, view: dict[str, Any], body: dict[str, Any]) -> None:
    """Either modal: files come from the file_input or from private_metadata."""
    meta = json.loads(view.get("private_metadata") or "{}")
    values = view["state"]["values"]
    channel = str(meta["c"])
    if blocks.IMAGE_BLOCK in values:
        files = values[blocks.IMAGE_BLOCK][blocks.IMAGE_INPUT].get("files") or []
    else:
        files = [{"id": file_id} for file_id in meta.get("f", [])]
    prompt = values[blocks.PROMPT_BLOCK][blocks.PROMPT_INPUT].get("value") or ""
    user = body["user"]
    team_id = (body.get("team") or {}).get("id") or user.get("team_id")
    identity, locale = bot.identity_soon(str(user["id"]), team_id, channel)
    key = f"slack:view:{view['id']}+{view.get('hash', '')}"
    await edit(bot, identity, channel, prompt, files, key, meta.get("t"), locale)


def register(app: AsyncApp, bot: SlackBot) -> None:
    @app.shortcut(blocks.EDIT_SHORTCUT)
    async def on_shortcut(ack: Any, shortcut: dict[str, Any]) -> None:
        await ack()
        await bot.run(shortcut, open_prompt_modal(bot, shortcut))

    @app.view(blocks.EDIT_MODAL)
    @app.view(blocks.PROMPT_MODAL)
    async def on_view(ack: Any, view: dict[str, Any], body: dict[str, Any]) -> None:
        await ack()
        await bot.run(body, on_submit(bot, view, body))

    @app.event("app_mention")
    async def on_app_mention(event: dict[str, Any], body: dict[str, Any]) -> None:
        await bot.run(body, on_mention(bot, event, body.get("team_id")))

    @app.event("message")
    async def on_message(event: dict[str, Any], body: dict[str, Any]) -> None:
        # Only a shared file that mentions the app (or is sent to it directly) is for us;
        # every other message event is acknowledged and ignored (else Slack retries it).
        text = str(event.get("text") or "")
        direct = event.get("channel_type") == "im"
        if event.get("subtype") == "file_share" and (direct or mentions_bot(text, bot.bot_user_id)):
            await bot.run(body, on_mention(bot, event, body.get("team_id")))
