"""One image job for one interaction: check, defer, run through core, deliver or explain.

Before anything is paid for, the bot's permissions in the channel are checked
(:mod:`bots.discord.permissions`); a refusal names the permission to grant and costs nothing.

The idempotency key is ``discord:interaction:<id>``: when two bot processes receive the same
interaction, the one whose defer loses (40060) stays silent, and core's claim of the key turns any
other duplicate into ``DuplicateJob`` (also silent), so one interaction is one job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import discord

from bots.discord import permissions, render, views, web
from bots.discord.delivery import DeliveryFailed, Retry, deliver, token_deadline
from bots.discord.identity import identity_of, locale_of
from bots.discord.progress import ProgressReporter
from bots.discord.reply import Reply, tell
from core import incidents
from core.config import Settings
from core.errors import DuplicateJob, PixelsmithError, PreflightRefused, Refused
from core.pacing import TokenBucket
from core.preferences import Preferences
from core.service import ImageService
from core.types import ImageRequest, ImageResult

log = logging.getLogger("pixelsmith.discord")

RequestMaker = Callable[[Reply], Awaitable[ImageRequest]]
PREFS_WAIT_S = 1.0  # at most this of Discord's 3 s goes to reading the member's settings
ResultMaker = Callable[[], Awaitable[ImageResult]]


class JobRunner:
    """Runs image jobs for the cogs; owns nothing but what a job needs."""

    def __init__(
        self,
        service: ImageService,
        settings: Settings,
        *,
        budget: TokenBucket,
        progress_interval: float,
        retry: Retry,
    ) -> None:
        self.service = service
        self.settings = settings
        self.budget = budget
        self.progress_interval = progress_interval
        self.retry = retry

    async def preferences(self, interaction: discord.Interaction) -> Preferences:
        """The clicker's /settings, looked up within :data:`PREFS_WAIT_S` (Discord wants its
        answer within 3 s, and the private setting decides that answer): a slow or failing
        lookup means the defaults, never a missed deadline."""
        identity = identity_of(interaction, self.settings)
        try:
            return await asyncio.wait_for(self.service.preferences(identity), PREFS_WAIT_S)
        except Exception as exc:  # TimeoutError or the database: the job goes on without them
            log.warning("preferences lookup failed (%s); using the defaults", type(exc).__name__)
            return Preferences()

    async def run(self, interaction: discord.Interaction, make: RequestMaker) -> None:
        """Check, defer, build the request (``make``), run it, deliver; every failure replies.
        The member's settings choose the language and whether the answer is private; ``make``
        finds them on ``reply.prefs``."""
        ticket = self.service.acks.arrived()  # answered by the defer (core.pacing.AckFirst)
        try:
            prefs = await self.preferences(interaction)
            reply = Reply(interaction, prefs.locale(locale_of(interaction)))
            reply.prefs = prefs
            if missing := permissions.missing(interaction):
                log.info("refused before paying: missing %s", ", ".join(missing))
                await tell(reply, render.missing_permissions(missing, reply.locale))
                return
            if not await reply.defer(private=prefs.private):
                return
        finally:
            self.service.acks.answered(ticket)
        await self.service.acks.turn()  # the defers of interactions already here go out first
        request: ImageRequest | None = None
        try:
            request = await make(reply)
            result = await self._run(reply, request)
        except DuplicateJob:
            await reply.discard()  # another delivery of this interaction owns the job
            return
        except PixelsmithError as exc:
            await self.explain(reply, exc, request)
            return
        except Exception as exc:
            await tell(reply, incidents.incident_text(exc, reply.locale, "a Discord job"))
            return
        if request.images:  # Re-roll sends them again, from any process (ImageService.reroll)
            await self._keep_inputs(result, request)
        await self._deliver(reply, result, interaction)

    async def _keep_inputs(self, result: ImageResult, request: ImageRequest) -> None:
        try:
            await self.service.keep_inputs(result.job_id, request)
        except Exception as exc:  # a courtesy for a later Re-roll: never withhold a paid result
            log.warning("inputs of job %s not kept (%s)", result.job_id, type(exc).__name__)

    async def again(self, interaction: discord.Interaction, produce: ResultMaker) -> None:
        """A ready result (a free re-delivery) posted like a new one; failures reply ephemerally."""
        reply = Reply(interaction, locale_of(interaction))
        if missing := permissions.missing(interaction):
            await tell(reply, render.missing_permissions(missing, reply.locale))
            return
        if not await reply.defer():
            return
        try:
            result = await produce()
        except PixelsmithError as exc:
            await tell(reply, render.failure(exc, reply.locale))
            return
        try:
            await deliver(
                reply,
                result,
                interaction.filesize_limit,
                retry=self.retry,
                deadline=token_deadline(interaction),
            )
        except DeliveryFailed as exc:
            log.warning("re-delivery of job %s failed: %s", result.job_id, exc.reason)
            if exc.sent:
                reply.public = False  # the original carries results now: never delete it
            await tell(reply, render.again_failed(exc.reason, reply.locale))

    async def _run(self, reply: Reply, request: ImageRequest) -> ImageResult:
        reporter = ProgressReporter(
            reply,
            model=request.model,
            prompt=request.prompt,
            interval=self.progress_interval,
            budget=self.budget,
            max_preview_bytes=reply.interaction.filesize_limit,
        )
        try:
            return await self.service.run(request, reporter)
        finally:
            await reporter.close()

    async def _deliver(
        self, reply: Reply, result: ImageResult, interaction: discord.Interaction
    ) -> None:
        """After payment: deliver, or say plainly that the image was made and charged."""
        sent = 0
        try:
            await deliver(
                reply,
                result,
                interaction.filesize_limit,
                retry=self.retry,
                deadline=token_deadline(interaction),
                region=web.web_on(self.settings),
            )
            return
        except DeliveryFailed as exc:
            reason, sent = exc.reason, exc.sent
            log.warning("job %s paid but not delivered: %s", result.job_id, reason)
        except Exception as exc:
            reason, sent = "other", 1  # unknown: keep whatever was posted
            incidents.report(exc, f"delivering Discord job {result.job_id}")
        if sent:
            reply.public = False  # the original carries results now: never delete it
        kept = self.settings.results.keep_days > 0
        await tell(reply, render.undelivered(result, reason, reply.locale, kept=kept))

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
                token = await self.service.remember_refused(
                    request, views.PENDING_KIND, ttl_s=views.PENDING_TTL_S, suggestion=suggestion
                )
                if token is not None:
                    view = views.refusal_view(
                        token, reply.locale, suggest=bool(suggestion), force=force
                    )
        await tell(reply, text, view)
