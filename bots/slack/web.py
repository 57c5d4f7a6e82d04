"""Links to the web companion, always handed out privately (ephemeral): the result's
"Edit region" button, ``/imagine-gallery`` and ``/imagine-admin dashboard``. A link binds the
clicking user in their own workspace; the button's job is checked like every other button."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp

from bots.slack import blocks, ids
from bots.slack.payload import obj, origin
from bots.slack.runtime import SlackBot
from bots.web.links import link_for
from core import messages
from core.types import Identity


def link_text(bot: SlackBot, identity: Identity, url: str | None) -> str:
    if url is None:
        return messages.text("slack.web.off", identity.locale)
    minutes = round(bot.settings.web.link_minutes)
    return messages.text("slack.web.link", identity.locale, minutes=minutes, url=url)


def web_on(bot: SlackBot, identity: Identity) -> bool:
    """Whether results get an "Edit region" button (the web companion is configured)."""
    return link_for(bot.settings, "gallery", identity) is not None


async def region(bot: SlackBot, body: dict[str, Any]) -> None:
    where = origin(body)
    if where.user is None or where.channel is None:
        await bot.incomplete(where, "Edit region click")
        return
    identity = await bot.identity_of(where)
    actions = body.get("actions")
    action = obj(actions[0]) if isinstance(actions, list) and actions else {}
    ref = ids.job_ref(action.get("value"))
    job = await ids.job_for(bot.service, identity, ref) if ref else None
    if job is None or ref is None:
        text = messages.text("slack.button_invalid", identity.locale)
    else:  # the edit is posted back where the result is
        url = link_for(bot.settings, "edit", identity, job=ref)
        text = link_text(bot, identity, url)
    await bot.ephemeral(where.channel, identity.user_id, text)


async def gallery(bot: SlackBot, command: dict[str, Any]) -> None:
    where = origin(command)
    if where.user is None:
        await bot.incomplete(where, "/imagine-gallery")
        return
    identity = await bot.identity_of(where)
    url = link_for(bot.settings, "gallery", identity)
    await bot.ephemeral(where.channel, identity.user_id, link_text(bot, identity, url))


def dashboard_text(bot: SlackBot, admin: Identity) -> str:
    """For /imagine-admin dashboard, after its admin check."""
    url = link_for(bot.settings, "dashboard", replace(admin, is_admin=True), admin=True)
    return link_text(bot, admin, url)


def register(app: AsyncApp, bot: SlackBot) -> None:
    @app.action(blocks.REGION)
    async def on_region(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        await bot.run(body, region(bot, body))

    @app.command("/imagine-gallery")
    async def on_gallery(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        await bot.run(command, gallery(bot, command))
