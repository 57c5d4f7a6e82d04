"""What a component interaction may say, checked before anything runs (a leaf module).

Our buttons carry ``px:<action>:<state>`` (at most 100 characters, Discord's limit):

- ``px:reroll|edit|region|upscale|upscale_go|vary|vary_strong:<job ref>``: a job, looked up for
  the clicker only (its community and channel, see :mod:`bots.discord.cogs.buttons`); never
  trusted as more than a name. ``vary`` is Vary (subtle) (the Variations button of older
  results means the same); ``upscale_go`` confirms an Upscale whose estimate was shown.
- ``px:suggest|force:<token>``: a refused request waiting in the database under a random token
  (``ImageService.remember``: 16 random bytes as hex), found only for the member it refused.
- ``px:form:<token>``: a modal (a prompt) whose context waits in the database the same way
  (:mod:`bots.discord.forms`).

:func:`parse` returns None for anything else: junk, a known action with a malformed or
oversized state, or more than 100 characters. :func:`dispatchable` says whether discord.py will
hand a click to one of our buttons (a parsed id of a button that is on the clicked message);
the buttons cog answers every other click with "this button is no longer valid".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import discord

MAX_CUSTOM_ID = 100
JOB_ACTIONS = ("reroll", "edit", "region", "upscale", "vary", "vary_strong", "upscale_go")
PENDING_ACTIONS = ("suggest", "force")
REF = r"[A-Za-z0-9_-]{1,32}"  # a public job id: url-safe, at most 32 characters
TOKEN = r"[0-9a-f]{32}"  # ImageService.remember's tokens: 16 random bytes as hex
FORM_PREFIX = "px:form:"
JOB_TEMPLATE = rf"px:(?P<action>{'|'.join(JOB_ACTIONS)}):(?P<ref>{REF})"
PENDING_TEMPLATE = rf"px:(?P<action>{'|'.join(PENDING_ACTIONS)}):(?P<token>{TOKEN})"
_JOB = re.compile(JOB_TEMPLATE)
_PENDING = re.compile(PENDING_TEMPLATE)


@dataclass(frozen=True)
class JobClick:
    action: str
    ref: str


@dataclass(frozen=True)
class PendingClick:
    action: str
    token: str


def parse(custom_id: object) -> JobClick | PendingClick | None:
    if not isinstance(custom_id, str) or len(custom_id) > MAX_CUSTOM_ID:
        return None
    if match := _JOB.fullmatch(custom_id):
        return JobClick(match["action"], match["ref"])
    if match := _PENDING.fullmatch(custom_id):
        return PendingClick(match["action"], match["token"])
    return None


def _custom_ids(components: list[Any]) -> Iterator[str]:
    for component in components:
        if isinstance(component, discord.ActionRow):
            yield from _custom_ids(list(component.children))
        elif isinstance(component, discord.Button) and component.custom_id:
            yield component.custom_id


def dispatchable(interaction: discord.Interaction) -> bool:
    """A click on one of our buttons, on the message that carries it (what discord.py routes)."""
    data: dict[str, Any] = dict(interaction.data or {})
    custom_id = data.get("custom_id")
    if data.get("component_type") != discord.ComponentType.button.value:
        return False
    if parse(custom_id) is None or interaction.message is None:
        return False
    return custom_id in set(_custom_ids(list(interaction.message.components)))
