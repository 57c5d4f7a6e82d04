"""The buttons under results and refusals, their Edit modal, and the answer to stale clicks.

Every click is checked before anything runs: the custom_id must be one of ours and sit on the
clicked message (:func:`bots.discord.components.dispatchable`), and a job reference resolves
only for the clicker — a job of the clicking interaction's own server (a DM job: only for its
owner), and in that server only from the job's channel or by the job's owner. Anything else
is one ephemeral "this button is no longer valid", a warning line, and nothing charged.

With the clicker's remix setting on (/settings), a button that starts a job (Re-roll, Upscale's
go-ahead or an Upscale without one, Vary, Use suggested prompt, Send anyway) first opens a
modal with the prompt to change; its submit starts the job, checked and charged like a click.

Nothing a click or a submit needs is kept in this process: a refused request waits in the
database under its button's token (for the refused member only), an edit's inputs for Re-roll
are kept by core (``ImageService.keep_inputs`` / ``reroll``), and a modal's context is a
database row too (:mod:`bots.discord.forms`) naming the job or token again, which the submit
checks exactly like a click. So any process on the database, or this one after a restart,
answers the click or the submit.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import discord
from discord.ext import commands

from bots.discord import attachments, components, render, views, web
from bots.discord.attachments import Remote
from bots.discord.forms import PROMPT_MAX, Forms
from bots.discord.identity import idem_key, identity_of, locale_of
from bots.discord.inputs import Inputs
from bots.discord.jobs import JobRunner, RequestMaker
from bots.discord.reply import Reply
from bots.discord.views import JOB_CLICK, PENDING_CLICK, PENDING_KIND
from core import finishing, incidents, messages
from core.errors import PixelsmithError
from core.rooms.interactions import Remembered
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


# The flows of this cog's modals (bots.discord.forms): the payload each one keeps.
JOB_EDIT = "job_edit"  # Edit under a result: {"ref", "files"}
REMIX_JOB = "remix_job"  # remix before a job button's job: {"action", "ref"}
REMIX_PENDING = "remix_pending"  # remix before a refusal button's job: {"action", "token"}


class ButtonsCog(commands.Cog):
    def __init__(self, jobs: JobRunner, inputs: Inputs, forms: Forms) -> None:
        self.jobs = jobs
        self.service: ImageService = jobs.service
        self.settings = jobs.settings
        self.inputs = inputs
        self.forms = forms
        forms.handle(JOB_EDIT, self._submit_job_edit)
        forms.handle(REMIX_JOB, self._submit_remix_job)
        forms.handle(REMIX_PENDING, self._submit_remix_pending)

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
        """Clicks discord.py will not route to us, and every modal submit (ours are handled
        here, in whichever process receives them: :mod:`bots.discord.forms`)."""
        data: dict[str, Any] = dict(interaction.data or {})
        if interaction.type is discord.InteractionType.component:
            if not components.dispatchable(interaction):
                log.warning("stale or foreign component %r", str(data.get("custom_id"))[:100])
                await self.invalid(interaction, "discord.button_invalid")
        elif interaction.type is discord.InteractionType.modal_submit:
            await self._on_submit(interaction, data)

    async def _on_submit(self, interaction: discord.Interaction, data: dict[str, Any]) -> None:
        try:
            if await self.forms.submit(interaction, self.identity(interaction)):
                return
        except Exception as exc:  # the flow replies by itself; this is the last resort
            text = incidents.incident_text(exc, locale_of(interaction), "a Discord modal")
            if not interaction.response.is_done():
                await interaction.response.send_message(text, ephemeral=True)
            return
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
        if action == "edit":  # the result's first image, downloaded on submit
            found = interaction.message.attachments if interaction.message else []
            files = [Remote.of(a).saved() for a in found if attachments.looks_like_image(a)][:1]
            payload = {"ref": job.public_id, "files": files}
            await self.forms.open(interaction, identity, JOB_EDIT, payload, locale=identity.locale)
            return

        if action == "upscale" and await self._confirm_upscale(interaction, job):
            return  # the estimate was shown; its button starts the job (and asks, with remix)
        prefs = await self.jobs.preferences(interaction)
        if prefs.remix:  # the member changes the prompt first; the submit starts the job
            payload = {"action": action, "ref": job.public_id}
            locale = prefs.locale(identity.locale)
            await self._remix_modal(interaction, identity, locale, job.prompt, REMIX_JOB, payload)
            return

        async def make(reply: Reply) -> ImageRequest:
            who = self.identity(interaction, reply)
            return await self.request_for(action, job, who, idem_key(interaction))

        await self.jobs.run(interaction, make)

    async def _submit_remix_job(
        self, interaction: discord.Interaction, prompt: str, payload: dict[str, Any]
    ) -> None:
        """A remix modal of a job button submitted: the job is looked up again, as a click."""
        action, ref = str(payload.get("action")), str(payload.get("ref"))
        job = await self.job_for(self.identity(interaction), ref)
        if job is None or action not in components.JOB_ACTIONS:
            await self.invalid(interaction, "discord.form_invalid")
            return

        async def make(reply: Reply) -> ImageRequest:
            who, key = self.identity(interaction, reply), idem_key(interaction)
            return await self.request_for(action, job, who, key, prompt=prompt)

        await self.jobs.run(interaction, make)

    async def _remix_modal(
        self,
        interaction: discord.Interaction,
        identity: Identity,
        locale: str,
        prompt: str,
        flow: str,
        payload: dict[str, Any],
    ) -> None:
        """The remix modal: the prompt to change before the job starts (the first response)."""
        title = messages.text("discord.modal.remix_title", locale)
        await self.forms.open(
            interaction, identity, flow, payload, locale=locale,
            default=prompt[:PROMPT_MAX], title=title,
        )  # fmt: skip

    async def request_for(
        self,
        action: str,
        job: JobView,
        identity: Identity,
        key: str,
        prompt: str | None = None,
    ) -> ImageRequest:
        """The new request a job button starts (``prompt`` None: the job's own). Core decides
        what Upscale and Vary send (``ImageService.finish``, core/finishing.py) and what a
        Re-roll sends again (``ImageService.reroll``: an edit's kept inputs)."""
        move = FINISHING.get(action)
        if move is not None:
            return await self.service.finish(job, identity, move, idem_key=key, prompt=prompt)
        return await self.service.reroll(job, identity, idem_key=key, prompt=prompt)

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
        self, interaction: discord.Interaction, prompt: str, payload: dict[str, Any]
    ) -> None:
        """Edit under a result submitted: the job is looked up again, as a click."""
        identity = self.identity(interaction)
        job = await self.job_for(identity, str(payload.get("ref")))
        if job is None:
            await self.invalid(interaction, "discord.form_invalid")
            return
        files = Remote.load(payload.get("files"))

        async def make(reply: Reply) -> ImageRequest:
            if not files:
                raise PixelsmithError("chat.no_images")
            images = await self.inputs.images(files)  # the result's first image
            identity, key = self.identity(interaction, reply), idem_key(interaction)
            return self.service.rebuild(job, identity, idem_key=key, prompt=prompt, images=images)

        await self.jobs.run(interaction, make)

    async def pending_for(self, interaction: discord.Interaction, token: str) -> Remembered | None:
        """The refused request ``token`` names, if it is the clicker's own (same member, same
        server) and still valid; otherwise the "expired" answer was sent and None returned."""
        pending = await self.service.recall(self.identity(interaction), PENDING_KIND, token)
        if pending is None:
            text = messages.text("discord.expired_button", locale_of(interaction))
            await Reply(interaction, locale_of(interaction)).failure(text)
        return pending

    def _maker(
        self, action: str, earlier: Remembered, clicked: discord.Interaction, prompt: str
    ) -> RequestMaker:
        async def make(reply: Reply) -> ImageRequest:
            return self.service.build(
                prompt,
                self.identity(clicked, reply),
                options=earlier.options(force=action == "force"),
                images=earlier.images,
                mask=earlier.mask,
                markup=earlier.markup,
                idem_key=idem_key(clicked),
            )

        return make

    @commands.Cog.listener(f"on_{PENDING_CLICK}")
    async def on_pending_button(
        self, action: str, token: str, interaction: discord.Interaction
    ) -> None:
        if not components.dispatchable(interaction):
            return  # on_interaction answered
        earlier = await self.pending_for(interaction, token)
        if earlier is None:
            return
        suggestion = earlier.payload.get("suggestion")
        suggested = suggestion if action == "suggest" and isinstance(suggestion, str) else None
        prefs = await self.jobs.preferences(interaction)
        if prefs.remix:
            me = self.identity(interaction)
            payload = {"action": action, "token": token}
            locale, shown = prefs.locale(me.locale), suggested or earlier.prompt
            await self._remix_modal(interaction, me, locale, shown, REMIX_PENDING, payload)
            return
        prompt = suggested or earlier.prompt
        await self.jobs.run(interaction, self._maker(action, earlier, interaction, prompt))

    async def _submit_remix_pending(
        self, interaction: discord.Interaction, prompt: str, payload: dict[str, Any]
    ) -> None:
        """A remix modal of a refusal button submitted: the refused request is found again."""
        action = str(payload.get("action"))
        earlier = await self.pending_for(interaction, str(payload.get("token")))
        if earlier is None:
            return
        if action not in components.PENDING_ACTIONS:
            await self.invalid(interaction, "discord.form_invalid")
            return
        await self.jobs.run(interaction, self._maker(action, earlier, interaction, prompt))
