"""The Discord adapter (discord.py over the gateway).

:mod:`bots.discord.app` holds ``DiscordAdapter`` (what ``pixelsmith run`` starts); it runs the
``commands.Bot`` of :mod:`bots.discord.bot`, whose cogs live in :mod:`bots.discord.cogs`. The
other modules are leaves: identity and permissions, choices, replies, rendering, buttons.
This file imports nothing, so no module of the package depends on the package itself.
"""
