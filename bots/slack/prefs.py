"""/imagine-settings: the member's own defaults in this workspace (core/preferences.py) in a
modal. The modal opens first, with what is known without asking anyone (a trigger id lasts
about 3 s, once); then the member's settings and language are looked up and the modal updated
to show them (``views.update`` with the opened view's ``hash``). The submit is checked by core
against the catalog; the answer (saved, or what was wrong) is ephemeral."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bots.slack import blocks
from bots.slack.payload import metadata, obj, origin, slack_id, text
from bots.slack.runtime import SlackBot
from core import messages, preferences
from core.errors import PixelsmithError
from core.preferences import Preferences

log = logging.getLogger("pixelsmith.slack")


def _shown(prefs: Preferences) -> dict[str, str | None]:
    stored = prefs.stored()
    shown: dict[str, str | None] = {k: None if v is None else str(v) for k, v in stored.items()}
    shown["remix"] = "on" if prefs.remix else "off"
    return shown


async def open_settings(bot: SlackBot, command: dict[str, Any]) -> None:
    where, trigger = origin(command), text(command.get("trigger_id"), 255)
    if where.user is None or trigger is None:
        await bot.incomplete(where, "/imagine-settings")
        return
    choices = preferences.choices(bot.service.catalog)
    provisional = bot.cached_locale(where.user) or "en"
    first = blocks.settings_modal(provisional, where.channel, {}, choices)
    answer = await bot.client.views_open(trigger_id=trigger, view=first)
    opened = obj(answer.get("view"))
    identity = await bot.identity_of(where)
    shown, prefs = await bot.service.localized(identity)
    view = blocks.settings_modal(shown.locale, where.channel, _shown(prefs), choices, version=1)
    view_id, view_hash = text(opened.get("id"), 64), text(opened.get("hash"), 64)
    if view_id is None:
        return
    try:
        await bot.client.views_update(view_id=view_id, hash=view_hash, view=view)
    except SlackApiError as exc:  # closed or changed meanwhile: the submit still works
        log.info("could not update the settings modal: %s", exc.response.get("error"))


async def on_settings_submit(bot: SlackBot, view: dict[str, Any], body: dict[str, Any]) -> None:
    where = origin(body)
    if where.user is None:
        await bot.incomplete(where, "settings submit")
        return
    channel = where.channel or slack_id(metadata(view).get("c"), "CGD")
    identity = await bot.identity_of(where)
    chosen = blocks.settings_values(obj(obj(view.get("state")).get("values")))
    typed: dict[str, str | bool | int | None] = dict(chosen)
    try:
        await bot.service.set_preferences(identity, typed)
        shown, prefs = await bot.service.localized(identity)
        answer = (
            messages.text("prefs.saved", shown.locale)
            + "\n"
            + preferences.summary(prefs, shown.locale)
        )
    except PixelsmithError as exc:
        answer = bot.render(exc, identity)
    if channel is None:
        return
    await bot.ephemeral(channel, identity.user_id, answer)


def register(app: AsyncApp, bot: SlackBot) -> None:
    @app.command("/imagine-settings")
    async def on_command(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        await bot.run(command, open_settings(bot, command))

    @app.view(blocks.SETTINGS_MODAL)
    async def on_view(ack: Any, view: dict[str, Any], body: dict[str, Any]) -> None:
        await ack()
        await bot.run(body, on_settings_submit(bot, view, body))
