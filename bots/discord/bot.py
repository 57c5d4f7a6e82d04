"""The discord.py bot: a ``commands.Bot`` that owns its dependencies and adds its cogs.

``setup_hook`` (run by ``login``) adds, in order, the imagine cog (/imagine, /edit, the "Edit
image" menu, the result and refusal buttons), the account cog (/quota, /history) and the admin
group cog (/pixelsmith-admin), then installs the translator and syncs the tree to
``discord.guild_ids`` (or globally). Each cog gets exactly the objects it uses.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bots.discord import render
from bots.discord.answers import Answers
from bots.discord.attachments import Downloads
from bots.discord.choices import Translator
from bots.discord.cogs.account import AccountCog
from bots.discord.cogs.admin import AdminCog
from bots.discord.cogs.imagine import ImagineCog
from bots.discord.identity import locale_of
from bots.discord.jobs import JobRunner
from bots.discord.memory import PendingRequests, SourceCache
from bots.discord.progress import EditBudget
from bots.discord.reply import Reply, tell
from bots.discord.views import DYNAMIC_ITEMS
from core import messages
from core.config import Settings
from core.errors import PixelsmithError
from core.service import ImageService

log = logging.getLogger("pixelsmith.discord")


class PixelsmithTree(app_commands.CommandTree):
    """A tree whose ``on_error`` always answers the user (the detail goes to the log)."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        original = getattr(error, "original", error)
        locale = locale_of(interaction)
        if isinstance(original, PixelsmithError):
            text = render.failure(original, locale)
        else:
            log.error("command failed", exc_info=original)
            text = messages.text("error.internal", locale)
        reply = Reply(interaction, locale)
        reply.public = interaction.response.is_done()
        await tell(reply, text)


class PixelsmithBot(commands.Bot):
    """Gateway without privileged intents; application commands only (no prefix commands)."""

    def __init__(
        self,
        service: ImageService,
        settings: Settings,
        *,
        guild_ready_timeout: float,
        progress_interval: float,
        max_edits_per_s: float,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            tree_cls=PixelsmithTree,
            intents=discord.Intents.default(),
            guild_ready_timeout=guild_ready_timeout,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.service = service
        self.settings = settings
        self.downloads = Downloads(settings)
        self.jobs = JobRunner(
            service,
            settings,
            pending=PendingRequests(),
            sources=SourceCache(),
            budget=EditBudget(max_edits_per_s),
            progress_interval=progress_interval,
        )

    async def setup_hook(self) -> None:
        answers = Answers(self.settings)
        imagine = ImagineCog(self.jobs, self.downloads)
        await self.add_cog(imagine)
        await self.add_cog(AccountCog(self.service, answers))
        await self.add_cog(AdminCog(self.service, answers))
        self.tree.add_command(imagine.edit_menu)
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        await self.tree.set_translator(Translator())
        guild_ids = self.settings.discord.guild_ids
        for guild_id in guild_ids:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        if not guild_ids:
            await self.tree.sync()

    async def close(self) -> None:
        await super().close()
        await self.downloads.close()
