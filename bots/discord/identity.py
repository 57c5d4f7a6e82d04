"""Who is asking, from one interaction: identity, locale, roles, admin rights, idempotency key.

A leaf module (discord.py and core types only): every cog and the job runner use it.
"""

from __future__ import annotations

import discord

from core.config import Settings
from core.types import Identity


def idem_key(interaction: discord.Interaction) -> str:
    return f"discord:interaction:{interaction.id}"


def locale_of(interaction: discord.Interaction) -> str:
    return str(interaction.locale.value)


def role_names(interaction: discord.Interaction) -> tuple[str, ...]:
    user = interaction.user
    if not isinstance(user, discord.Member):
        return ()
    roles = [r for r in user.roles if not r.is_default()]
    # Role ids straight from the interaction payload too: ``roles`` only lists cached roles.
    ids = [str(r) for r in getattr(user, "_roles", ())]
    return tuple(dict.fromkeys([*ids, *(str(r.id) for r in roles), *(r.name for r in roles)]))


def is_admin(interaction: discord.Interaction, settings: Settings) -> bool:
    """Manage Server (or Administrator) in this guild, or a configured admin role (id or name).

    Checked in code: ``default_permissions`` is only a hint a guild admin can change.
    """
    if interaction.guild_id is None:
        return False
    perms = interaction.permissions
    if perms.manage_guild or perms.administrator:
        return True
    wanted = {str(r) for r in settings.discord.admin_roles}
    return bool(wanted.intersection(role_names(interaction)))


def identity_of(interaction: discord.Interaction, settings: Settings) -> Identity:
    user = interaction.user
    return Identity(
        platform="discord",
        user_id=str(user.id),
        community_id=str(interaction.guild_id) if interaction.guild_id else None,
        locale=locale_of(interaction),
        display_name=user.display_name,
        roles=role_names(interaction),
        is_admin=is_admin(interaction, settings),
        channel_id=str(interaction.channel_id) if interaction.channel_id else None,
    )
