"""What each command, menu, button and modal does, in terms of core calls.

Each method builds the request inside ``run_job``'s ``make`` step, i.e. after the defer: the
downloads, intake and validation are slow or may fail, and both must happen after Discord got
its answer. Ephemeral answers (/quota, /history, admin) go through :meth:`Actions.answer`.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import discord

from bots.discord import attachments, render
from bots.discord.jobs import idem_key, identity_of, locale_of, run_job, tell
from bots.discord.reply import Reply
from bots.discord.views import PromptModal
from core import messages
from core.charts import chart_title, spend_chart_png
from core.errors import PixelsmithError
from core.request import Options
from core.store.store import JobView
from core.types import Identity, ImageRequest, PreparedImage

if TYPE_CHECKING:
    from bots.discord.app import DiscordAdapter

log = logging.getLogger("pixelsmith.discord")

Work = Callable[[Identity], Awaitable[str]]


def options_of(request: ImageRequest, *, force: bool = False) -> Options:
    """The options of an earlier request, to send it again (suggested prompt, send anyway)."""
    return Options(
        model=request.model,
        size=request.size,
        quality=request.quality,
        n=request.n,
        background=request.background,
        moderation=request.moderation,
        output_format=request.output_format,
        input_fidelity=request.input_fidelity,
        force=force or request.force or None,
    )


def images_in(message: discord.Message | None) -> list[discord.Attachment]:
    found = [a for a in (message.attachments if message else []) if attachments.looks_like_image(a)]
    if not found:
        raise PixelsmithError("discord.no_image_in_message")
    return found


class Actions:
    def __init__(self, adapter: DiscordAdapter) -> None:
        self.adapter = adapter
        self.service = adapter.service
        self.settings = adapter.settings

    def identity(self, interaction: discord.Interaction) -> Identity:
        return identity_of(interaction, self.settings)

    async def prepare(self, files: Sequence[discord.Attachment]) -> tuple[PreparedImage, ...]:
        downloaded = await attachments.download(self.adapter.http, self.settings, files)
        return await self.service.prepare_images(downloaded)

    # -- commands --------------------------------------------------------------------------

    async def imagine(
        self, interaction: discord.Interaction, prompt: str, options: Options
    ) -> None:
        async def make(reply: Reply) -> ImageRequest:
            return self.service.build(
                prompt, self.identity(interaction), options=options, idem_key=idem_key(interaction)
            )

        await run_job(self.adapter, interaction, make)

    async def edit(
        self,
        interaction: discord.Interaction,
        prompt: str,
        files: Sequence[discord.Attachment],
        mask: discord.Attachment | None = None,
        options: Options | None = None,
    ) -> None:
        async def make(reply: Reply) -> ImageRequest:
            images = await self.prepare(files)
            prepared_mask = None
            if mask is not None:
                [raw] = await attachments.download(self.adapter.http, self.settings, [mask])
                prepared_mask = await self.service.prepare_mask(raw, images[0])
            return self.service.build(
                prompt,
                self.identity(interaction),
                options=options,
                images=images,
                mask=prepared_mask,
                idem_key=idem_key(interaction),
            )

        await run_job(self.adapter, interaction, make)

    async def edit_menu(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Message context menu: a modal asks for the prompt (it must be the first response)."""
        try:
            files = images_in(message)
        except PixelsmithError as exc:
            await Reply(interaction, locale_of(interaction)).failure(
                render.failure(exc, locale_of(interaction))
            )
            return
        submit = functools.partial(self._submit_edit, files)
        await interaction.response.send_modal(PromptModal(locale_of(interaction), submit))

    async def _submit_edit(
        self, files: list[discord.Attachment], interaction: discord.Interaction, prompt: str
    ) -> None:
        await self.edit(interaction, prompt, files)

    # -- buttons ----------------------------------------------------------------------------

    async def job_button(self, action: str, job_id: int, interaction: discord.Interaction) -> None:
        if action == "edit":
            submit = functools.partial(self._submit_job_edit, job_id, interaction.message)
            await interaction.response.send_modal(PromptModal(locale_of(interaction), submit))
            return

        async def make(reply: Reply) -> ImageRequest:
            job = await self._job(job_id)
            identity, key = self.identity(interaction), idem_key(interaction)
            if action == "vary":  # variations of the first image of the result message
                images = await self.prepare(images_in(interaction.message)[:1])
                return self.service.rebuild(job, identity, idem_key=key, images=images)
            if job.request.get("edit"):
                sources = self.adapter.sources.get(job_id)
                if sources is None:
                    raise PixelsmithError("discord.sources_gone")
                return self.service.rebuild(job, identity, idem_key=key, images=sources.images)
            return self.service.rebuild(job, identity, idem_key=key)

        await run_job(self.adapter, interaction, make)

    async def _job(self, job_id: int) -> JobView:
        job = await self.service.job(job_id)
        if job is None:
            raise PixelsmithError("discord.job_gone")
        return job

    async def _submit_job_edit(
        self,
        job_id: int,
        message: discord.Message | None,
        interaction: discord.Interaction,
        prompt: str,
    ) -> None:
        async def make(reply: Reply) -> ImageRequest:
            images = await self.prepare(images_in(message)[:1])  # the result's first image
            identity, key = self.identity(interaction), idem_key(interaction)
            job = await self.service.job(job_id)
            if job is None:
                return self.service.build(prompt, identity, images=images, idem_key=key)
            return self.service.rebuild(job, identity, idem_key=key, prompt=prompt, images=images)

        await run_job(self.adapter, interaction, make)

    async def pending_button(
        self, action: str, token: str, interaction: discord.Interaction
    ) -> None:
        pending = self.adapter.pending.get(token)
        if pending is None:
            text = messages.text("discord.expired_button", locale_of(interaction))
            await Reply(interaction, locale_of(interaction)).failure(text)
            return
        earlier = pending.request

        async def make(reply: Reply) -> ImageRequest:
            prompt = pending.suggestion if action == "suggest" and pending.suggestion else None
            return self.service.build(
                prompt or earlier.prompt,
                self.identity(interaction),
                options=options_of(earlier, force=action == "force"),
                images=earlier.images,
                mask=earlier.mask,
                idem_key=idem_key(interaction),
            )

        await run_job(self.adapter, interaction, make)

    # -- ephemeral answers --------------------------------------------------------------------

    async def answer(
        self, interaction: discord.Interaction, work: Work, *, admin_only: bool = False
    ) -> None:
        """Defer ephemerally, then answer with ``work``'s text (or the failure's)."""
        locale = locale_of(interaction)
        reply = Reply(interaction, locale)
        if not await reply.defer(ephemeral=True):
            return
        identity = self.identity(interaction)
        try:
            if admin_only and not identity.is_admin:
                text = messages.text("discord.admin.denied", locale)
            else:
                text = await work(identity)
        except PixelsmithError as exc:
            text = render.failure(exc, locale, admin=identity.is_admin)
        except Exception:
            log.exception("discord command failed")
            text = messages.text("error.internal", locale)
        await tell(reply, text)

    async def chart(self, interaction: discord.Interaction, by: str, days: int) -> None:
        """Admin: the daily spend chart as an ephemeral PNG (the same chart as the CLI's)."""
        locale = locale_of(interaction)
        reply = Reply(interaction, locale)
        if not await reply.defer(ephemeral=True):
            return
        identity = self.identity(interaction)
        if not identity.is_admin:
            await tell(reply, messages.text("discord.admin.denied", locale))
            return
        since = (datetime.now(UTC) - timedelta(days=days)).date()
        try:
            rows = await self.service.daily_spend(since, by)
            png = await spend_chart_png(
                rows, title=chart_title(by, since, locale), by=by, locale=locale
            )
        except Exception:
            log.exception("spend chart failed")
            await tell(reply, messages.text("error.internal", locale))
            return
        await interaction.followup.send(
            file=discord.File(io.BytesIO(png), filename="pixelsmith-spend.png"), ephemeral=True
        )

    async def quota(self, interaction: discord.Interaction) -> None:
        async def work(identity: Identity) -> str:
            return render.quota(await self.service.quota_status(identity), identity.locale)

        await self.answer(interaction, work)

    async def history(self, interaction: discord.Interaction) -> None:
        async def work(identity: Identity) -> str:
            return render.history(await self.service.history(identity), identity.locale)

        await self.answer(interaction, work)
