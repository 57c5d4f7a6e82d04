"""Discord attachments -> core intake: size checked first, then a download from an allowed host.

Only ``discord.attachment_hosts`` are trusted (Discord's CDN by default); the declared size is
checked against ``images.max_input_bytes`` before a byte is read, and ``fetch_bytes`` enforces
the cap again while reading and follows no redirects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import aiohttp
import discord

from core.config import Settings
from core.errors import InvalidImage
from core.fetch import fetch_bytes
from core.types import Attachment

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
DOWNLOAD_TIMEOUT_S = 30.0
_MB = 1024 * 1024


class AttachmentLike(Protocol):
    """What a download needs of an attachment (a ``discord.Attachment`` or a :class:`Remote`)."""

    @property
    def url(self) -> str: ...
    @property
    def filename(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def content_type(self) -> str | None: ...


@dataclass(frozen=True)
class Remote:
    """An attachment as kept in a modal's context (:mod:`bots.discord.forms`): downloaded on
    submit, by whichever process receives it, under the same host and size checks."""

    url: str
    filename: str
    size: int
    content_type: str | None = None

    @classmethod
    def of(cls, attachment: discord.Attachment) -> Remote:
        return cls(attachment.url, attachment.filename, attachment.size, attachment.content_type)

    def saved(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def load(cls, saved: Any) -> list[Remote]:
        """The attachments a context kept (anything malformed is left out)."""
        found = []
        for item in saved if isinstance(saved, list) else []:
            try:
                remote = cls(
                    str(item["url"]), str(item["filename"]), int(item["size"]),
                    None if item.get("content_type") is None else str(item["content_type"]),
                )  # fmt: skip
            except (KeyError, TypeError, ValueError):
                continue
            found.append(remote)
        return found


def looks_like_image(attachment: discord.Attachment) -> bool:
    kind = (attachment.content_type or "").split(";")[0].strip().lower()
    return kind in IMAGE_TYPES or attachment.filename.lower().endswith(IMAGE_SUFFIXES)


def check_size(attachment: AttachmentLike, limit: int) -> None:
    if attachment.size > limit:
        raise InvalidImage(
            "image.too_large",
            name=attachment.filename,
            size_mb=round(attachment.size / _MB, 1),
            limit_mb=round(limit / _MB, 1),
        )


async def download(
    session: aiohttp.ClientSession,
    settings: Settings,
    attachments: Sequence[AttachmentLike],
) -> list[Attachment]:
    """Every attachment's bytes, or an ``InvalidImage`` before anything is reserved."""
    limit = settings.images.max_input_bytes
    for attachment in attachments:
        check_size(attachment, limit)

    async def one(attachment: AttachmentLike) -> Attachment:
        data = await fetch_bytes(
            session,
            attachment.url,
            allowed_hosts=settings.discord.attachment_hosts,
            max_bytes=limit,
            timeout_s=DOWNLOAD_TIMEOUT_S,
            name=attachment.filename,
        )
        return Attachment(
            data=data,
            name=attachment.filename,
            declared_size=attachment.size,
            declared_type=attachment.content_type,
        )

    return list(await asyncio.gather(*(one(a) for a in attachments)))


class Downloads:
    """Attachment downloads with one lazily opened session (it never sends a token anywhere)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None

    async def fetch(self, attachments: Sequence[AttachmentLike]) -> list[Attachment]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return await download(self._session, self.settings, attachments)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
