"""/imagine-history: your recent images, each paid-for one with a "Deliver again" button, and
``/imagine-history JOB`` — the kept images of a job handed over again, for free, while the
result store keeps them (``results.keep_days``). The job is looked up for the caller in their
own workspace (the service refuses any other); nothing is charged."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bots.slack import blocks, ids
from bots.slack.delivery import deliver_paid
from bots.slack.home import job_lines
from bots.slack.mrkdwn import mention
from bots.slack.payload import Origin, obj, origin, text
from bots.slack.runtime import SlackBot
from core import messages
from core.errors import PixelsmithError
from core.types import Identity, JobState

RECENT = 5


async def redeliver(bot: SlackBot, identity: Identity, where: Origin, ref: str | None) -> None:
    channel = where.channel
    if ref is None or channel is None:
        await bot.ephemeral(
            channel, identity.user_id, messages.text("slack.button_invalid", identity.locale)
        )
        return
    if await bot.channels.can_post(channel) is False:
        who = mention(bot.bot_user_id) if bot.bot_user_id else "@Pixelsmith"
        note = messages.text("slack.not_in_channel", identity.locale, bot=who)
        await bot.ephemeral(channel, identity.user_id, note)
        return
    try:
        result = await bot.service.redeliver(identity, ref)
    except PixelsmithError as failure:
        await bot.tell_failure(failure, identity, channel)
        return
    await deliver_paid(bot, result, channel, where.thread_ts)


async def history(bot: SlackBot, command: dict[str, Any]) -> None:
    where = origin(command)
    if where.user is None:
        await bot.incomplete(where, "/imagine-history")
        return
    identity = await bot.identity_of(where)
    words = (text(command.get("text")) or "").split()
    if words:
        await redeliver(bot, identity, where, ids.job_ref(words[0]))
        return
    jobs = await bot.service.history(identity, limit=RECENT)
    lines = job_lines(jobs, identity.locale)
    label = messages.text("slack.button.redeliver", identity.locale)
    rows: list[dict[str, Any]] = []
    for job, line in zip(jobs, lines, strict=True):
        row = blocks.section(f"`{ids.job_view_ref(job)}` {line}")
        if job.state == JobState.SUCCEEDED:
            row["accessory"] = blocks.button(blocks.REDELIVER, label, ids.job_view_ref(job))
        rows.append(row)
    if not rows:
        rows = [blocks.section(messages.text("slack.home.none", identity.locale))]
    summary = "\n".join(lines) or messages.text("slack.home.none", identity.locale)
    await bot.ephemeral(where.channel, identity.user_id, summary, rows)


async def on_click(bot: SlackBot, body: dict[str, Any]) -> None:
    where = origin(body)
    if where.user is None or where.channel is None:
        await bot.incomplete(where, "Deliver again click")
        return
    identity = await bot.identity_of(where)
    actions = body.get("actions")
    action = obj(actions[0]) if isinstance(actions, list) and actions else {}
    await redeliver(bot, identity, where, ids.job_ref(action.get("value")))


def register(app: AsyncApp, bot: SlackBot) -> None:
    @app.command("/imagine-history")
    async def on_history(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        await bot.run(command, history(bot, command))

    @app.action(blocks.REDELIVER)
    async def on_redeliver(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        await bot.run(body, on_click(bot, body))
