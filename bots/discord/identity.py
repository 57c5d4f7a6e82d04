"""Who is asking, from one interaction: identity, locale, roles, admin rights, idempotency key.

A leaf module (discord.py and core types only): every cog and the job runner use it.
"""

from __future__ import annotations

import discord

from core.config import Settings
from core.errors import ConfigError
from core.types import Identity


def idem_key(interaction: discord.Interaction) -> str:
    return f"discord:interaction:{interaction.id}"


def locale_of(interaction: discord.Interaction) -> str:
    return str(interaction.locale.value)


def role_ids(interaction: discord.Interaction) -> tuple[str, ...]:
    """The ids of the member's roles in the interaction's guild (never names: anyone can name
    a role anything in their own server, but a role id belongs to exactly one guild)."""
    user = interaction.user
    if not isinstance(user, discord.Member) or interaction.guild_id is None:
        return ()
    # From the payload itself: ``Member.roles`` lists only roles discord.py has cached.
    return tuple(dict.fromkeys(str(role_id) for role_id in getattr(user, "_roles", ())))


def is_admin(interaction: discord.Interaction, settings: Settings) -> bool:
    """Manage Server (or Administrator) in this guild, or a role listed in
    ``discord.admin_roles`` (by id) that the member has in this guild.

    Checked in code: ``default_permissions`` is only a hint a guild admin can change.
    """
    if interaction.guild_id is None:
        return False
    perms = interaction.permissions
    if perms.manage_guild or perms.administrator:
        return True
    wanted = {str(r) for r in settings.discord.admin_roles}
    return bool(wanted.intersection(role_ids(interaction)))


def check_role_settings(settings: Settings) -> None:
    """Role keys are role ids: ``discord.admin_roles`` items and ``[quota.roles.<id>]`` keys.

    A name would match a role of that name in any server, so it is a config error (exit 2).
    """
    for role in settings.discord.admin_roles:
        if not _is_role_id(role):
            raise ConfigError("config.invalid", key="discord.admin_roles", problem=_not_an_id(role))
    for key in settings.quota.roles:
        if not _is_role_id(key):
            raise ConfigError("config.invalid", key=f"quota.roles.{key}", problem=_not_an_id(key))


def _is_role_id(value: object) -> bool:
    text = str(value)
    return text.isascii() and text.isdigit() and 17 <= len(text) <= 20


def _not_an_id(value: object) -> str:
    return f"{str(value)[:100]!r} is not a role id (role names are not accepted)"


def identity_of(interaction: discord.Interaction, settings: Settings) -> Identity:
    user = interaction.user
    return Identity(
        platform="discord",
        user_id=str(user.id),
        community_id=str(interaction.guild_id) if interaction.guild_id else None,
        locale=locale_of(interaction),
        display_name=user.display_name,
        roles=role_ids(interaction),
        is_admin=is_admin(interaction, settings),
        channel_id=str(interaction.channel_id) if interaction.channel_id else None,
    )
