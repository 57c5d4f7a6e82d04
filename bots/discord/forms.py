"""The prompt modals (Edit, the "Edit image" menu, remix) and their submits, in any process.

A modal's ``custom_id`` is ``px:form:<token>``; the token names its context in the database
(``ImageService.remember``: which flow it finishes and what that flow needs, e.g. the job and
button of a remix, the attachments of an edit), for the member who opened it and for
:data:`FORM_TIMEOUT_S`. discord.py keeps nothing: the modal is taken out of its store as soon as
it is sent, so every submit, in whichever process on the database receives it, goes through
:meth:`Forms.submit`. A submit whose token is unknown, expired, forged or another member's
answers "this form is no longer valid" and nothing runs.

A flow is a handler the cogs register by name (:meth:`Forms.handle`): code, not state.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import discord

from bots.discord.components import FORM_PREFIX
from core import messages
from core.service import ImageService
from core.types import Identity

log = logging.getLogger("pixelsmith.discord")

PROMPT_MAX = 4000  # Discord's text input limit
MODAL_TITLE_MAX = 45  # Discord: a modal's title is at most 45 characters
FORM_TIMEOUT_S = 900.0
FORM_KIND = "discord_form"
PROMPT_FIELD = "prompt"  # the text input's custom_id

# (the submit's interaction, the prompt typed, the flow's payload)
Flow = Callable[[discord.Interaction, str, dict[str, Any]], Awaitable[None]]
# (the submit's interaction, every text input by custom_id, the flow's payload): a modal of
# several fields (its builder gets the modal's custom_id)
FieldsFlow = Callable[[discord.Interaction, dict[str, str], dict[str, Any]], Awaitable[None]]
ModalBuilder = Callable[[str], discord.ui.Modal]


def prompt_modal(
    locale: str, custom_id: str, *, default: str | None = None, title: str | None = None
) -> discord.ui.Modal:
    """The modal: one paragraph input for the prompt, inside a Label (Discord's modal layout;
    the action-row form is deprecated, discord.py has ``discord.ui.Label`` since 2.6)."""
    title = title or messages.text("discord.modal.edit_title", locale)
    modal = discord.ui.Modal(title=title[:MODAL_TITLE_MAX], timeout=None, custom_id=custom_id)
    field: discord.ui.TextInput[discord.ui.Modal] = discord.ui.TextInput(
        custom_id=PROMPT_FIELD,
        placeholder=messages.text("discord.modal.prompt_placeholder", locale),
        style=discord.TextStyle.paragraph,
        default=default[:PROMPT_MAX] if default else None,
        max_length=PROMPT_MAX,
    )
    modal.add_item(
        discord.ui.Label(text=messages.text("chat.modal.prompt", locale), component=field)
    )
    return modal


def _inputs(components: Any) -> Iterator[dict[str, Any]]:
    for component in components if isinstance(components, list) else []:
        if not isinstance(component, dict):
            continue
        if component.get("type") == discord.ComponentType.text_input.value:
            yield component
        yield from _inputs(component.get("components"))  # an action row
        if isinstance(component.get("component"), dict):  # a Label
            yield from _inputs([component["component"]])


def submitted_fields(interaction: discord.Interaction) -> dict[str, str]:
    """Every text input a modal submit carries, by custom_id (at most Discord's 4000 each)."""
    data: dict[str, Any] = dict(interaction.data or {})
    return {
        str(field["custom_id"]): str(field["value"])[:PROMPT_MAX]
        for field in _inputs(data.get("components"))
        if isinstance(field.get("custom_id"), str) and isinstance(field.get("value"), str)
    }


def submitted_prompt(interaction: discord.Interaction) -> str | None:
    """The prompt a modal submit carries, or None."""
    return submitted_fields(interaction).get(PROMPT_FIELD)


class Forms:
    """Opens prompt modals whose context is kept in the database, and routes their submits."""

    def __init__(self, service: ImageService) -> None:
        self.service = service
        self._flows: dict[str, Flow] = {}
        self._field_flows: dict[str, FieldsFlow] = {}

    def handle(self, flow: str, handler: Flow) -> None:
        self._flows[flow] = handler

    def handle_fields(self, flow: str, handler: FieldsFlow) -> None:
        self._field_flows[flow] = handler

    async def open(
        self,
        interaction: discord.Interaction,
        identity: Identity,
        flow: str,
        payload: dict[str, Any],
        *,
        locale: str,
        default: str | None = None,
        title: str | None = None,
    ) -> None:
        """Keep the flow's context for ``identity``, then show the modal (the first response)."""

        def build(custom_id: str) -> discord.ui.Modal:
            return prompt_modal(locale, custom_id, default=default, title=title)

        await self.open_modal(interaction, identity, flow, payload, build)

    async def open_modal(
        self,
        interaction: discord.Interaction,
        identity: Identity,
        flow: str,
        payload: dict[str, Any],
        build: ModalBuilder,
    ) -> None:
        """Keep the flow's context for ``identity``, then show ``build``'s modal (the first
        response). What the member types is never kept: only ``payload``."""
        token = await self.service.remember(
            identity, FORM_KIND, {**payload, "flow": flow}, ttl_s=FORM_TIMEOUT_S
        )
        if token is None:  # only images can be too large to keep, and a form keeps none
            raise RuntimeError("form context not kept")
        modal = build(f"{FORM_PREFIX}{token}")
        await interaction.response.send_modal(modal)
        modal.stop()  # discord.py forgets it: the submit is ours, in whichever process

    async def submit(self, interaction: discord.Interaction, identity: Identity) -> bool:
        """Run the flow a submit finishes; False (nothing ran) when it is not one we can."""
        custom_id = dict(interaction.data or {}).get("custom_id")
        if not isinstance(custom_id, str) or not custom_id.startswith(FORM_PREFIX):
            return False
        state = await self.service.recall(identity, FORM_KIND, custom_id[len(FORM_PREFIX) :])
        name = str(state.payload.get("flow")) if state is not None else ""
        fields_flow = self._field_flows.get(name)
        if state is not None and fields_flow is not None:
            await fields_flow(interaction, submitted_fields(interaction), state.payload)
            return True
        flow = self._flows.get(name)
        prompt = submitted_prompt(interaction)
        if state is None or flow is None or prompt is None:
            return False
        await flow(interaction, prompt, state.payload)
        return True
