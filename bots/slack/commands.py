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
from bots.slack.runtime import SlackBot


async def imagine(bot: SlackBot, command: dict[str, Any]) -> None:
    channel = command["channel_id"]
    identity, locale = bot.identity_soon(command["user_id"], command.get("team_id"), channel)
    request = bot.service.build(
        command.get("text", ""), identity, idem_key=f"slack:command:{command['trigger_id']}"
    )
    await run_job(bot, request, channel, locale=locale)


async def open_edit_modal(bot: SlackBot, command: dict[str, Any]) -> None:
    locale = await bot.locale(command["user_id"])
    view = blocks.edit_modal(locale, command["channel_id"])
    await bot.client.views_open(trigger_id=command["trigger_id"], view=view)


async def show_quota(bot: SlackBot, command: dict[str, Any]) -> None:
    channel = command["channel_id"]
    identity = await bot.identity(command["user_id"], command.get("team_id"), channel)
    status = await bot.service.quota_status(identity)
    text = "\n".join(quota_lines(status, identity.locale))
    await bot.ephemeral(channel, identity.user_id, text)


def register(app: AsyncApp, bot: SlackBot) -> None:
    @app.command("/imagine")
    async def on_imagine(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        await bot.run(command, imagine(bot, command))

    @app.command("/imagine-edit")
    async def on_imagine_edit(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        await bot.run(command, open_edit_modal(bot, command))

    @app.command("/quota")
    async def on_quota(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        await bot.run(command, show_quota(bot, command))
