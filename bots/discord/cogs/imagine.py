"""/imagine, /edit and the "Edit image" message menu (its prompt comes from a modal).

Each request is built inside the job runner's ``make`` step, i.e. after the defer: downloads,
intake and validation are slow or may fail, and both must happen after Discord got its answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bots.discord import render
from bots.discord.attachments import AttachmentLike, Remote
from bots.discord.choices import (
    ASPECT_CHOICES,
    BACKGROUND_CHOICES,
    QUALITY_CHOICES,
    Choice,
    matching,
    t,
    value_of,
)
from bots.discord.forms import Forms
from bots.discord.identity import idem_key, identity_of, locale_of
from bots.discord.inputs import Inputs, images_in
from bots.discord.jobs import JobRunner
from bots.discord.reply import Reply
from core.errors import PixelsmithError
from core.request import Options
from core.service import ImageService
from core.types import Identity, ImageRequest

EDIT_MENU = "edit_menu"  # the "Edit image" menu's modal (bots.discord.forms)


class ImagineCog(commands.Cog):
    def __init__(self, jobs: JobRunner, inputs: Inputs, forms: Forms) -> None:
        self.jobs = jobs
        self.forms = forms
        self.service: ImageService = jobs.service
        self.settings = jobs.settings
        self.inputs = inputs
        # Context menus cannot be methods of a cog: the bot adds this one to its tree.
        self.edit_menu = app_commands.ContextMenu(
            name=t("discord.cmd.edit_menu"), callback=self.on_edit_menu
        )
        forms.handle(EDIT_MENU, self.on_edit_menu_submit)

    def identity(self, interaction: discord.Interaction, reply: Reply | None = None) -> Identity:
        """Who asks; with ``reply``, answering in its language (the member's setting)."""
        identity = identity_of(interaction, self.settings)
        return identity if reply is None else replace(identity, locale=reply.locale)

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
                prompt,
                self.identity(interaction, reply),
                options=options,
                idem_key=idem_key(interaction),
                prefs=reply.prefs,
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
        sketch=t("discord.opt.sketch"),
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
        sketch: discord.Attachment | None = None,
        model: str | None = None,
        quality: Choice[str] | None = None,
    ) -> None:
        files = [a for a in (image, image2, image3, image4) if a is not None]
        options = Options(model=model, quality=value_of(quality))
        await self.run_edit(interaction, prompt, files, mask, options, sketch=sketch)

    @edit.autocomplete("model")
    async def edit_models(
        self, interaction: discord.Interaction, current: str
    ) -> list[Choice[str]]:
        return await self._models(current)

    async def run_edit(
        self,
        interaction: discord.Interaction,
        prompt: str,
        files: Sequence[AttachmentLike],
        mask: discord.Attachment | None = None,
        options: Options | None = None,
        *,
        sketch: discord.Attachment | None = None,
    ) -> None:
        async def make(reply: Reply) -> ImageRequest:
            if not files:  # a modal's context kept none (never an edit turned generation)
                raise PixelsmithError("chat.no_images")
            images = await self.inputs.images(files)
            prepared_mask = None if mask is None else await self.inputs.mask(mask, images[0])
            markup = None if sketch is None else await self.inputs.markup(sketch, images[0])
            return self.service.build(
                prompt,
                self.identity(interaction, reply),
                options=options,
                images=images,
                mask=prepared_mask,
                markup=markup,
                idem_key=idem_key(interaction),
                prefs=reply.prefs,
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

        saved = [Remote.of(f).saved() for f in files]
        identity = self.identity(interaction)
        await self.forms.open(interaction, identity, EDIT_MENU, {"files": saved}, locale=locale)

    async def on_edit_menu_submit(
        self, interaction: discord.Interaction, prompt: str, payload: dict[str, Any]
    ) -> None:
        """The menu's modal submitted (in any process): edit the message's images."""
        await self.run_edit(interaction, prompt, Remote.load(payload.get("files")))
