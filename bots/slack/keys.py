"""``/imagine-admin key set|show|test|remove``: a workspace's own gateway key (see
:mod:`bots.chat_keys`), for the user ids in ``slack.admin_users`` only.

``set`` opens a modal (``views.open`` at once: a trigger id lasts about 3 s, once) with the key
and an optional gateway address. Its submit is checked again (admin, byok on) and validated
before the ack, so a malformed key or a gateway that is not allowed is shown in the modal
(``response_action: errors``, https://docs.slack.dev/surfaces/modals#displaying_errors); the
key then goes straight to the service: never kept in the view's metadata, never echoed, never
logged. What was saved is answered ephemerally in the channel the command came from.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncApp

from bots import chat_keys
from bots.slack import blocks
from bots.slack.mrkdwn import slack_time
from bots.slack.payload import Origin, metadata, obj, origin, slack_id, text
from bots.slack.runtime import SlackBot
from core import messages
from core.errors import PixelsmithError
from core.keys import KeyProblem, clean_base_url, clean_key
from core.types import Identity

KEY_MODAL = "community_key"
KEY_BLOCK, URL_BLOCK = "key_block", "base_url_block"
TITLE_MAX = 24  # Slack: a modal's title, submit and close are at most 24 characters
PLACEHOLDER_MAX = 150  # ... and a placeholder at most 150


def key_modal(locale: str, channel: str | None, default_url: str) -> dict[str, Any]:
    def field(block_id: str, action_id: str, label: str, **element: Any) -> dict[str, Any]:
        return {
            "type": "input",
            "block_id": block_id,
            "label": blocks.plain(label),
            "element": {"type": "plain_text_input", "action_id": action_id, **element},
        }

    url_hint = messages.text("chat.key.url_hint", locale, default=default_url)
    return {
        "type": "modal",
        "callback_id": KEY_MODAL,
        "title": blocks.plain(messages.text("chat.key.title", locale)[:TITLE_MAX]),
        "submit": blocks.plain(messages.text("slack.settings.save", locale)[:TITLE_MAX]),
        "close": blocks.plain(messages.text("slack.modal.cancel", locale)[:TITLE_MAX]),
        "private_metadata": json.dumps({"c": channel} if channel else {}),
        "blocks": [
            blocks.context(messages.text("chat.key.hint", locale)),
            field(
                KEY_BLOCK,
                chat_keys.KEY_FIELD,
                messages.text("chat.key.label", locale),
                min_length=chat_keys.KEY_MIN,
                max_length=chat_keys.KEY_MAX,
                placeholder=blocks.plain("sk-..."),
            ),
            {
                **field(
                    URL_BLOCK,
                    chat_keys.URL_FIELD,
                    messages.text("chat.key.url_label", locale),
                    max_length=chat_keys.URL_MAX,
                    placeholder=blocks.plain(url_hint[:PLACEHOLDER_MAX]),
                ),
                "optional": True,
            },
        ],
    }


def _typed(view: dict[str, Any], block_id: str, action_id: str) -> str:
    values = obj(obj(obj(view.get("state")).get("values")).get(block_id))
    value = obj(values.get(action_id)).get("value")
    return value if isinstance(value, str) else ""


def _refusal(bot: SlackBot, where: Origin) -> str | None:
    """Why this user may not set a key here, in words (None: they may)."""
    locale = (where.user and bot.cached_locale(where.user)) or "en"
    if where.user is None or not bot.is_admin(where.user):
        return messages.text("slack.admin.denied", locale)
    if not bot.settings.byok.enabled:
        return messages.render(KeyProblem("byok.disabled"), locale)
    return None


async def open_key_form(bot: SlackBot, command: dict[str, Any]) -> None:
    where, trigger = origin(command), text(command.get("trigger_id"), 255)
    if where.user is None or trigger is None:
        await bot.incomplete(where, "/imagine-admin key")
        return
    refused = _refusal(bot, where)
    if refused is not None:
        await bot.ephemeral(where.channel, where.user, refused)
        return
    locale = bot.cached_locale(where.user) or "en"
    view = key_modal(locale, where.channel, bot.settings.provider.base_url)
    await bot.client.views_open(trigger_id=trigger, view=view)


def check_submit(bot: SlackBot, view: dict[str, Any], body: dict[str, Any]) -> dict[str, str]:
    """The modal's errors by block (empty: the submit may be saved). Pure: runs before the ack."""
    where = origin(body)
    locale = (where.user and bot.cached_locale(where.user)) or "en"
    refused = _refusal(bot, where)
    if refused is not None:
        return {KEY_BLOCK: refused[:150]}
    errors: dict[str, str] = {}
    try:
        clean_key(_typed(view, KEY_BLOCK, chat_keys.KEY_FIELD))
    except KeyProblem as bad:
        errors[KEY_BLOCK] = messages.render(bad, locale)[:150]
    try:
        clean_base_url(_typed(view, URL_BLOCK, chat_keys.URL_FIELD), bot.settings, operator=False)
    except KeyProblem as bad:
        errors[URL_BLOCK] = messages.render(bad, locale)[:150]
    return errors


async def save_submit(bot: SlackBot, view: dict[str, Any], body: dict[str, Any]) -> None:
    where = origin(body)
    if where.user is None:
        await bot.incomplete(where, "key submit")
        return
    identity = await bot.identity_of(where)
    channel = where.channel or slack_id(metadata(view).get("c"), "CGD")
    key = _typed(view, KEY_BLOCK, chat_keys.KEY_FIELD)
    base_url = _typed(view, URL_BLOCK, chat_keys.URL_FIELD)
    try:
        answer = await chat_keys.saved(bot.service, identity, key, base_url)
    except PixelsmithError as failure:  # changed meanwhile (byok off, scope)
        answer = bot.render(failure, identity)
    if channel is not None:
        await bot.ephemeral(channel, identity.user_id, answer)


async def key_command(bot: SlackBot, who: Identity, words: list[str]) -> str:
    """``key show|test|remove`` (``set`` opens the form before this is reached)."""
    action = words[1].lower() if len(words) > 1 else "show"
    if action == "test":
        return await chat_keys.test(bot.service, who)
    if action == "remove":
        return await chat_keys.remove(bot.service, who)
    return await chat_keys.show(bot.service, who, slack_time)


def wants_form(command: dict[str, Any]) -> bool:
    words = (text(command.get("text"), 4000) or "").lower().split()
    return words[:2] == ["key", "set"]


def register(app: AsyncApp, bot: SlackBot) -> None:
    @app.view(KEY_MODAL)
    async def on_view(ack: Any, view: dict[str, Any], body: dict[str, Any]) -> None:
        errors = check_submit(bot, view, body)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        await bot.run(body, save_submit(bot, view, body))
