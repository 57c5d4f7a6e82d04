"""A paid-for result to the user: packing, 413 re-packing, retries, or an honest failure.

- Packing follows Discord's limits: 10 files and 25 MiB a message, the interaction's per-file
  ``attachment_size_limit``. After a 413/40005, what is left is re-packed smaller.
- Transient failures (5xx, 429 beyond discord.py's own waits, timeouts, connection resets) are
  retried with backoff while the interaction token lives (15 minutes from the interaction), then
  in the channel itself (a few more tries).
- Anything else (403/50013 Missing Permissions, 50001 Missing Access, 404 ...) is permanent:
  :class:`DeliveryFailed`, and the job runner tells the user that the image was made and charged.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
import discord

from bots.discord import render, views
from bots.discord.reply import ChannelPost, Reply
from core.errors import Note
from core.packing import OutputFile, UploadLimits, pack_outputs, repack_smaller
from core.types import ImageResult

log = logging.getLogger("pixelsmith.discord")

MAX_FILES_PER_MESSAGE = 10
MAX_MESSAGE_BYTES = 25 * 1024 * 1024 - 256 * 1024  # margin for the multipart envelope
REPACKS = 3
TOO_LARGE = 40005
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
TOKEN_LIFETIME = timedelta(minutes=15)
TOKEN_MARGIN = timedelta(seconds=30)


@dataclass(frozen=True)
class Retry:
    """Backoff for transient upload failures: ``base_s`` doubling up to ``cap_s``."""

    base_s: float = 1.0
    cap_s: float = 30.0
    channel_attempts: int = 5

    def delay(self, failures: int) -> float:
        return float(min(self.cap_s, self.base_s * 2 ** max(0, failures - 1)))


class DeliveryFailed(Exception):
    """The result could not be posted; ``reason`` names why (a message key suffix)."""

    def __init__(self, reason: str, sent: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sent = sent


def upload_limits(filesize_limit: int) -> UploadLimits:
    return UploadLimits(
        max_file_bytes=filesize_limit,
        max_files_per_message=MAX_FILES_PER_MESSAGE,
        max_message_bytes=MAX_MESSAGE_BYTES,
    )


def too_large(exc: BaseException) -> bool:
    return isinstance(exc, discord.HTTPException) and (exc.status == 413 or exc.code == TOO_LARGE)


def transient(exc: BaseException) -> bool:
    if isinstance(exc, discord.HTTPException):
        return exc.status >= 500 or exc.status == 429
    return isinstance(exc, discord.RateLimited | TimeoutError | aiohttp.ClientError | OSError)


def reason_of(exc: BaseException) -> str:
    if isinstance(exc, discord.HTTPException):
        if exc.code == MISSING_PERMISSIONS:
            return "permissions"
        if exc.code == MISSING_ACCESS or exc.status == 403:
            return "access"
        if too_large(exc):
            return "too_large"
        if exc.status == 404:
            return "gone"
    if transient(exc):
        return "unavailable"
    return "other"


def token_deadline(interaction: discord.Interaction) -> datetime:
    return interaction.created_at + TOKEN_LIFETIME - TOKEN_MARGIN


async def deliver(
    reply: Reply | ChannelPost,
    result: ImageResult,
    filesize_limit: int,
    *,
    retry: Retry,
    deadline: datetime,
    region: bool = False,
) -> None:
    """Header + images split to Discord's limits, retried and re-packed as the module says."""
    images, limits = list(result.images), upload_limits(filesize_limit)
    batches, first_notes = await pack_outputs(images, limits)
    notes: list[Note] = list(first_notes)
    pending: deque[list[OutputFile]] = deque(list(b) for b in batches)
    requester = render.mention(reply.requester)
    sent = repacks = failures = channel_failures = 0
    while pending:
        batch, first = pending[0], sent == 0
        header = render.result_header(result, reply.locale, requester, notes) if first else None
        ref = result.public_id  # never the row id: buttons carry only the public id
        view = (
            views.result_view(ref, reply.locale, region=region, moves=result.moves)
            if first and ref
            else None
        )
        try:
            await reply.send_batch(header, batch, view, first=first)
        except Exception as exc:
            if too_large(exc) and repacks < REPACKS:
                repacks += 1
                log.info("upload refused as too large; re-packing %d images", len(images) - sent)
                smaller, more, limits = await repack_smaller(images[sent:], limits)
                notes += more
                pending = deque(list(b) for b in smaller)
                continue
            if not transient(exc):
                raise DeliveryFailed(reason_of(exc), sent) from exc
            failures += 1
            if reply.in_channel:
                channel_failures += 1
                if channel_failures > retry.channel_attempts:
                    raise DeliveryFailed(reason_of(exc), sent) from exc
            wait = retry.delay(failures)
            late = datetime.now(UTC) + timedelta(seconds=wait) > deadline
            if isinstance(reply, Reply) and not reply.in_channel and late:
                log.info("upload still failing near the token's end; posting in the channel")
                reply.in_channel = True
            log.info("upload failed (%s); retry %d in %.1f s", reason_of(exc), failures, wait)
            await asyncio.sleep(wait)
            continue
        pending.popleft()
        sent += len(batch)
