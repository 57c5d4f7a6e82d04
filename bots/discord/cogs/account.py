"""/quota and /history: the caller's own account, answered ephemerally."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bots.discord import render, web
from bots.discord.answers import Answers
from bots.discord.choices import t
from core.service import ImageService
from core.types import Identity


class AccountCog(commands.Cog):
    def __init__(self, service: ImageService, answers: Answers) -> None:
        self.service = service
        self.answers = answers

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
    async def history(self, interaction: discord.Interaction) -> None:
        async def work(identity: Identity) -> str:
            return render.history(await self.service.history(identity), identity.locale)

        await self.answers.answer(interaction, work)
