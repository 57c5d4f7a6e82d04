"""Request inputs taken from Discord: attachments -> prepared images, earlier requests -> options."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bots.discord import attachments
from bots.discord.attachments import Downloads
from core.errors import PixelsmithError
from core.request import Options
from core.service import ImageService
from core.types import ImageRequest, PreparedImage


def options_of(request: ImageRequest, *, force: bool = False) -> Options:
    """The options of an earlier request, to send it again (suggested prompt, send anyway)."""
    return Options(
        model=request.model,
        size=request.size,
        quality=request.quality,
        n=request.n,
        background=request.background,
        moderation=request.moderation,
        output_format=request.output_format,
        input_fidelity=request.input_fidelity,
        force=force or request.force or None,
    )


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

    async def images(self, files: Sequence[discord.Attachment]) -> tuple[PreparedImage, ...]:
        return await self.service.prepare_images(await self.downloads.fetch(files))

    async def mask(self, mask: discord.Attachment, base: PreparedImage) -> PreparedImage:
        [raw] = await self.downloads.fetch([mask])
        return await self.service.prepare_mask(raw, base)

    async def markup(self, sketch: discord.Attachment, base: PreparedImage) -> PreparedImage:
        [raw] = await self.downloads.fetch([sketch])
        return await self.service.prepare_markup(raw, base)
