"""Buttons: Re-roll and Edit under every result; "Use suggested prompt" / "Send anyway" under a
refusal. Result buttons carry a job id, checked against the database; each click is a new job
keyed by its trigger id."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from slack_bolt.async_app import AsyncApp

from bots.slack import blocks
from bots.slack.jobs import run_job
from bots.slack.runtime import SlackBot
from core import messages
from core.request import Options
from core.store.store import JobView
from core.types import Identity


def _where(body: dict[str, Any]) -> tuple[str, str | None]:
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    return str(channel), container.get("thread_ts")


async def _who(bot: SlackBot, body: dict[str, Any], channel: str) -> Identity:
    user = body["user"]
    team_id = (body.get("team") or {}).get("id") or user.get("team_id")
    return await bot.identity(str(user["id"]), team_id, channel)


async def _job(bot: SlackBot, value: str, identity: Identity, channel: str) -> JobView | None:
    job_id = value.split(":", 1)[0]
    job = await bot.service.job(int(job_id)) if job_id.isdigit() else None
    if job is None:
        text = messages.text("slack.job_gone", identity.locale)
        await bot.ephemeral(channel, identity.user_id, text)
    return job


async def reroll(bot: SlackBot, body: dict[str, Any], action: dict[str, Any]) -> None:
    channel, thread_ts = _where(body)
    identity = await _who(bot, body, channel)
    job = await _job(bot, str(action.get("value") or ""), identity, channel)
    if job is None:
        return
    key = f"slack:action:{body.get('trigger_id') or action.get('action_ts')}"
    request = bot.service.rebuild(job, identity, idem_key=key)
    await run_job(bot, request, channel, thread_ts)


async def edit_result(bot: SlackBot, body: dict[str, Any], action: dict[str, Any]) -> None:
    channel, thread_ts = _where(body)
    identity = await _who(bot, body, channel)
    value = str(action.get("value") or "")
    if await _job(bot, value, identity, channel) is None:
        return
    file_ids = [f for f in value.partition(":")[2].split(",") if f]
    view = blocks.prompt_modal(identity.locale, channel, file_ids, thread_ts)
    await bot.client.views_open(trigger_id=body["trigger_id"], view=view)


async def retry_refused(bot: SlackBot, body: dict[str, Any], action: dict[str, Any]) -> None:
    channel, thread_ts = _where(body)
    identity = await _who(bot, body, channel)
    data = json.loads(str(action.get("value") or "{}"))
    use_suggestion = action["action_id"] == blocks.USE_SUGGESTION
    prompt = data.get("s") if use_suggestion and data.get("s") else data.get("p", "")
    options = Options(**data.get("o", {}), force=None if use_suggestion else True)
    key = f"slack:action:{body.get('trigger_id') or action.get('action_ts')}"
    request = bot.service.build(prompt, identity, options=options, idem_key=key)
    await run_job(bot, request, channel, thread_ts)


def register(app: AsyncApp, bot: SlackBot) -> None:
    @app.action(blocks.REROLL)
    async def on_reroll(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await bot.run(body, reroll(bot, body, action))

    @app.action(blocks.EDIT)
    async def on_edit(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await bot.run(body, edit_result(bot, body, action))

    async def on_refusal_button(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any
    ) -> None:
        await ack()
        with contextlib.suppress(Exception):  # the hint goes; a second click cannot repeat it
            await respond(delete_original=True)
        await bot.run(body, retry_refused(bot, body, action))

    app.action(blocks.USE_SUGGESTION)(on_refusal_button)
    app.action(blocks.SEND_ANYWAY)(on_refusal_button)
