"""One image job for one interaction: defer, run through core, deliver or explain.

The idempotency key is ``discord:interaction:<id>``: when two bot processes receive the same
interaction, the one whose defer loses (40060) stays silent, and core's claim of the key turns any
other duplicate into ``DuplicateJob`` (also silent), so one interaction is one job.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import discord

from bots.discord import render, views
from bots.discord.identity import locale_of
from bots.discord.memory import PendingRequests, SourceCache, Sources
from bots.discord.progress import EditBudget, ProgressReporter
from bots.discord.reply import Reply, tell
from core import messages
from core.config import Settings
from core.errors import DuplicateJob, PixelsmithError, PreflightRefused, Refused
from core.packing import UploadLimits, pack_outputs, repack_smaller
from core.service import ImageService
from core.types import ImageRequest, ImageResult

log = logging.getLogger("pixelsmith.discord")

MAX_FILES_PER_MESSAGE = 10
MAX_MESSAGE_BYTES = 25 * 1024 * 1024 - 256 * 1024  # margin for the multipart envelope
REPACKS = 3
TOO_LARGE = 40005

RequestMaker = Callable[[Reply], Awaitable[ImageRequest]]


class JobRunner:
    """Runs image jobs for the cogs; owns nothing but what a job needs."""

    def __init__(
        self,
        service: ImageService,
        settings: Settings,
        *,
        pending: PendingRequests,
        sources: SourceCache,
        budget: EditBudget,
        progress_interval: float,
    ) -> None:
        self.service = service
        self.settings = settings
        self.pending = pending
        self.sources = sources
        self.budget = budget
        self.progress_interval = progress_interval

    async def run(self, interaction: discord.Interaction, make: RequestMaker) -> None:
        """Defer, build the request (``make``), run it, deliver; every failure replies."""
        reply = Reply(interaction, locale_of(interaction))
        if not await reply.defer():
            return
        request: ImageRequest | None = None
        try:
            request = await make(reply)
            result = await self._run(reply, request)
            if request.images:
                self.sources.put(result.job_id, Sources(request.images, request.mask))
            await deliver(reply, result, interaction.filesize_limit)
        except DuplicateJob:
            await reply.discard()  # another delivery of this interaction owns the job
        except PixelsmithError as exc:
            await self.explain(reply, exc, request)
        except Exception:
            log.exception("discord job failed")
            await tell(reply, messages.text("error.internal", reply.locale))

    async def _run(self, reply: Reply, request: ImageRequest) -> ImageResult:
        reporter = ProgressReporter(
            reply,
            model=request.model,
            prompt=request.prompt,
            interval=self.progress_interval,
            budget=self.budget,
        )
        try:
            return await self.service.run(request, reporter)
        finally:
            await reporter.close()

    async def explain(
        self, reply: Reply, exc: PixelsmithError, request: ImageRequest | None
    ) -> None:
        """The failure's sentence, ephemeral, with the refusal buttons when they can help."""
        identity = request.identity if request is not None else None
        text = render.failure(
            exc,
            reply.locale,
            admin=bool(identity and identity.is_admin),
            base_url=self.settings.provider.base_url,
        )
        view = None
        if request is not None and isinstance(exc, PreflightRefused | Refused):
            suggestion = exc.params.get("suggestion") or None
            force = isinstance(exc, PreflightRefused)
            if suggestion or force:
                token = self.pending.add(request, suggestion)
                view = views.refusal_view(
                    token, reply.locale, suggest=bool(suggestion), force=force
                )
        await tell(reply, text, view)


def upload_limits(filesize_limit: int) -> UploadLimits:
    return UploadLimits(
        max_file_bytes=filesize_limit,
        max_files_per_message=MAX_FILES_PER_MESSAGE,
        max_message_bytes=MAX_MESSAGE_BYTES,
    )


def _too_large(exc: discord.HTTPException) -> bool:
    return exc.status == 413 or exc.code == TOO_LARGE


async def deliver(reply: Reply, result: ImageResult, filesize_limit: int) -> None:
    """Header + images split to Discord's limits; after a 413, re-pack what is left smaller."""
    images, limits, sent = list(result.images), upload_limits(filesize_limit), 0
    batches, notes = await pack_outputs(images, limits)
    requester = render.mention(reply.requester)
    for attempt in range(REPACKS + 1):
        try:
            for batch in batches:
                first = sent == 0
                header = render.result_header(result, reply.locale, requester, notes)
                view = views.result_view(str(result.job_id), reply.locale) if first else None
                await reply.send_batch(header if first else None, batch, view, first=first)
                sent += len(batch)
            return
        except discord.HTTPException as exc:
            if not _too_large(exc) or attempt == REPACKS:
                raise
            log.info("upload refused as too large; re-packing %d images", len(images) - sent)
            batches, more, limits = await repack_smaller(images[sent:], limits)
            notes = [*notes, *more]
