"""What the bot needs in a channel to deliver a result, read from the interaction (a leaf).

Every interaction carries ``app_permissions``: the bot's own permissions in the channel it came
from. A result is images posted there (as the interaction's reply, later in the channel itself
once the 15-minute token is gone), so before anything is paid for the bot needs, in a server:
View Channel, Send Messages (Send Messages in Threads in a thread) and Attach Files. In a DM
Discord grants Attach Files to apps in ``app_permissions``; that is the one checked there.
"""

from __future__ import annotations

import discord

THREADS = (
    discord.ChannelType.public_thread,
    discord.ChannelType.private_thread,
    discord.ChannelType.news_thread,
)


def _in_thread(interaction: discord.Interaction) -> bool:
    channel = interaction.channel
    return channel is not None and getattr(channel, "type", None) in THREADS


def needed(interaction: discord.Interaction) -> tuple[str, ...]:
    """The ``discord.Permissions`` flags a result in this channel needs."""
    if interaction.guild_id is None:
        return ("attach_files",)
    send = "send_messages_in_threads" if _in_thread(interaction) else "send_messages"
    return ("view_channel", send, "attach_files")


def missing(interaction: discord.Interaction) -> list[str]:
    """The flags of :func:`needed` the bot lacks here (empty: results can be delivered)."""
    perms = interaction.app_permissions
    return [name for name in needed(interaction) if not getattr(perms, name)]
