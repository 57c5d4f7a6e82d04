"""Slash commands: /imagine, /imagine-edit, /quota (and /imagine-admin from bots.slack.admin).

Every listener acks first, then works; failures propagate to the app's error handler, which
answers the user (ephemeral) in their language.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bots.slack import blocks
from bots.slack.home import quota_lines
from bots.slack.jobs import run_job
from bots.slack.modals import open_then_check
from bots.slack.payload import origin, text
from bots.slack.runtime import SlackBot


async def imagine(bot: SlackBot, command: dict[str, Any]) -> None:
    where, trigger = origin(command), text(command.get("trigger_id"), 255)
    if where.user is None or where.channel is None or trigger is None:
        await bot.incomplete(where, "/imagine")
        return
    identity, locale = bot.identity_soon(
        where.user, where.team, where.channel, org_id=where.enterprise
    )
    identity, locale, prefs = await bot.member(identity, locale)
    prompt = text(command.get("text")) or ""
    key = f"slack:command:{trigger}"
    request = bot.service.build(prompt, identity, idem_key=key, prefs=prefs)
    await run_job(bot, request, where.channel, locale=locale)


async def open_edit_modal(bot: SlackBot, command: dict[str, Any]) -> None:
    """The modal opens first: no lookup may delay a trigger id (about 3 s, once)."""
    where, trigger = origin(command), text(command.get("trigger_id"), 255)
    if where.user is None or where.channel is None or trigger is None:
        await bot.incomplete(where, "/imagine-edit")
        return
    channel = where.channel
    await open_then_check(bot, trigger, where, lambda locale: blocks.edit_modal(locale, channel))


async def show_quota(bot: SlackBot, command: dict[str, Any]) -> None:
    where = origin(command)
    if where.user is None:
        await bot.incomplete(where, "/quota")
        return
    identity = await bot.identity_of(where)
    status = await bot.service.quota_status(identity)
    lines = "\n".join(quota_lines(status, identity.locale))
    await bot.ephemeral(where.channel, identity.user_id, lines)


def register(app: AsyncApp, bot: SlackBot) -> None:
    @app.command("/imagine")
    async def on_imagine(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        await bot.service.acks.turn()  # the acks of requests already here go out first
        await bot.run(command, imagine(bot, command))

    @app.command("/imagine-edit")
    async def on_imagine_edit(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        await bot.run(command, open_edit_modal(bot, command))

    @app.command("/quota")
    async def on_quota(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        await bot.run(command, show_quota(bot, command))
