"""/imagine, /edit, the "Edit image" message menu, and the buttons and modals under results.

Each request is built inside the job runner's ``make`` step, i.e. after the defer: downloads,
intake and validation are slow or may fail, and both must happen after Discord got its answer.
Button clicks arrive as bot events (see :mod:`bots.discord.views`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bots.discord import attachments, render
from bots.discord.attachments import Downloads
from bots.discord.choices import (
    ASPECT_CHOICES,
    BACKGROUND_CHOICES,
    QUALITY_CHOICES,
    Choice,
    matching,
    t,
    value_of,
)
from bots.discord.identity import idem_key, identity_of, locale_of
from bots.discord.jobs import JobRunner
from bots.discord.reply import Reply
from bots.discord.views import JOB_CLICK, PENDING_CLICK, PromptModal
from core import messages
from core.errors import PixelsmithError
from core.request import Options
from core.service import ImageService
from core.store.store import JobView
from core.types import Identity, ImageRequest, PreparedImage


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


class ImagineCog(commands.Cog):
    def __init__(self, jobs: JobRunner, downloads: Downloads) -> None:
        self.jobs = jobs
        self.service: ImageService = jobs.service
        self.settings = jobs.settings
        self.downloads = downloads
        # Context menus cannot be methods of a cog: the bot adds this one to its tree.
        self.edit_menu = app_commands.ContextMenu(
            name=t("discord.cmd.edit_menu"), callback=self.on_edit_menu
        )

    def identity(self, interaction: discord.Interaction) -> Identity:
        return identity_of(interaction, self.settings)

    async def prepare(self, files: Sequence[discord.Attachment]) -> tuple[PreparedImage, ...]:
        return await self.service.prepare_images(await self.downloads.fetch(files))

    async def _models(self, current: str) -> list[Choice[str]]:
        return matching(self.service.catalog.names(enabled_only=True), current)

    # -- commands --------------------------------------------------------------------------

    @app_commands.command(name="imagine", description=t("discord.cmd.imagine"))
    @app_commands.describe(
        prompt=t("discord.opt.prompt"),
        aspect=t("discord.opt.aspect"),
        quality=t("discord.opt.quality"),
        n=t("discord.opt.n"),
        model=t("discord.opt.model"),
        background=t("discord.opt.background"),
    )
    @app_commands.choices(
        aspect=ASPECT_CHOICES, quality=QUALITY_CHOICES, background=BACKGROUND_CHOICES
    )
    async def imagine(
        self,
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, 4000],
        aspect: Choice[str] | None = None,
        quality: Choice[str] | None = None,
        n: app_commands.Range[int, 1, 10] | None = None,
        model: str | None = None,
        background: Choice[str] | None = None,
    ) -> None:
        options = Options(
            model=model,
            aspect=value_of(aspect),
            quality=value_of(quality),
            n=n,
            background=value_of(background),
        )

        async def make(reply: Reply) -> ImageRequest:
            return self.service.build(
                prompt, self.identity(interaction), options=options, idem_key=idem_key(interaction)
            )

        await self.jobs.run(interaction, make)

    @imagine.autocomplete("model")
    async def imagine_models(
        self, interaction: discord.Interaction, current: str
    ) -> list[Choice[str]]:
        return await self._models(current)

    @app_commands.command(name="edit", description=t("discord.cmd.edit"))
    @app_commands.describe(
        prompt=t("discord.opt.edit_prompt"),
        image=t("discord.opt.image"),
        image2=t("discord.opt.image_more"),
        image3=t("discord.opt.image_more"),
        image4=t("discord.opt.image_more"),
        mask=t("discord.opt.mask"),
        model=t("discord.opt.model"),
        quality=t("discord.opt.quality"),
    )
    @app_commands.choices(quality=QUALITY_CHOICES)
    async def edit(
        self,
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, 4000],
        image: discord.Attachment,
        image2: discord.Attachment | None = None,
        image3: discord.Attachment | None = None,
        image4: discord.Attachment | None = None,
        mask: discord.Attachment | None = None,
        model: str | None = None,
        quality: Choice[str] | None = None,
    ) -> None:
        files = [a for a in (image, image2, image3, image4) if a is not None]
        await self.run_edit(
            interaction, prompt, files, mask, Options(model=model, quality=value_of(quality))
        )

    @edit.autocomplete("model")
    async def edit_models(
        self, interaction: discord.Interaction, current: str
    ) -> list[Choice[str]]:
        return await self._models(current)

    async def run_edit(
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
                [raw] = await self.downloads.fetch([mask])
                prepared_mask = await self.service.prepare_mask(raw, images[0])
            return self.service.build(
                prompt,
                self.identity(interaction),
                options=options,
                images=images,
                mask=prepared_mask,
                idem_key=idem_key(interaction),
            )

        await self.jobs.run(interaction, make)

    async def on_edit_menu(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        """Message context menu: a modal asks for the prompt (it must be the first response)."""
        locale = locale_of(interaction)
        try:
            files = images_in(message)
        except PixelsmithError as exc:
            await Reply(interaction, locale).failure(render.failure(exc, locale))
            return

        async def submit(modal_interaction: discord.Interaction, prompt: str) -> None:
            await self.run_edit(modal_interaction, prompt, files)

        await interaction.response.send_modal(PromptModal(locale, submit))

    # -- buttons ----------------------------------------------------------------------------

    @commands.Cog.listener(f"on_{JOB_CLICK}")
    async def on_job_button(
        self, action: str, job_id: int, interaction: discord.Interaction
    ) -> None:
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
                sources = self.jobs.sources.get(job_id)
                if sources is None:
                    raise PixelsmithError("discord.sources_gone")
                return self.service.rebuild(job, identity, idem_key=key, images=sources.images)
            return self.service.rebuild(job, identity, idem_key=key)

        await self.jobs.run(interaction, make)

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

        await self.jobs.run(interaction, make)

    @commands.Cog.listener(f"on_{PENDING_CLICK}")
    async def on_pending_button(
        self, action: str, token: str, interaction: discord.Interaction
    ) -> None:
        pending = self.jobs.pending.get(token)
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

        await self.jobs.run(interaction, make)
