"""Request inputs taken from Discord: attachments -> prepared images."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bots.discord import attachments
from bots.discord.attachments import AttachmentLike, Downloads
from core.errors import PixelsmithError
from core.service import ImageService
from core.types import PreparedImage


def images_in(message: discord.Message | None) -> list[discord.Attachment]:
    found = [a for a in (message.attachments if message else []) if attachments.looks_like_image(a)]
    if not found:
        raise PixelsmithError("chat.no_images")
    return found


class Inputs:
    """Downloads attachments (from allowed hosts only) and hands them to core's intake."""

    def __init__(self, service: ImageService, downloads: Downloads) -> None:
        self.service = service
        self.downloads = downloads

    async def images(self, files: Sequence[AttachmentLike]) -> tuple[PreparedImage, ...]:
        return await self.service.prepare_images(await self.downloads.fetch(files))

    async def mask(self, mask: discord.Attachment, base: PreparedImage) -> PreparedImage:
        [raw] = await self.downloads.fetch([mask])
        return await self.service.prepare_mask(raw, base)

    async def markup(self, sketch: discord.Attachment, base: PreparedImage) -> PreparedImage:
        [raw] = await self.downloads.fetch([sketch])
        return await self.service.prepare_markup(raw, base)
