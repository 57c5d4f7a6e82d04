"""One image job for one interaction: who asks, defer, run through core, deliver or explain.

The idempotency key is ``discord:interaction:<id>``: when two bot processes receive the same
interaction, the one whose defer loses (40060) stays silent, and core's claim of the key turns any
other duplicate into ``DuplicateJob`` (also silent), so one interaction is one job.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord

from bots.discord import render, views
from bots.discord.memory import Sources
from bots.discord.progress import ProgressReporter
from bots.discord.reply import Reply
from core import messages
from core.config import Settings
from core.errors import DuplicateJob, PixelsmithError, PreflightRefused, Refused
from core.packing import UploadLimits, pack_outputs, repack_smaller
from core.types import Identity, ImageRequest, ImageResult

if TYPE_CHECKING:
    from bots.discord.app import DiscordAdapter

log = logging.getLogger("pixelsmith.discord")

MAX_FILES_PER_MESSAGE = 10
MAX_MESSAGE_BYTES = 25 * 1024 * 1024 - 256 * 1024  # margin for the multipart envelope
REPACKS = 3
TOO_LARGE = 40005

RequestMaker = Callable[[Reply], Awaitable[ImageRequest]]


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


async def run_job(
    adapter: DiscordAdapter, interaction: discord.Interaction, make: RequestMaker
) -> None:
    """Defer, build the request (``make``), run it, deliver; every failure replies."""
    reply = Reply(interaction, locale_of(interaction))
    if not await reply.defer():
        return
    request: ImageRequest | None = None
    try:
        request = await make(reply)
        result = await _run(adapter, reply, request)
        if request.images:
            adapter.sources.put(result.job_id, Sources(request.images, request.mask))
        await deliver(reply, result, interaction.filesize_limit)
    except DuplicateJob:
        await reply.discard()  # another delivery of this interaction owns the job
    except PixelsmithError as exc:
        await explain(adapter, reply, exc, request)
    except Exception:
        log.exception("discord job failed")
        await tell(reply, messages.text("error.internal", reply.locale))


async def _run(adapter: DiscordAdapter, reply: Reply, request: ImageRequest) -> ImageResult:
    reporter = ProgressReporter(
        reply,
        model=request.model,
        prompt=request.prompt,
        interval=adapter.progress_interval,
        budget=adapter.edit_budget,
    )
    try:
        return await adapter.service.run(request, reporter)
    finally:
        await reporter.close()


async def explain(
    adapter: DiscordAdapter, reply: Reply, exc: PixelsmithError, request: ImageRequest | None
) -> None:
    """The failure's sentence, ephemeral, with the refusal buttons when they can help."""
    identity = request.identity if request is not None else None
    text = render.failure(
        exc,
        reply.locale,
        admin=bool(identity and identity.is_admin),
        base_url=adapter.settings.provider.base_url,
    )
    view = None
    if request is not None and isinstance(exc, PreflightRefused | Refused):
        suggestion = exc.params.get("suggestion") or None
        force = isinstance(exc, PreflightRefused)
        if suggestion or force:
            token = adapter.pending.add(request, suggestion)
            view = views.refusal_view(token, reply.locale, suggest=bool(suggestion), force=force)
    await tell(reply, text, view)


async def tell(reply: Reply, text: str, view: discord.ui.View | None = None) -> None:
    try:
        await reply.failure(text, view)
    except discord.HTTPException as exc:
        log.warning("could not tell the user about a failure: %s %s", exc.status, exc.code)


def upload_limits(filesize_limit: int) -> UploadLimits:
    return UploadLimits(
        max_file_bytes=filesize_limit,
        max_files_per_message=MAX_FILES_PER_MESSAGE,
        max_message_bytes=MAX_MESSAGE_BYTES,
    )


def _too_large(exc: discord.HTTPException) -> bool:
    return exc.status == 413 or exc.code == TOO_LARGE


async def deliver(reply: Reply, result: ImageResult, filesize_limit: int) -> None:
    """Header + images split to Discord's limits; after a 413, re-pack what is left smaller."""
    images, limits, sent = list(result.images), upload_limits(filesize_limit), 0
    batches, notes = await pack_outputs(images, limits)
    requester = render.mention(reply.requester)
    for attempt in range(REPACKS + 1):
        try:
            for batch in batches:
                first = sent == 0
                header = render.result_header(result, reply.locale, requester, notes)
                view = views.result_view(result.job_id, reply.locale) if first else None
                await reply.send_batch(header if first else None, batch, view, first=first)
                sent += len(batch)
            return
        except discord.HTTPException as exc:
            if not _too_large(exc) or attempt == REPACKS:
                raise
            log.info("upload refused as too large; re-packing %d images", len(images) - sent)
            batches, more, limits = await repack_smaller(images[sent:], limits)
            notes = [*notes, *more]
