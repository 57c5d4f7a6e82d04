"""Buttons: Re-roll, Edit, Upscale, Vary (subtle), Vary (strong) under a result (core decides
what the last three send: ``ImageService.finish``); "Use suggested prompt" / "Send anyway" under a
refusal. Every value is parsed strictly and every job looked up for the clicking user's own
workspace (:mod:`bots.slack.ids`) before anything runs; each click is a new job keyed by its
trigger id. The Edit button's modal opens first (a trigger id lasts about 3 s) and is checked
and localized right after."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bots.slack import blocks, ids
from bots.slack.jobs import run_job
from bots.slack.modals import open_then_check
from bots.slack.payload import Origin, metadata, obj, origin, text
from bots.slack.runtime import SlackBot
from core import finishing, messages
from core.preferences import Preferences
from core.types import Identity

log = logging.getLogger("pixelsmith.slack")


Done = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


async def _clicker(
    bot: SlackBot, body: dict[str, Any]
) -> tuple[Origin, Identity, Preferences] | None:
    """Who clicked, with their settings (a database read: no Slack call before a remix modal
    may need the trigger id). The language is the member's setting, else the cached one; a
    click that does not open a modal asks Slack with :func:`_settled`."""
    where = origin(body)
    if where.user is None or where.channel is None:
        await bot.incomplete(where, "button click")
        return None
    soon, _ = bot.identity_soon(where.user, where.team, where.channel, org_id=where.enterprise)
    identity, _, prefs = await bot.member(soon)
    return where, identity, prefs


async def _settled(bot: SlackBot, identity: Identity, prefs: Preferences) -> Identity:
    """``identity`` in its final language: the member's setting, else Slack's (users.info)."""
    if prefs.language:
        return identity
    return replace(identity, locale=await bot.locale(identity.user_id))


async def remix_or_start(
    bot: SlackBot,
    body: dict[str, Any],
    where: Origin,
    identity: Identity,
    prefs: Preferences,
    prompt: str,
    meta: dict[str, Any],
) -> bool:
    """With the member's remix setting on, open the modal pre-filled with ``prompt`` (first:
    the trigger id works once, for about 3 s) and return True; its submit starts the job
    (:func:`on_remix_submit`). ``meta`` names the button and job (private_metadata, checked
    again on submit). False: start the job now."""
    trigger = text(body.get("trigger_id"), 255)
    if not prefs.remix or trigger is None:
        return False
    meta = {**meta, "c": where.channel, **({"t": where.thread_ts} if where.thread_ts else {})}
    answer = await bot.client.views_open(
        trigger_id=trigger, view=blocks.remix_modal(identity.locale, prompt, meta)
    )
    shown = await _settled(bot, identity, prefs)
    opened = obj(answer.get("view"))
    view_id, view_hash = text(opened.get("id"), 64), text(opened.get("hash"), 64)
    if shown.locale != identity.locale and view_id is not None:
        try:  # the same block and action ids: what the member typed meanwhile stays
            view = blocks.remix_modal(shown.locale, prompt, meta)
            await bot.client.views_update(view_id=view_id, hash=view_hash, view=view)
        except SlackApiError as exc:
            log.info("could not update the remix modal: %s", exc.response.get("error"))
    return True


async def invalid(bot: SlackBot, identity: Identity, channel: str | None) -> None:
    text = messages.text("slack.button_invalid", identity.locale)
    await bot.ephemeral(channel, identity.user_id, text)


def _key(body: dict[str, Any], action: dict[str, Any]) -> str:
    return f"slack:action:{text(body.get('trigger_id'), 255) or text(action.get('action_ts'))}"


async def reroll(
    bot: SlackBot, body: dict[str, Any], action: dict[str, Any], prompt: str | None = None
) -> None:
    clicked = await _clicker(bot, body)
    if clicked is None:
        return
    where, identity, prefs = clicked
    parsed = ids.parse_result_value(action.get("value"))
    job = await ids.job_for(bot.service, identity, parsed[0]) if parsed else None
    if job is None:
        await invalid(bot, await _settled(bot, identity, prefs), where.channel)
        return
    meta = {"a": blocks.REROLL, "j": job.public_id}
    if prompt is None and await remix_or_start(bot, body, where, identity, prefs, job.prompt, meta):
        return
    identity = await _settled(bot, identity, prefs)
    # an edit sends its kept images, mask and sketch again (or says they are gone)
    request = await bot.service.reroll(job, identity, idem_key=_key(body, action), prompt=prompt)
    await run_job(bot, request, str(where.channel), where.thread_ts)


# The finishing buttons (core/finishing.py), by action id.
FINISHING = {
    blocks.UPSCALE: finishing.UPSCALE,
    blocks.UPSCALE_GO: finishing.UPSCALE,
    blocks.VARY_SUBTLE: finishing.VARY_SUBTLE,
    blocks.VARY_STRONG: finishing.VARY_STRONG,
}


async def finish_move(
    bot: SlackBot,
    body: dict[str, Any],
    action: dict[str, Any],
    prompt: str | None = None,
    done: Done = _nothing,
) -> None:
    """Upscale / Vary under a result, for the clicker's own workspace only. An Upscale that
    costs more than a normal image first shows its estimate (ephemeral) with a button to go
    ahead (with remix on, that button asks for the prompt); ``prompt`` None keeps the job's
    own. ``done``: what to do once the click is used (remove the estimate)."""
    clicked = await _clicker(bot, body)
    if clicked is None:
        return
    where, identity, prefs = clicked
    ref = ids.job_ref(action.get("value"))
    job = await ids.job_for(bot.service, identity, ref) if ref else None
    action_id = str(action.get("action_id"))
    move = FINISHING.get(action_id)
    if job is None or move is None:
        await invalid(bot, await _settled(bot, identity, prefs), where.channel)
        return
    if action_id == blocks.UPSCALE:
        quote = await bot.service.upscale_quote(job, prompt=prompt)
        if quote.needs_confirmation and prompt is None:
            identity = await _settled(bot, identity, prefs)
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
    meta = {"a": action_id, "j": job.public_id}
    if prompt is None and await remix_or_start(bot, body, where, identity, prefs, job.prompt, meta):
        await done()
        return
    await done()
    identity = await _settled(bot, identity, prefs)
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


async def retry_refused(
    bot: SlackBot,
    body: dict[str, Any],
    action: dict[str, Any],
    remixed: str | None = None,
    done: Done = _nothing,
) -> None:
    """Use suggested prompt / Send anyway (``remixed``: the prompt the remix modal sent): the
    refused request the button's token names, for the member it refused only."""
    clicked = await _clicker(bot, body)
    if clicked is None:
        return
    where, identity, prefs = clicked
    token = ids.refusal_token(action.get("value"))
    earlier = await bot.service.recall(identity, ids.REFUSAL_KIND, token) if token else None
    if token is None or earlier is None:
        await done()
        await invalid(bot, await _settled(bot, identity, prefs), where.channel)
        return
    use_suggestion = action.get("action_id") == blocks.USE_SUGGESTION
    suggestion = earlier.payload.get("suggestion")
    prompt = suggestion if use_suggestion and isinstance(suggestion, str) else earlier.prompt
    if remixed is None:
        meta = {"a": str(action.get("action_id")), "r": token}
        if await remix_or_start(bot, body, where, identity, prefs, prompt, meta):
            await done()
            return
    await done()
    identity = await _settled(bot, identity, prefs)
    request = bot.service.build(
        remixed if remixed is not None else prompt,
        identity,
        options=earlier.options(force=not use_suggestion),
        images=earlier.images,
        mask=earlier.mask,
        markup=earlier.markup,
        idem_key=_key(body, action),
    )
    await run_job(bot, request, str(where.channel), where.thread_ts)


async def on_remix_submit(bot: SlackBot, view: dict[str, Any], body: dict[str, Any]) -> None:
    """The remix modal's submit: the button it stands for, with the prompt as changed. The
    job is looked up again for the submitter's own workspace, exactly as a click would be."""
    meta = metadata(view)
    values = obj(obj(view.get("state")).get("values"))
    prompt = text(obj(obj(values.get(blocks.PROMPT_BLOCK)).get(blocks.PROMPT_INPUT)).get("value"))
    action_id = text(meta.get("a"), 32) or ""
    key = f"{text(view.get('id'), 64)}+{text(view.get('hash'), 64) or ''}"
    # the click this submit finishes, as the button handlers read it (keyed by the view)
    body = {**body, "trigger_id": f"view:{key}"}
    action: dict[str, Any] = {"action_id": action_id}
    if action_id in (blocks.USE_SUGGESTION, blocks.SEND_ANYWAY):
        action["value"] = meta.get("r")  # the refused request, found again for the submitter
        await retry_refused(bot, body, action, remixed=prompt or "")
        return
    ref = ids.job_ref(meta.get("j")) or ""
    if action_id == blocks.REROLL:
        action["value"] = ref
        await reroll(bot, body, action, prompt=prompt or "")
    elif action_id in FINISHING:
        action["value"] = ref
        await finish_move(bot, body, action, prompt=prompt or "")
    else:
        where = origin(body)
        if where.user is not None:
            await invalid(bot, await bot.identity_of(where), where.channel)


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

    def remover(respond: Any) -> Done:
        async def remove() -> None:
            with contextlib.suppress(Exception):  # the hint goes; a second click cannot repeat it
                await respond(delete_original=True)

        return remove

    async def on_refusal_button(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await bot.run(body, retry_refused(bot, body, _action(body), done=remover(respond)))

    app.action(blocks.USE_SUGGESTION)(on_refusal_button)
    app.action(blocks.SEND_ANYWAY)(on_refusal_button)

    async def on_finishing_button(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        action = _action(body)
        # the estimate goes once its button is used (after a remix modal opened: the trigger first)
        done = remover(respond) if action.get("action_id") == blocks.UPSCALE_GO else _nothing
        await bot.run(body, finish_move(bot, body, action, done=done))

    for action_id in FINISHING:
        app.action(action_id)(on_finishing_button)

    @app.view(blocks.REMIX_MODAL)
    async def on_remix(ack: Any, view: dict[str, Any], body: dict[str, Any]) -> None:
        await ack()
        await bot.run(body, on_remix_submit(bot, view, body))
