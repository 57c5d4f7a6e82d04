"""Buttons: Re-roll, Edit, Upscale, Vary (subtle), Vary (strong) under a result (core decides
what the last three send: ``ImageService.finish``); "Use suggested prompt" / "Send anyway" under a
refusal. Every value is parsed strictly and every job looked up for the clicking user's own
workspace (:mod:`bots.slack.ids`) before anything runs; each click is a new job keyed by its
trigger id. The Edit button's modal opens first (a trigger id lasts about 3 s) and is checked
and localized right after."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp

from bots.slack import blocks, ids
from bots.slack.jobs import run_job
from bots.slack.modals import open_then_check
from bots.slack.payload import Origin, obj, origin, text
from bots.slack.runtime import SlackBot
from core import finishing, messages
from core.types import Identity

log = logging.getLogger("pixelsmith.slack")


async def _clicker(bot: SlackBot, body: dict[str, Any]) -> tuple[Origin, Identity] | None:
    where = origin(body)
    if where.user is None or where.channel is None:
        await bot.incomplete(where, "button click")
        return None
    return where, await bot.identity_of(where)


async def invalid(bot: SlackBot, identity: Identity, channel: str | None) -> None:
    text = messages.text("slack.button_invalid", identity.locale)
    await bot.ephemeral(channel, identity.user_id, text)


def _key(body: dict[str, Any], action: dict[str, Any]) -> str:
    return f"slack:action:{text(body.get('trigger_id'), 255) or text(action.get('action_ts'))}"


async def reroll(bot: SlackBot, body: dict[str, Any], action: dict[str, Any]) -> None:
    clicked = await _clicker(bot, body)
    if clicked is None:
        return
    where, identity = clicked
    parsed = ids.parse_result_value(action.get("value"))
    job = await ids.job_for(bot.service, identity, parsed[0]) if parsed else None
    if job is None:
        await invalid(bot, identity, where.channel)
        return
    request = bot.service.rebuild(job, identity, idem_key=_key(body, action))
    await run_job(bot, request, str(where.channel), where.thread_ts)


# The finishing buttons (core/finishing.py), by action id.
FINISHING = {
    blocks.UPSCALE: finishing.UPSCALE,
    blocks.UPSCALE_GO: finishing.UPSCALE,
    blocks.VARY_SUBTLE: finishing.VARY_SUBTLE,
    blocks.VARY_STRONG: finishing.VARY_STRONG,
}


async def finish_move(
    bot: SlackBot, body: dict[str, Any], action: dict[str, Any], prompt: str | None = None
) -> None:
    """Upscale / Vary under a result, for the clicker's own workspace only. An Upscale that
    costs more than a normal image first shows its estimate (ephemeral) with a button to go
    ahead; ``prompt`` None keeps the job's own."""
    clicked = await _clicker(bot, body)
    if clicked is None:
        return
    where, identity = clicked
    ref = ids.job_ref(action.get("value"))
    job = await ids.job_for(bot.service, identity, ref) if ref else None
    move = FINISHING.get(str(action.get("action_id")))
    if job is None or move is None:
        await invalid(bot, identity, where.channel)
        return
    if action.get("action_id") == blocks.UPSCALE:
        quote = await bot.service.upscale_quote(job, prompt=prompt)
        if quote.needs_confirmation:
            locale, estimate = identity.locale, quote.estimate_micros / 1_000_000
            text = messages.text(
                "finish.confirm_upscale",
                locale,
                size=quote.size,
                estimate=estimate,
                normal=quote.normal_micros / 1_000_000,
            )
            controls = blocks.upscale_confirm(text, job.public_id, locale, estimate)
            await bot.ephemeral(
                where.channel, identity.user_id, text, controls, thread_ts=where.thread_ts
            )
            return
    key = _key(body, action)
    request = await bot.service.finish(job, identity, move, idem_key=key, prompt=prompt)
    await run_job(bot, request, str(where.channel), where.thread_ts)


async def edit_result(bot: SlackBot, body: dict[str, Any], action: dict[str, Any]) -> None:
    """Open the prompt modal at once; then check the job (the modal says so if it is not
    valid) and show the modal in the user's language."""
    where = origin(body)
    trigger = text(body.get("trigger_id"), 255)
    parsed = ids.parse_result_value(action.get("value"))
    if where.user is None or where.channel is None or trigger is None:
        await bot.incomplete(where, "Edit click")
        return
    ref, file_ids = parsed or ("", [])

    def build(locale: str) -> dict[str, Any]:
        return blocks.prompt_modal(locale, str(where.channel), file_ids, where.thread_ts, ref)

    async def check(identity: Identity) -> bool:
        return parsed is not None and await ids.job_for(bot.service, identity, ref) is not None

    await open_then_check(bot, trigger, where, build, check)


async def retry_refused(bot: SlackBot, body: dict[str, Any], action: dict[str, Any]) -> None:
    clicked = await _clicker(bot, body)
    if clicked is None:
        return
    where, identity = clicked
    parsed = ids.parse_retry_value(action.get("value"))
    if parsed is None:
        await invalid(bot, identity, where.channel)
        return
    prompt, options, suggestion = parsed
    use_suggestion = action.get("action_id") == blocks.USE_SUGGESTION
    if use_suggestion and suggestion:
        prompt = suggestion
    options = replace(options, force=None if use_suggestion else True)
    request = bot.service.build(prompt, identity, options=options, idem_key=_key(body, action))
    await run_job(bot, request, str(where.channel), where.thread_ts)


def _action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions")
    return obj(actions[0]) if isinstance(actions, list) and actions else {}


def register(app: AsyncApp, bot: SlackBot) -> None:
    @app.action(blocks.REROLL)
    async def on_reroll(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        await bot.run(body, reroll(bot, body, _action(body)))

    @app.action(blocks.EDIT)
    async def on_edit(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        await bot.run(body, edit_result(bot, body, _action(body)))

    async def on_refusal_button(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        with contextlib.suppress(Exception):  # the hint goes; a second click cannot repeat it
            await respond(delete_original=True)
        await bot.run(body, retry_refused(bot, body, _action(body)))

    app.action(blocks.USE_SUGGESTION)(on_refusal_button)
    app.action(blocks.SEND_ANYWAY)(on_refusal_button)

    async def on_finishing_button(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        if _action(body).get("action_id") == blocks.UPSCALE_GO:
            with contextlib.suppress(Exception):  # the estimate goes; a second click cannot
                await respond(delete_original=True)
        await bot.run(body, finish_move(bot, body, _action(body)))

    for action_id in FINISHING:
        app.action(action_id)(on_finishing_button)
