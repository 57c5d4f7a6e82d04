"""The buttons under results and refusals, their Edit modal, and the answer to stale clicks.

Every click is checked before anything runs: the custom_id must be one of ours and sit on the
clicked message (:func:`bots.discord.components.dispatchable`), and a job reference resolves
only for the clicker — a job of the clicking interaction's own server (a DM job: only for its
owner), and in that server only from the job's channel or by the job's owner. Anything else
is one ephemeral "this button is no longer valid", a warning line, and nothing charged.

With the clicker's remix setting on (/settings), a button that starts a job (Re-roll, Upscale's
go-ahead or an Upscale without one, Vary, Use suggested prompt, Send anyway) first opens a
modal with the prompt to change; its submit starts the job, checked and charged like a click.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import discord
from discord.ext import commands

from bots.discord import components, render, views, web
from bots.discord.identity import idem_key, identity_of, locale_of
from bots.discord.inputs import Inputs, images_in, options_of
from bots.discord.jobs import JobRunner, RequestMaker
from bots.discord.reply import Reply
from bots.discord.views import JOB_CLICK, PENDING_CLICK, Forms
from core import finishing, messages
from core.errors import PixelsmithError
from core.service import ImageService
from core.types import Identity, ImageRequest, JobView

log = logging.getLogger("pixelsmith.discord")

# Job buttons that are finishing moves (core/finishing.py); "vary" is Vary (subtle).
FINISHING = {
    "upscale": finishing.UPSCALE,
    "upscale_go": finishing.UPSCALE,
    "vary": finishing.VARY_SUBTLE,
    "vary_strong": finishing.VARY_STRONG,
}


def visible_to(job: JobView, identity: Identity) -> bool:
    """Whether ``identity`` may act on ``job`` from where it clicked (see the module docstring)."""
    own = job.user_scope == identity.user_scope
    if job.community_scope != identity.community_scope:
        return False
    if identity.community_id is None:
        return own
    return own or str(job.request.get("channel_id")) == str(identity.channel_id)


def _same_person(a: Identity, b: Identity) -> bool:
    return a.user_scope == b.user_scope and a.community_id == b.community_id


class ButtonsCog(commands.Cog):
    def __init__(self, jobs: JobRunner, inputs: Inputs, forms: Forms) -> None:
        self.jobs = jobs
        self.service: ImageService = jobs.service
        self.settings = jobs.settings
        self.inputs = inputs
        self.forms = forms

    def identity(self, interaction: discord.Interaction, reply: Reply | None = None) -> Identity:
        """Who clicks; with ``reply``, answering in its language (the member's setting)."""
        identity = identity_of(interaction, self.settings)
        return identity if reply is None else replace(identity, locale=reply.locale)

    async def job_for(self, identity: Identity, ref: str) -> JobView | None:
        """The job ``ref`` (a public id) names, if the clicker may act on it here; else None.

        ``ImageService.job_for`` checks the server (unknown, malformed, oversized or another
        server's id: None); :func:`visible_to` adds the channel."""
        job = await self.service.job_for(identity, ref)
        return job if job is not None and visible_to(job, identity) else None

    async def invalid(self, interaction: discord.Interaction, key: str) -> None:
        """The polite refusal of a click or submit we cannot act on (nothing runs)."""
        locale = locale_of(interaction)
        try:
            await Reply(interaction, locale).failure(messages.text(key, locale))
        except discord.HTTPException as exc:
            log.warning("could not refuse a stale click: %s %s", exc.status, exc.code)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Clicks and submits discord.py will not route to us get their answer here."""
        data: dict[str, Any] = dict(interaction.data or {})
        if interaction.type is discord.InteractionType.component:
            if not components.dispatchable(interaction):
                log.warning("stale or foreign component %r", str(data.get("custom_id"))[:100])
                await self.invalid(interaction, "discord.button_invalid")
        elif interaction.type is discord.InteractionType.modal_submit and not self.forms.known(
            data.get("custom_id")
        ):
            log.warning("stale or foreign form %r", str(data.get("custom_id"))[:100])
            await self.invalid(interaction, "discord.form_invalid")

    @commands.Cog.listener(f"on_{JOB_CLICK}")
    async def on_job_button(self, action: str, ref: str, interaction: discord.Interaction) -> None:
        if not components.dispatchable(interaction):
            return  # on_interaction answered
        identity = self.identity(interaction)
        job = await self.job_for(identity, ref)
        if job is None:
            log.warning("button for a job not visible here: %s", action)
            await self.invalid(interaction, "discord.button_invalid")
            return
        if action == "region":  # a private link to the painter; no job runs here
            text = web.region_text(self.settings, identity, job.public_id)
            await interaction.response.send_message(text, ephemeral=True)
            return
        if action == "edit":
            message = interaction.message

            async def submit(modal_interaction: discord.Interaction, prompt: str) -> None:
                await self._submit_job_edit(job, message, modal_interaction, prompt)

            await interaction.response.send_modal(self.forms.prompt(identity.locale, submit))
            return

        if action == "upscale" and await self._confirm_upscale(interaction, job):
            return  # the estimate was shown; its button starts the job (and asks, with remix)
        prefs = await self.jobs.preferences(interaction)
        if prefs.remix:  # the member changes the prompt first; the submit starts the job

            async def remixed(modal_interaction: discord.Interaction, prompt: str) -> None:
                async def make(reply: Reply) -> ImageRequest:
                    who, key = self.identity(modal_interaction, reply), idem_key(modal_interaction)
                    return await self.request_for(action, job, who, key, prompt=prompt)

                await self.jobs.run(modal_interaction, make)

            await self._remix_modal(interaction, prefs.locale(identity.locale), job.prompt, remixed)
            return

        async def make(reply: Reply) -> ImageRequest:
            who = self.identity(interaction, reply)
            return await self.request_for(action, job, who, idem_key(interaction))

        await self.jobs.run(interaction, make)

    async def _remix_modal(
        self, interaction: discord.Interaction, locale: str, prompt: str, submit: views.Submit
    ) -> None:
        """The remix modal: the prompt to change before the job starts (the first response)."""
        title = messages.text("discord.modal.remix_title", locale)
        modal = self.forms.prompt(locale, submit, default=prompt[: views.PROMPT_MAX], title=title)
        await interaction.response.send_modal(modal)

    async def request_for(
        self,
        action: str,
        job: JobView,
        identity: Identity,
        key: str,
        prompt: str | None = None,
    ) -> ImageRequest:
        """The new request a job button starts (``prompt`` None: the job's own). Core decides
        what Upscale and Vary send (``ImageService.finish``, core/finishing.py)."""
        move = FINISHING.get(action)
        if move is not None:
            return await self.service.finish(job, identity, move, idem_key=key, prompt=prompt)
        if job.request.get("edit"):
            sources = self.jobs.sources.get(job.id)
            if sources is None:
                raise PixelsmithError("discord.sources_gone")
            return self.service.rebuild(  # the same inputs: images, mask, sketch
                job,
                identity,
                idem_key=key,
                prompt=prompt,
                images=sources.images,
                mask=sources.mask,
                markup=sources.markup,
            )
        return self.service.rebuild(job, identity, idem_key=key, prompt=prompt)

    async def _confirm_upscale(self, interaction: discord.Interaction, job: JobView) -> bool:
        """Show the Upscale's estimate with a button to go ahead when it costs more than a
        normal image (True: shown, or refused with the reason; nothing runs either way)."""
        locale = locale_of(interaction)
        reply = Reply(interaction, locale)
        try:
            quote = await self.service.upscale_quote(job)
        except PixelsmithError as exc:
            await reply.failure(render.failure(exc, locale))
            return True
        if not quote.needs_confirmation:
            return False
        estimate, normal = quote.estimate_micros / 1_000_000, quote.normal_micros / 1_000_000
        text = messages.text(
            "finish.confirm_upscale", locale, size=quote.size, estimate=estimate, normal=normal
        )
        await reply.failure(text, views.upscale_confirm_view(job.public_id, locale, estimate))
        return True

    async def _submit_job_edit(
        self,
        job: JobView,
        message: discord.Message | None,
        interaction: discord.Interaction,
        prompt: str,
    ) -> None:
        async def make(reply: Reply) -> ImageRequest:
            images = await self.inputs.images(images_in(message)[:1])  # the result's first image
            identity, key = self.identity(interaction, reply), idem_key(interaction)
            return self.service.rebuild(job, identity, idem_key=key, prompt=prompt, images=images)

        await self.jobs.run(interaction, make)

    @commands.Cog.listener(f"on_{PENDING_CLICK}")
    async def on_pending_button(
        self, action: str, token: str, interaction: discord.Interaction
    ) -> None:
        if not components.dispatchable(interaction):
            return  # on_interaction answered
        pending, me = self.jobs.pending.get(token), self.identity(interaction)
        if pending is None or not _same_person(pending.request.identity, me):
            text = messages.text("discord.expired_button", locale_of(interaction))
            await Reply(interaction, locale_of(interaction)).failure(text)
            return
        earlier = pending.request
        suggested = pending.suggestion if action == "suggest" and pending.suggestion else None

        def maker(clicked: discord.Interaction, prompt: str) -> RequestMaker:
            async def make(reply: Reply) -> ImageRequest:
                return self.service.build(
                    prompt,
                    self.identity(clicked, reply),
                    options=options_of(earlier, force=action == "force"),
                    images=earlier.images,
                    mask=earlier.mask,
                    idem_key=idem_key(clicked),
                )

            return make

        prefs = await self.jobs.preferences(interaction)
        if prefs.remix:

            async def remixed(modal_interaction: discord.Interaction, prompt: str) -> None:
                await self.jobs.run(modal_interaction, maker(modal_interaction, prompt))

            locale = prefs.locale(me.locale)
            await self._remix_modal(interaction, locale, suggested or earlier.prompt, remixed)
            return
        await self.jobs.run(interaction, maker(interaction, suggested or earlier.prompt))
