"""The discord.py bot: a ``commands.AutoShardedBot`` that owns its dependencies and adds its cogs.

Sharded from the start (discord.py's ``AutoShardedClient``): ``discord.shard_count`` (a number,
or "auto" = what ``GET /gateway/bot`` recommends) and ``discord.shard_ids`` (this process's
shards; unset = all of them) are passed through, so N processes with disjoint ``shard_ids``
split the guilds: Discord sends each guild's events to shard ``(guild_id >> 22) % shard_count``.
One process with the defaults runs every shard (one for a bot in fewer than 2,500 guilds).

``setup_hook`` (run by ``login``) adds, in order, the imagine cog (/imagine, /edit, the "Edit
image" menu), the buttons cog (result and refusal buttons, their modal, stale clicks), the
account cog (/quota, /history) and the admin group cog (/pixelsmith-admin), then installs the
translator and syncs the tree to ``discord.guild_ids`` (or globally). Each cog gets exactly the
objects it uses.

Before discord.py reads an INTERACTION_CREATE, :mod:`bots.discord.guard` checks it: discord.py
keeps its event parsers in ``ConnectionState.parsers`` (the gateway reader calls them), and the
bot wraps the one for interactions, the only place an incomplete payload can be refused before
it ends the connection task.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands
from discord.http import Route

from bots.discord import guard, render
from bots.discord.answers import Answers
from bots.discord.attachments import Downloads
from bots.discord.choices import Translator
from bots.discord.cogs.account import AccountCog
from bots.discord.cogs.admin import AdminCog
from bots.discord.cogs.buttons import ButtonsCog
from bots.discord.cogs.imagine import ImagineCog
from bots.discord.cogs.settings import SettingsCog
from bots.discord.delivery import Retry
from bots.discord.forms import Forms
from bots.discord.identity import locale_of
from bots.discord.inputs import Inputs
from bots.discord.jobs import JobRunner
from bots.discord.progress import edit_budget
from bots.discord.reply import Reply, tell
from bots.discord.shards import IdentifyGate
from bots.discord.views import DYNAMIC_ITEMS
from core import incidents, messages
from core.config import Settings
from core.errors import PixelsmithError
from core.service import ImageService

log = logging.getLogger("pixelsmith.discord")


CALLER_ERRORS = (
    app_commands.CommandNotFound,
    app_commands.CommandSignatureMismatch,
    app_commands.TransformerError,
)
CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"


def _command_name(interaction: discord.Interaction) -> str:
    data: dict[str, Any] = dict(interaction.data or {})
    return str(data.get("name", ""))[:100]


class PixelsmithTree(app_commands.CommandTree):
    """A tree whose ``on_error`` always answers the user (the detail goes to the log)."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        original = getattr(error, "original", error)
        locale = locale_of(interaction)
        if isinstance(error, CALLER_ERRORS):
            # Not our code's fault: a command this build does not have, or options that do
            # not fit it (an outdated command list, a hand-made payload). One line, no trace.
            log.warning("unusable command %r: %s", _command_name(interaction), type(error).__name__)
            text = messages.text("discord.bad_request", locale)
        elif isinstance(original, PixelsmithError):
            text = render.failure(original, locale)
        else:
            text = incidents.incident_text(original, locale, "a Discord command")
        reply = Reply(interaction, locale)
        reply.public = reply.loading = interaction.response.is_done()
        await tell(reply, text)


REST_CONNECTIONS = 100  # aiohttp's default per session; the gateway sockets count too


class PixelsmithBot(commands.AutoShardedBot):
    """Gateway without privileged intents; application commands only (no prefix commands)."""

    def __init__(
        self,
        service: ImageService,
        settings: Settings,
        *,
        guild_ready_timeout: float,
        progress_interval: float,
        max_edits_per_s: float,
        retry: Retry,
    ) -> None:
        count = settings.discord.shard_count
        super().__init__(
            shard_count=None if count == "auto" else count,
            # None (all shards) is discord.py's own default; its options type omits it.
            shard_ids=settings.discord.shard_ids,  # type: ignore[arg-type]
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
        self.forms = Forms(service)
        self._refusals: set[asyncio.Task[None]] = set()
        self.jobs = JobRunner(
            service,
            settings,
            budget=edit_budget(max_edits_per_s),
            progress_interval=progress_interval,
            retry=retry,
        )
        self.identify_gate = IdentifyGate()
        self._set_up = False
        self._guard_interactions()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Wait for this shard's IDENTIFY bucket (see :class:`IdentifyGate`), instead of
        discord.py's fixed 5 s before every shard but the first."""
        await self.identify_gate.wait(shard_id or 0)

    async def login(self, token: str) -> None:
        # discord.py's own connector has no limit: a burst of 500 defers opened 500 new
        # connections, each a connect (and a TLS handshake) on the event loop. A bounded pool
        # reuses them; requests beyond it wait a few milliseconds for a free one.
        if not isinstance(self.http.connector, aiohttp.BaseConnector):
            self.http.connector = aiohttp.TCPConnector(limit=REST_CONNECTIONS)
        await super().login(token)

    async def setup_hook(self) -> None:
        answers = Answers(self.settings, self.service)
        inputs = Inputs(self.service, self.downloads)
        imagine = ImagineCog(self.jobs, inputs, self.forms)
        await self.add_cog(imagine)
        await self.add_cog(ButtonsCog(self.jobs, inputs, self.forms))
        await self.add_cog(AccountCog(self.service, answers, self.jobs))
        await self.add_cog(AdminCog(self.service, answers, self.forms))
        await self.add_cog(SettingsCog(self.service, self.settings))
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

    async def _async_setup_hook(self) -> None:
        await super()._async_setup_hook()  # login's first step: the loop and the shard queue
        self._set_up = True

    async def close(self) -> None:
        # AutoShardedClient.close needs what login sets up; before login there is nothing open.
        if self._set_up:
            await super().close()
        await self.downloads.close()

    def _guard_interactions(self) -> None:
        """Wrap discord.py's INTERACTION_CREATE parser (see the module docstring)."""
        parsers = self._connection.parsers
        parse = parsers["INTERACTION_CREATE"]

        def guarded(data: Any) -> None:
            trouble = guard.problem(data)
            if trouble is None:
                try:
                    parse(data)
                    return
                except Exception as exc:  # discord.py could not read it
                    trouble = f"unreadable ({type(exc).__name__})"
            log.warning("incomplete interaction dropped: %s", trouble)
            if guard.answerable(data):
                task = asyncio.create_task(self._refuse(data), name="pixelsmith-refuse")
                self._refusals.add(task)
                task.add_done_callback(self._refusals.discard)

        parsers["INTERACTION_CREATE"] = guarded

    async def _refuse(self, data: dict[str, Any]) -> None:
        locale = str(data.get("locale") or "en")
        body = guard.refusal(data, messages.text("discord.bad_request", locale))
        route = Route("POST", CALLBACK, interaction_id=data["id"], interaction_token=data["token"])
        try:
            await self.http.request(route, json=body)
        except discord.HTTPException as exc:
            log.warning("could not answer an incomplete interaction: %s %s", exc.status, exc.code)
