"""The Discord adapter (discord.py over the gateway): see :mod:`bots.discord.app`."""

from bots.discord.app import DiscordAdapter

__all__ = ["DiscordAdapter"]
