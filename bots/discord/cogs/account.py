"""/quota and /history: the caller's own account, answered ephemerally.

``/history again:<job>`` hands a kept result over again, for free, as a normal result in the
channel (the images the service kept before the first upload, for ``results.keep_days``).
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bots.discord import render, web
from bots.discord.answers import Answers
from bots.discord.choices import AUTOCOMPLETE_LIMIT, Choice, t
from bots.discord.identity import identity_of
from bots.discord.jobs import JobRunner
from core.account import clip
from core.service import ImageService
from core.types import Identity, ImageResult, JobState

CHOICE_NAME_MAX = 100  # Discord: autocomplete choice names are 1-100 characters


class AccountCog(commands.Cog):
    def __init__(self, service: ImageService, answers: Answers, jobs: JobRunner) -> None:
        self.service = service
        self.answers = answers
        self.jobs = jobs

    @app_commands.command(name="quota", description=t("discord.cmd.quota"))
    async def quota(self, interaction: discord.Interaction) -> None:
        async def work(identity: Identity) -> str:
            return render.quota(await self.service.quota_status(identity), identity.locale)

        await self.answers.answer(interaction, work)

    @app_commands.command(name="gallery", description=t("discord.cmd.gallery"))
    async def gallery(self, interaction: discord.Interaction) -> None:
        async def work(identity: Identity) -> str:
            return web.gallery_text(self.answers.settings, identity)

        await self.answers.answer(interaction, work)

    @app_commands.command(name="history", description=t("chat.recent"))
    @app_commands.describe(again=t("discord.opt.again"))
    async def history(self, interaction: discord.Interaction, again: str | None = None) -> None:
        if again is not None:
            caller = identity_of(interaction, self.answers.settings)

            async def produce() -> ImageResult:
                return await self.service.redeliver(caller, again)

            await self.jobs.again(interaction, produce)
            return

        async def work(identity: Identity) -> str:
            return render.history(await self.service.history(identity), identity.locale)

        await self.answers.answer(interaction, work)

    @history.autocomplete("again")
    async def history_jobs(
        self, interaction: discord.Interaction, current: str
    ) -> list[Choice[str]]:
        """The caller's recent successful jobs in this server, newest first."""
        caller = identity_of(interaction, self.answers.settings)
        choices = []
        for job in await self.service.history(caller, limit=AUTOCOMPLETE_LIMIT):
            if job.state != JobState.SUCCEEDED or not job.public_id:
                continue
            name = clip(f"{job.created_at:%Y-%m-%d %H:%M} · {job.prompt}", CHOICE_NAME_MAX)
            if current.lower() in name.lower():
                choices.append(Choice(name=name, value=job.public_id))
        return choices
