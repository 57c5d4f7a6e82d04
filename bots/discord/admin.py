"""``/pixelsmith-admin``: limits, grants, bans, usage, spend chart.

``default_permissions(manage_guild)`` only hides the group from members by default, and a guild
admin can change that: every subcommand is checked again in code (``Actions.answer(...,
admin_only=True)``: Manage Server, Administrator, or a role in ``discord.admin_roles``).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bots.discord import render
from bots.discord.commands import Choice, _choices, t
from core import messages
from core.errors import PixelsmithError
from core.store.policy import LIMIT_KEYS
from core.types import Identity

if TYPE_CHECKING:
    from bots.discord.app import DiscordAdapter

UNLIMITED = {"unlimited", "none", "off", "∞"}
LIMIT_CHOICES = [Choice(name=t(f"limit.{key}"), value=key) for key in LIMIT_KEYS]


def user_scope(user: discord.abc.User) -> str:
    return Identity(platform="discord", user_id=str(user.id)).user_scope


def parse_limit(key: str, raw: str) -> float | int | None:
    text = raw.strip().lower()
    if text in UNLIMITED:
        return None
    try:
        value = float(text)
    except ValueError:
        raise PixelsmithError("discord.admin.bad_value", value=raw) from None
    if not math.isfinite(value) or value < 0:
        raise PixelsmithError("discord.admin.bad_value", value=raw)
    if key.endswith(("images", "jobs")):
        if value != int(value):
            raise PixelsmithError("discord.admin.bad_value", value=raw)
        return int(value)
    return value


def amount_text(value: float | int | None, unit: str, locale: str) -> str:
    if value is None:
        return messages.text("status.unlimited", locale)
    return messages.text(f"unit.{unit}", locale, value=value)


def group_name(group: str) -> str:
    prefix = "user:discord:"
    return render.mention(group[len(prefix) :]) if group.startswith(prefix) else group


def build_admin_group(adapter: DiscordAdapter) -> app_commands.Group:
    actions, service = adapter.actions, adapter.service
    group = app_commands.Group(
        name="pixelsmith-admin",
        description=t("discord.cmd.admin"),
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )

    @group.command(name="limits", description=t("discord.cmd.admin_limits"))
    @app_commands.describe(
        limit=t("discord.opt.limit"), value=t("discord.opt.value"), user=t("discord.opt.user")
    )
    @app_commands.choices(limit=LIMIT_CHOICES)
    async def limits(
        interaction: discord.Interaction,
        limit: Choice[str],
        value: str,
        user: discord.User | None = None,
    ) -> None:
        async def work(me: Identity) -> str:
            key = limit.value
            parsed = parse_limit(key, value)
            if key == "community_monthly_usd" and user is not None:
                raise PixelsmithError("discord.admin.budget_needs_server")
            scope = user_scope(user) if user is not None else me.community_scope
            assert scope is not None  # guild_only
            await service.admin_set_limits(scope, {key: parsed})
            unit = "images" if key.endswith("images") else "jobs" if key.endswith("jobs") else "usd"
            return messages.text(
                "discord.admin.limits_set",
                me.locale,
                limit_name=messages.text(f"limit.{key}", me.locale),
                target=render.mention(user.id)
                if user
                else messages.text("discord.admin.this_server", me.locale),
                value=amount_text(parsed, unit, me.locale),
            )

        await actions.answer(interaction, work, admin_only=True)

    @group.command(name="grant", description=t("discord.cmd.admin_grant"))
    @app_commands.describe(
        user=t("discord.opt.user"), amount=t("discord.opt.amount"), unit=t("discord.opt.unit")
    )
    @app_commands.choices(unit=_choices("images", "usd"))
    async def grant(
        interaction: discord.Interaction, user: discord.User, amount: float, unit: Choice[str]
    ) -> None:
        async def work(me: Identity) -> str:
            value: float | int = amount
            if unit.value == "images":
                if amount != int(amount):
                    raise PixelsmithError("discord.admin.bad_value", value=amount)
                value = int(amount)
            await service.admin_grant(user_scope(user), value, unit.value)
            return messages.text(
                "discord.admin.granted",
                me.locale,
                amount=amount_text(value, unit.value, me.locale),
                target=render.mention(user.id),
            )

        await actions.answer(interaction, work, admin_only=True)

    @group.command(name="ban", description=t("discord.cmd.admin_ban"))
    @app_commands.describe(user=t("discord.opt.user"), reason=t("discord.opt.reason"))
    async def ban(
        interaction: discord.Interaction, user: discord.User, reason: str | None = None
    ) -> None:
        async def work(me: Identity) -> str:
            done = await service.admin_ban(user_scope(user), reason)
            key = "discord.admin.banned" if done else "discord.admin.already_banned"
            return messages.text(key, me.locale, target=render.mention(user.id))

        await actions.answer(interaction, work, admin_only=True)

    @group.command(name="unban", description=t("discord.cmd.admin_unban"))
    @app_commands.describe(user=t("discord.opt.user"))
    async def unban(interaction: discord.Interaction, user: discord.User) -> None:
        async def work(me: Identity) -> str:
            done = await service.admin_unban(user_scope(user))
            key = "discord.admin.unbanned" if done else "discord.admin.not_banned"
            return messages.text(key, me.locale, target=render.mention(user.id))

        await actions.answer(interaction, work, admin_only=True)

    @group.command(name="usage", description=t("discord.cmd.admin_usage"))
    @app_commands.describe(by=t("discord.opt.by"), days=t("discord.opt.days"))
    @app_commands.choices(by=_choices("user", "community", "model"))
    async def usage(
        interaction: discord.Interaction,
        by: Choice[str] | None = None,
        days: app_commands.Range[int, 1, 3660] = 30,
    ) -> None:
        async def work(me: Identity) -> str:
            return await usage_text(adapter, me.locale, by.value if by else "user", days)

        await actions.answer(interaction, work, admin_only=True)

    @group.command(name="chart", description=t("discord.cmd.admin_chart"))
    @app_commands.describe(by=t("discord.opt.by"), days=t("discord.opt.days"))
    @app_commands.choices(by=_choices("community", "model"))
    async def chart(
        interaction: discord.Interaction,
        by: Choice[str] | None = None,
        days: app_commands.Range[int, 1, 3660] = 30,
    ) -> None:
        await adapter.actions.chart(interaction, by.value if by else "community", days)

    return group


async def usage_text(adapter: DiscordAdapter, locale: str, by: str, days: int) -> str:
    since = (datetime.now(UTC) - timedelta(days=days)).date()
    rows: list[Any] = await adapter.service.usage(since, by)
    if not rows:
        return messages.text("discord.admin.usage_empty", locale, since=since.isoformat())
    by_name = messages.text(f"discord.choice.{by}", locale)
    lines = [
        messages.text("discord.admin.usage_title", locale, since=since.isoformat(), by=by_name)
    ]
    lines += [
        messages.text(
            "discord.admin.usage_line",
            locale,
            group=group_name(str(row.group)),
            jobs=row.jobs,
            images=row.images,
            cost=row.cost_usd,
        )
        for row in rows[:25]
    ]
    return render.fit(lines)
