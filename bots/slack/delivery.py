"""Delivering what was paid for.

Before a job is paid for, ``SlackBot.channels`` (:mod:`bots.slack.channels`) checks that the
bot can post the result where it was asked. After payment, :func:`deliver_paid` retries transient failures (HTTP 5xx or 429, Slack's
``internal_error``/``fatal_error``/``service_unavailable``/``request_timeout``, network errors)
with backoff; a permanent one tells the user plainly that the image was made and charged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError

from bots.slack import blocks
from bots.slack.ids import public_ref
from bots.slack.mrkdwn import escape, mention
from bots.slack.runtime import SlackBot
from bots.slack.web import web_on
from core import messages
from core.packing import UploadLimits, pack_outputs
from core.types import ImageRequest, ImageResult

log = logging.getLogger("pixelsmith.slack")

# Slack's real cap is 1 GB per file; ten files show in one message.
SLACK_LIMITS = UploadLimits(max_file_bytes=1024**3, max_files_per_message=10)
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def header(request: ImageRequest) -> str:
    prompt = escape(request.prompt if len(request.prompt) <= 300 else request.prompt[:299] + "…")
    who = mention(request.identity.user_id)
    return messages.text(
        "result.header", request.identity.locale, prompt=prompt, model=request.model, who=who
    )


def transient(exc: BaseException) -> bool:
    if isinstance(exc, SlackApiError):
        status = int(getattr(exc.response, "status_code", 200) or 200)
        return status >= 500 or status == 429 or exc.response.get("error") in TRANSIENT_ERRORS
    return isinstance(exc, SlackRequestError | aiohttp.ClientError | TimeoutError)


def error_name(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or "error")
    return "upload" if isinstance(exc, SlackRequestError) else "network"


async def deliver_paid(
    bot: SlackBot,
    result: ImageResult,
    channel: str,
    thread_ts: str | None = None,
    header_ts: str | None = None,
) -> bool:
    """Deliver a paid-for result, retrying transient failures; False (and the user told) when
    Slack will not take it."""
    for attempt, pause in enumerate((*bot.delivery_backoff_s, None)):
        try:
            await deliver(bot, result, channel, thread_ts, header_ts)
            return True
        except (SlackApiError, SlackRequestError, aiohttp.ClientError, TimeoutError) as exc:
            error = error_name(exc)
            if pause is None or not transient(exc):
                break
            log.info("delivering job %s failed (%s), try %d", result.job_id, error, attempt + 1)
            await asyncio.sleep(pause)
    log.warning("delivering job %s failed: %s", result.job_id, error)
    if error == "not_in_channel":
        bot.channels.forget(channel)
    if header_ts is not None:
        await bot.delete(channel, header_ts)
    identity = result.request.identity
    text = messages.text("slack.upload_failed", identity.locale, error=error, cost=result.cost_usd)
    keep_days = bot.settings.results.keep_days
    if keep_days > 0 and result.public_id:  # the result store has it: say how to get it
        days = int(keep_days) if float(keep_days).is_integer() else keep_days
        hint = messages.text(
            "slack.redeliver_hint", identity.locale, job=result.public_id, days=days
        )
        text = f"{text}\n{hint}"
    await bot.ephemeral(channel, identity.user_id, text, thread_ts=thread_ts)
    return False


def _quota_line(result: ImageResult, locale: str) -> str | None:
    left = result.quota_left
    if left is None or (left.images_today is None and left.usd_today is None):
        return None
    unlimited = messages.text("status.unlimited", locale)
    images = unlimited if left.images_today is None else left.images_today
    usd = unlimited if left.usd_today is None else f"{left.usd_today:.2f}"
    return messages.text("result.quota_left", locale, images_today=images, usd_today=usd)


def comment(result: ImageResult, notes: list[Any]) -> str:
    """Prompt, requester, cost, quota left and notes, for the upload's initial comment."""
    locale = result.request.identity.locale
    cost_key = "result.cost_demo" if result.demo else "result.cost"
    lines = [header(result.request), messages.text(cost_key, locale, cost=result.cost_usd)]
    quota = _quota_line(result, locale)
    if quota:
        lines.append(quota)
    lines += [messages.note(n, locale) for n in [*result.notes, *notes]]
    return "\n".join(lines)


async def deliver(
    bot: SlackBot,
    result: ImageResult,
    channel: str,
    thread_ts: str | None = None,
    header_ts: str | None = None,
) -> list[str]:
    """Upload the images (several per call) with the comment, then show the Re-roll/Edit
    buttons: in the progress message ``header_ts`` if there is one, else in a new message."""
    batches, notes = await pack_outputs(result.images, SLACK_LIMITS, stem="pixelsmith")
    text = comment(result, notes)
    file_ids: list[str] = []
    for index, batch in enumerate(batches):
        uploads = [{"file": f.data, "filename": f.filename, "title": f.filename} for f in batch]
        answer = await bot.client.files_upload_v2(
            file_uploads=uploads,
            channel=channel,
            thread_ts=thread_ts,
            initial_comment=text if index == 0 else None,
        )
        file_ids += [str(f["id"]) for f in answer.get("files") or []]
    locale = result.request.identity.locale
    summary = messages.text(
        "result.cost_demo" if result.demo else "result.cost", locale, cost=result.cost_usd
    )
    region = web_on(bot, result.request.identity)
    controls = blocks.result_controls(
        public_ref(result), file_ids, locale, summary, region=region, moves=result.moves
    )
    text = header(result.request)
    if header_ts is not None:
        try:
            await bot.client.chat_update(channel=channel, ts=header_ts, text=text, blocks=controls)
            return file_ids
        except SlackApiError as exc:  # e.g. deleted meanwhile: post the buttons anew
            log.info("could not turn progress into the result: %s", exc.response.get("error"))
    await bot.client.chat_postMessage(
        channel=channel, thread_ts=thread_ts, text=text, blocks=controls
    )
    return file_ids
