"""Buttons. Buttons are ``DynamicItem``s: their ``custom_id`` carries the state (a job
reference, or the token of a refused request kept in the database), so they work in any process
and after a restart once
``client.add_dynamic_items(*DYNAMIC_ITEMS)`` ran in ``setup_hook``. A click becomes a bot event
(``client.dispatch(JOB_CLICK, ...)``) that the buttons cog listens to: this module holds no flow
logic and knows no cog. What a custom_id may say is :mod:`bots.discord.components`; the modals
are :mod:`bots.discord.forms`.

Anyone who can see a result may click Re-roll / Edit / Upscale / Vary: the new job is charged to
the clicker, under the clicker's quota, and only in the job's own server and channel. Refusal
buttons and the Upscale confirmation sit on ephemeral messages (only the clicker sees them).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bots.discord.components import JOB_TEMPLATE, PENDING_TEMPLATE
from core import messages

log = logging.getLogger("pixelsmith.discord")

# Bot events (``on_<name>`` listeners): (action, state, interaction).
JOB_CLICK = "pixelsmith_job_button"
PENDING_CLICK = "pixelsmith_pending_button"

PENDING_KIND = "discord_refusal"  # what a refusal's buttons carry the token of
PENDING_TTL_S = 3600.0


class JobButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=JOB_TEMPLATE):
    """Re-roll / Edit / Upscale / Vary under a result; ``ref`` is only a name, checked per
    click. ``row``: the action row (Discord: at most 5 buttons a row)."""

    def __init__(self, action: str, ref: str, label: str = "", row: int | None = None) -> None:
        primary = action in ("reroll", "upscale_go")
        style = discord.ButtonStyle.primary if primary else discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(
                label=(label or action)[:80],  # Discord: a button label is at most 80
                style=style,
                custom_id=f"px:{action}:{ref}",
                row=row,
            )
        )
        self.action, self.ref = action, ref

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> JobButton:
        return cls(match["action"], match["ref"])

    async def callback(self, interaction: discord.Interaction) -> None:
        interaction.client.dispatch(JOB_CLICK, self.action, self.ref, interaction)


class PendingButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=PENDING_TEMPLATE):
    """Use suggested prompt / Send anyway, under a refusal; the request waits in the database
    (``ImageService.remember_request``) for :data:`PENDING_TTL_S`, for the refused member only."""

    def __init__(self, action: str, token: str, label: str = "") -> None:
        style = discord.ButtonStyle.success if action == "suggest" else discord.ButtonStyle.danger
        super().__init__(
            discord.ui.Button(label=label or action, style=style, custom_id=f"px:{action}:{token}")
        )
        self.action, self.token = action, token

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PendingButton:
        return cls(match["action"], match["token"])

    async def callback(self, interaction: discord.Interaction) -> None:
        interaction.client.dispatch(PENDING_CLICK, self.action, self.token, interaction)


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (JobButton, PendingButton)


def _label_key(action: str) -> str:
    return "chat.button.vary_subtle" if action == "vary" else f"chat.button.{action}"


# The finishing moves core offers (core.finishing) -> the button that starts each.
MOVE_ACTIONS = (("upscale", "upscale"), ("vary_subtle", "vary"), ("vary_strong", "vary_strong"))


def result_view(
    ref: str, locale: str, *, region: bool = False, moves: tuple[str, ...] = ()
) -> discord.ui.View:
    """Row 1: Re-roll / Edit (and Edit region while the web companion is on); row 2: the
    finishing moves the result offers (Upscale, Vary (subtle), Vary (strong))."""
    view = discord.ui.View(timeout=None)
    for action in ("reroll", "edit", "region"):
        if action == "region" and not region:
            continue
        view.add_item(JobButton(action, ref, messages.text(_label_key(action), locale), row=0))
    for move, action in MOVE_ACTIONS:
        if move in moves:
            label = messages.text(_label_key(action), locale)
            view.add_item(JobButton(action, ref, label, row=1))
    return view


def upscale_confirm_view(ref: str, locale: str, estimate_usd: float) -> discord.ui.View:
    """The one button of an Upscale confirmation (an ephemeral message): go ahead."""
    view = discord.ui.View(timeout=None)
    label = messages.text("chat.button.upscale_go", locale, cost=estimate_usd)
    view.add_item(JobButton("upscale_go", ref, label))
    return view


def refusal_view(token: str, locale: str, *, suggest: bool, force: bool) -> discord.ui.View | None:
    if not (suggest or force):
        return None
    view = discord.ui.View(timeout=None)
    for action, wanted in (("suggest", suggest), ("force", force)):
        if wanted:
            label = messages.text(_label_key(action), locale)
            view.add_item(PendingButton(action, token, label))
    return view
