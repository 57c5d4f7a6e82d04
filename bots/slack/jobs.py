"""Run one job for Slack: a progress message edited in place, then the upload, or the hint.

The progress message is posted on the first progress event (so a duplicate delivery, a quota
refusal or a pre-flight refusal leaves nothing in the channel) and edited at most once per
``SlackBot.progress_interval_s``; the progress callback never waits for Slack, because core's
queue announces positions to every waiter in turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from dataclasses import replace

from slack_sdk.errors import SlackApiError

from bots.slack import blocks, ids
from bots.slack.delivery import deliver_paid, header
from bots.slack.language import LocaleFuture
from bots.slack.mrkdwn import mention
from bots.slack.runtime import SlackBot
from core import messages
from core.errors import DuplicateJob, PixelsmithError, PreflightRefused, Refused
from core.types import ImageRequest, ImageResult, Progress

log = logging.getLogger("pixelsmith.slack")

_BAR = 10


def status(progress: Progress, locale: str, model: str) -> str:
    line = messages.progress(progress, locale, model)
    bar = messages.progress_bar(progress, _BAR, "▓", "░")
    if bar is not None:
        line += "\n" + messages.text(
            "slack.progress_bar", locale, bar=bar, percent=progress.percent
        )
    return line


class ProgressMessage:
    """A progress callback for ``ImageService.run`` that edits one Slack message in place.

    Its edits run in the context it was made in (the job's: its workspace's token), not in the
    caller's: core's queue calls it from its own task to announce a position."""

    def __init__(
        self,
        bot: SlackBot,
        request: ImageRequest,
        channel: str,
        thread_ts: str | None = None,
        locale: LocaleFuture | None = None,
    ) -> None:
        self._bot = bot
        self._request = request
        self._locale = locale or LocaleFuture(request.identity.locale)
        self._channel = channel
        self._thread_ts = thread_ts
        self._latest: Progress | None = None
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._context = contextvars.copy_context()
        self.ts: str | None = None

    async def __call__(self, progress: Progress) -> None:
        self._latest = progress
        self._locale.start()  # the job is claimed: time to ask who is waiting for it
        if self._task is None and not self._stop.is_set():
            self._task = asyncio.create_task(
                self._loop(), name="slack-progress", context=self._context
            )
        self._wake.set()

    async def _loop(self) -> None:
        # A short grace before the first post: a job that ends (or fails) quickly leaves no
        # progress message behind, and a burst of requests does not become a burst of posts.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), self._bot.first_progress_s)
        while not self._stop.is_set():
            await self._wake.wait()
            self._wake.clear()
            if self._stop.is_set() or self._latest is None:
                return
            await self._send(self._latest)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._bot.progress_interval_s)

    async def _send(self, progress: Progress) -> None:
        request = await self._locale.apply(self._request)
        locale = request.identity.locale
        text = f"{header(request)}\n_{status(progress, locale, request.model)}_"
        client = self._bot.client
        try:
            if self.ts is None:
                answer = await client.chat_postMessage(
                    channel=self._channel, text=text, thread_ts=self._thread_ts
                )
                self.ts = str(answer["ts"])
            elif self._bot.edits.take():
                await client.chat_update(channel=self._channel, ts=self.ts, text=text)
        except SlackApiError as exc:  # progress is a courtesy: never fail the job for it
            log.info("progress message failed: %s", exc.response.get("error"))

    async def close(self, *, delete: bool = True) -> str | None:
        """Stop editing; remove the message, or keep it (returns its ts) for the result."""
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            if self.ts is not None:  # an edit in flight (or waiting out a 429) is not needed
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.ts is not None and delete:
            await self._bot.delete(self._channel, self.ts)
            return None
        return self.ts


async def run_job(
    bot: SlackBot,
    request: ImageRequest,
    channel: str,
    thread_ts: str | None = None,
    locale: LocaleFuture | None = None,
) -> ImageResult | None:
    """Run ``request`` and answer in ``channel``; DuplicateJob stays silent.

    ``locale`` (default: the request's) is the language of every text the user sees: the job
    may start before users.info has answered."""
    locale = locale or LocaleFuture(request.identity.locale)
    if await bot.channels.can_post(channel) is False:  # before anything is paid for
        lang = await locale.get()
        who = mention(bot.bot_user_id) if bot.bot_user_id else "@Pixelsmith"
        text = messages.text("slack.not_in_channel", lang, bot=who)
        await bot.ephemeral(channel, request.identity.user_id, text, thread_ts=thread_ts)
        return None
    progress = ProgressMessage(bot, request, channel, thread_ts, locale)
    try:
        result = await bot.service.run(request, progress)
    except DuplicateJob:
        await progress.close()
        return None
    except PixelsmithError as failure:
        await progress.close()
        shown = await locale.apply(request)
        await tell_refusal_or_failure(bot, failure, shown, channel, thread_ts)
        return None
    except BaseException:
        await progress.close()
        raise
    if request.images:  # Re-roll sends them again, from any process (ImageService.reroll)
        try:
            await bot.service.keep_inputs(result.job_id, request)
        except Exception as exc:  # a courtesy for a later Re-roll: never withhold the result
            log.warning("inputs of job %s not kept (%s)", result.job_id, type(exc).__name__)
    # The progress message becomes the result's header with its buttons.
    progress_ts = await progress.close(delete=False)
    result = replace(result, request=await locale.apply(result.request))
    await deliver_paid(bot, result, channel, thread_ts, progress_ts)
    return result


async def tell_refusal_or_failure(
    bot: SlackBot,
    failure: PixelsmithError,
    request: ImageRequest,
    channel: str,
    thread_ts: str | None = None,
) -> None:
    identity = request.identity
    text = bot.render(failure, identity)
    controls = None
    if isinstance(failure, PreflightRefused | Refused):
        suggestion = failure.params.get("suggestion") or None
        preflight = isinstance(failure, PreflightRefused)
        token = (
            await bot.service.remember_refused(
                request, ids.REFUSAL_KIND, ttl_s=ids.REFUSAL_TTL_S, suggestion=suggestion
            )
            if suggestion or preflight
            else None
        )
        if token is not None:
            controls = blocks.refusal_controls(
                text, identity.locale, token, suggest=bool(suggestion), preflight=preflight
            )
    await bot.ephemeral(channel, identity.user_id, text, controls, thread_ts)
