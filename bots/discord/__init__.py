"""The Discord adapter (discord.py over the gateway).

:mod:`bots.discord.app` holds ``DiscordAdapter`` (what ``pixelsmith run`` starts); it runs the
``commands.Bot`` of :mod:`bots.discord.bot`, whose cogs live in :mod:`bots.discord.cogs`. The
other modules are leaves: identity and permissions, choices, replies, rendering, buttons.
This file imports no module of the package, so none depends on the package itself; it only
registers the package's message catalog (``locales``) before any of them renders a sentence.
"""

from pathlib import Path

from core import messages

messages.register(Path(__file__).resolve().parent / "locales")
