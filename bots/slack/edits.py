"""Edits of images people share: the "Edit image" message shortcut, the modals, and mentions.

A mention with images may arrive as ``app_mention``, as ``message``/``file_share``, or both:
one message is one job, keyed by its (channel, ts).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from bots.slack import blocks, ids
from bots.slack.files import image_files, prepare
from bots.slack.jobs import run_job
from bots.slack.language import LocaleFuture
from bots.slack.modals import open_then_check
from bots.slack.payload import metadata, obj, origin, slack_id, text
from bots.slack.runtime import SlackBot
from core import messages
from core.types import Identity

log = logging.getLogger("pixelsmith.slack")


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
    identity, locale, prefs = await bot.member(identity, locale)
    images = await prepare(bot, files)
    request = bot.service.build(prompt, identity, images=images, idem_key=idem_key, prefs=prefs)
    await run_job(bot, request, channel, thread_ts, locale)


def strip_mention(text: str, bot_user_id: str | None) -> str:
    who = re.escape(bot_user_id) if bot_user_id else r"[UW][A-Z0-9]+"
    return re.sub(rf"<@{who}(?:\|[^>]*)?>", " ", text).strip()


def mentions_bot(text: str, bot_user_id: str | None) -> bool:
    return bool(bot_user_id) and f"<@{bot_user_id}" in text


async def on_mention(bot: SlackBot, event: dict[str, Any], body: dict[str, Any]) -> None:
    """Edit the attached images, or generate from the text when nothing is attached."""
    channel = slack_id(event.get("channel"), "CGD")
    user, ts = slack_id(event.get("user"), "UW"), text(event.get("ts"), 32)
    if channel is None or user is None or ts is None:
        log.warning("ignored an incomplete Slack message event")
        return
    key = f"slack:message:{channel}:{ts}"
    if not bot.seen.add(key):
        return  # the other event for the same message (or a retry) is already handled
    where = origin(body)  # the workspace and Grid org the event came from
    identity, locale = bot.identity_soon(user, where.team, channel, org_id=where.enterprise)
    prompt = strip_mention(text(event.get("text")) or "", bot.bot_user_id)
    thread_ts = text(event.get("thread_ts"), 32)
    files = image_files(event.get("files"))
    if files:
        await edit(bot, identity, channel, prompt, files, key, thread_ts, locale)
        return
    identity, locale, prefs = await bot.member(identity, locale)
    request = bot.service.build(prompt, identity, idem_key=key, prefs=prefs)
    await run_job(bot, request, channel, thread_ts, locale)


async def open_prompt_modal(bot: SlackBot, shortcut: dict[str, Any]) -> None:
    where, trigger = origin(shortcut), text(shortcut.get("trigger_id"), 255)
    if where.user is None or where.channel is None or trigger is None:
        await bot.incomplete(where, "shortcut")
        return
    files = image_files(obj(shortcut.get("message")).get("files"))
    file_ids = [f for f in (slack_id(file.get("id"), "F") for file in files) if f]
    if not file_ids:
        locale = bot.cached_locale(where.user) or await bot.locale(where.user)
        await bot.ephemeral(where.channel, where.user, messages.text("chat.no_images", locale))
        return
    channel = where.channel

    def build(locale: str) -> dict[str, Any]:
        return blocks.prompt_modal(locale, channel, file_ids[: ids.MAX_FILES])

    await open_then_check(bot, trigger, where, build)


def _submitted_files(values: dict[str, Any], meta: dict[str, Any]) -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = []
    for block in (blocks.IMAGE_BLOCK, blocks.MORE_IMAGES_BLOCK):
        chosen = obj(obj(values.get(block)).get(blocks.IMAGE_INPUT)).get("files")
        files += [obj(f) for f in chosen if obj(f)] if isinstance(chosen, list) else []
    if not files and isinstance(meta.get("f"), list):
        files = [{"id": f} for f in meta["f"] if slack_id(f, "F")]
    return files


async def on_submit(bot: SlackBot, view: dict[str, Any], body: dict[str, Any]) -> None:
    """Either modal: files come from the file inputs or from private_metadata; a modal opened
    from a result's Edit button is checked against the job again."""
    meta, where = metadata(view), origin(body)
    values = obj(obj(view.get("state")).get("values"))
    view_id = text(view.get("id"), 64)
    if where.user is None or where.channel is None or view_id is None:
        await bot.incomplete(where, "modal submit")
        return
    identity, locale = bot.identity_soon(
        where.user, where.team, where.channel, org_id=where.enterprise
    )
    if "j" in meta:
        ref = ids.job_ref(meta["j"])
        if ref is None or await ids.job_for(bot.service, identity, ref) is None:
            shown = await locale.get()
            text_ = messages.text("slack.button_invalid", shown)
            await bot.ephemeral(where.channel, where.user, text_)
            return
    files = _submitted_files(values, meta)
    prompt = text(obj(obj(values.get(blocks.PROMPT_BLOCK)).get(blocks.PROMPT_INPUT)).get("value"))
    key = f"slack:view:{view_id}+{text(view.get('hash'), 64) or ''}"
    await edit(bot, identity, where.channel, prompt or "", files, key, where.thread_ts, locale)


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
        await bot.run(body, on_mention(bot, obj(event), body))

    @app.event("message")
    async def on_message(event: dict[str, Any], body: dict[str, Any]) -> None:
        # Only a shared file that mentions the app (or is sent to it directly) is for us;
        # every other message event is acknowledged and ignored (else Slack retries it).
        text = str(event.get("text") or "")
        direct = event.get("channel_type") == "im"
        if event.get("subtype") == "file_share" and (direct or mentions_bot(text, bot.bot_user_id)):
            await bot.run(body, on_mention(bot, event, body))
