"""``/pixelsmith-admin`` as a group cog: limits, grants, bans, usage, spend chart.

``default_permissions(manage_guild)`` only hides the group from members by default, and a guild
admin can change that: every subcommand is checked again in code (``Answers.answer(...,
admin_only=True)``: Manage Server, Administrator, or a role in ``discord.admin_roles``).

Every call goes through the service's caller-scoped admin API with the caller's identity: it acts
on members of the caller's own server only (their member scope there) and reports only that
server; an admin of server B can neither limit, grant, ban nor see anyone of server A.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bots import chat_keys
from bots.discord import render, web
from bots.discord.answers import Answers
from bots.discord.choices import LIMIT_CHOICES, Choice, choices, t
from bots.discord.forms import Forms
from bots.discord.identity import identity_of, locale_of
from bots.discord.keys import KeyCommand
from bots.discord.reply import Reply, tell
from core import incidents, messages
from core.account import clip
from core.charts import chart_title, spend_chart_png
from core.errors import PixelsmithError
from core.limits import parse_grant, parse_limit
from core.service import ImageService
from core.types import Identity

log = logging.getLogger("pixelsmith.discord")


def amount_text(value: float | int | None, unit: str, locale: str) -> str:
    if value is None:
        return messages.text("status.unlimited", locale)
    return messages.text(f"unit.{unit}", locale, value=value)


def group_name(group: str) -> str:
    """A report row's group as Discord shows it: users as mentions."""
    for prefix in ("user:discord:", "member:discord:"):
        if group.startswith(prefix):
            return render.mention(group.rsplit(":", 1)[1])
    return group


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class AdminCog(
    commands.GroupCog, group_name="pixelsmith-admin", group_description=t("discord.cmd.admin")
):
    def __init__(self, service: ImageService, answers: Answers, forms: Forms) -> None:
        self.service = service
        self.answers = answers
        self.keys = KeyCommand(service, answers, forms)

    @app_commands.command(name="key", description=t("discord.cmd.admin_key"))
    @app_commands.describe(action=t("discord.opt.key_action"))
    @app_commands.choices(action=choices(*chat_keys.ACTIONS))
    async def key(self, interaction: discord.Interaction, action: Choice[str]) -> None:
        """This server's own gateway key (:mod:`bots.discord.keys`)."""
        await self.keys.run(interaction, action.value)

    @app_commands.command(name="limits", description=t("discord.cmd.admin_limits"))
    @app_commands.describe(
        limit=t("discord.opt.limit"), value=t("discord.opt.value"), user=t("discord.opt.user")
    )
    @app_commands.choices(limit=LIMIT_CHOICES)
    async def limits(
        self,
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
            target = str(user.id) if user is not None else None  # None: this server's default
            await self.service.admin_set_limits(me, target, {key: parsed})
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

        await self.answers.answer(interaction, work, admin_only=True)

    @app_commands.command(name="grant", description=t("discord.cmd.admin_grant"))
    @app_commands.describe(
        user=t("discord.opt.user"),
        amount=t("discord.opt.amount"),
        unit=t("discord.opt.unit"),
        period=t("discord.opt.period"),
    )
    @app_commands.choices(unit=choices("images", "usd"), period=choices("day", "month"))
    async def grant(
        self,
        interaction: discord.Interaction,
        user: discord.User,
        amount: float,
        unit: Choice[str],
        period: Choice[str] | None = None,
    ) -> None:
        async def work(me: Identity) -> str:
            value = parse_grant(unit.value, amount)  # the one grant language: negative takes back
            when = period.value if period else "month"
            await self.service.admin_grant(me, str(user.id), value, unit.value, when)
            key = "discord.admin.granted_day" if when == "day" else "discord.admin.granted"
            return messages.text(
                key,
                me.locale,
                amount=amount_text(value, unit.value, me.locale),
                target=render.mention(user.id),
            )

        await self.answers.answer(interaction, work, admin_only=True)

    @app_commands.command(name="ban", description=t("discord.cmd.admin_ban"))
    @app_commands.describe(user=t("discord.opt.user"), reason=t("discord.opt.reason"))
    async def ban(
        self, interaction: discord.Interaction, user: discord.User, reason: str | None = None
    ) -> None:
        async def work(me: Identity) -> str:
            done = await self.service.admin_ban(me, str(user.id), reason)
            key = "chat.admin.banned" if done else "chat.admin.already_banned"
            return messages.text(key, me.locale, target=render.mention(user.id))

        await self.answers.answer(interaction, work, admin_only=True)

    @app_commands.command(name="unban", description=t("discord.cmd.admin_unban"))
    @app_commands.describe(user=t("discord.opt.user"))
    async def unban(self, interaction: discord.Interaction, user: discord.User) -> None:
        async def work(me: Identity) -> str:
            done = await self.service.admin_unban(me, str(user.id))
            key = "chat.admin.unbanned" if done else "chat.admin.not_banned"
            return messages.text(key, me.locale, target=render.mention(user.id))

        await self.answers.answer(interaction, work, admin_only=True)

    @app_commands.command(name="usage", description=t("discord.cmd.admin_usage"))
    @app_commands.describe(by=t("discord.opt.by"), days=t("discord.opt.days"))
    @app_commands.choices(by=choices("user", "community", "model"))
    async def usage(
        self,
        interaction: discord.Interaction,
        by: Choice[str] | None = None,
        days: app_commands.Range[int, 1, 3660] = 30,
    ) -> None:
        async def work(me: Identity) -> str:
            return await self.usage_text(me, by.value if by else "user", days)

        await self.answers.answer(interaction, work, admin_only=True)

    async def usage_text(self, me: Identity, by: str, days: int) -> str:
        locale = me.locale
        since = (datetime.now(UTC) - timedelta(days=days)).date()
        rows: list[Any] = await self.service.usage(me, since, by)
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

    @app_commands.command(name="audit", description=t("discord.cmd.admin_audit"))
    @app_commands.describe(limit=t("discord.opt.limit_rows"))
    async def audit(
        self, interaction: discord.Interaction, limit: app_commands.Range[int, 1, 25] = 10
    ) -> None:
        """The newest admin actions of this server (never another server's)."""

        async def work(me: Identity) -> str:
            entries = await self.service.audit(me, limit=limit)
            if not entries:
                return messages.text("discord.admin.audit_empty", me.locale)
            lines = [messages.text("discord.admin.audit_title", me.locale)]
            lines += [
                messages.text(
                    "discord.admin.audit_line",
                    me.locale,
                    when=render.discord_time(entry.at),
                    who=group_name(entry.actor),
                    action=entry.action,
                    target=group_name(entry.target),
                    before=clip(str(entry.before), 60),
                    after=clip(str(entry.after), 60),
                )
                for entry in entries
            ]
            return render.fit(lines)

        await self.answers.answer(interaction, work, admin_only=True)

    @app_commands.command(name="dashboard", description=t("discord.cmd.admin_dashboard"))
    async def dashboard(self, interaction: discord.Interaction) -> None:
        """A private link to this server's dashboard in the web companion."""

        async def work(me: Identity) -> str:
            return web.dashboard_text(self.answers.settings, me)

        await self.answers.answer(interaction, work, admin_only=True)

    @app_commands.command(name="chart", description=t("discord.cmd.admin_chart"))
    @app_commands.describe(by=t("discord.opt.by"), days=t("discord.opt.days"))
    @app_commands.choices(by=choices("community", "model"))
    async def chart(
        self,
        interaction: discord.Interaction,
        by: Choice[str] | None = None,
        days: app_commands.Range[int, 1, 3660] = 30,
    ) -> None:
        """The daily spend chart as an ephemeral PNG (the same chart as the CLI's)."""
        locale = locale_of(interaction)
        reply = Reply(interaction, locale)
        if not await reply.defer(ephemeral=True):
            return
        me = identity_of(interaction, self.answers.settings)
        if not me.is_admin:
            await tell(reply, messages.text("discord.admin.denied", locale))
            return
        grouped = by.value if by else "community"
        since = (datetime.now(UTC) - timedelta(days=days)).date()
        try:
            rows = await self.service.daily_spend(me, since, grouped)
            png = await spend_chart_png(
                rows, title=chart_title(grouped, since, locale), by=grouped, locale=locale
            )
        except Exception as exc:
            await tell(reply, incidents.incident_text(exc, locale, "the Discord spend chart"))
            return
        await interaction.followup.send(
            file=discord.File(io.BytesIO(png), filename="pixelsmith-spend.png"), ephemeral=True
        )
