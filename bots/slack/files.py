"""Slack files -> core attachments: only from Slack's file hosts, the bot token only to them."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from bots.slack.runtime import SlackBot
from core.errors import InvalidImage
from core.fetch import fetch_bytes
from core.types import Attachment, PreparedImage

_IMAGE_TYPES = {"png", "jpg", "jpeg", "webp"}
_IMAGE_MIMES = {"image/png", "image/jpeg", "image/webp"}
DOWNLOAD_TIMEOUT_S = 60.0


def image_files(files: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The files that may be images (stubs without a type are resolved later)."""
    out = []
    for file in files or []:
        kind = str(file.get("filetype") or "").lower()
        mime = str(file.get("mimetype") or "").lower()
        if kind in _IMAGE_TYPES or mime in _IMAGE_MIMES or (not kind and not mime):
            out.append(file)
    return out


async def _resolve(bot: SlackBot, file: dict[str, Any]) -> dict[str, Any]:
    """Events may carry a stub (``file_access: check_file_info``): ask files.info."""
    if file.get("url_private_download") or file.get("url_private"):
        return file
    answer = await bot.client.files_info(file=str(file["id"]))
    return dict(answer["file"])


async def _download(
    bot: SlackBot, session: aiohttp.ClientSession, file: dict[str, Any]
) -> Attachment:
    file = await _resolve(bot, file)
    name = str(file.get("name") or file.get("id") or "image")
    url = str(file.get("url_private_download") or file.get("url_private") or "")
    token = bot.client.token or ""
    data = await fetch_bytes(
        session,
        url,
        allowed_hosts=bot.settings.slack.file_hosts,
        max_bytes=bot.settings.images.max_input_bytes,
        timeout_s=DOWNLOAD_TIMEOUT_S,
        headers={"Authorization": f"Bearer {token}"},
        name=name,
    )
    return Attachment(
        data=data,
        name=name,
        declared_size=file.get("size"),
        declared_type=file.get("mimetype"),
    )


async def prepare(bot: SlackBot, files: list[dict[str, Any]]) -> tuple[PreparedImage, ...]:
    """Download (in parallel) and sanitize; typed failures (InvalidImage) propagate."""
    candidates = image_files(files)
    if not candidates:
        raise InvalidImage("chat.no_images")
    session = bot.http
    if session is None:
        raise RuntimeError("SlackBot.http is not open")
    attachments = await asyncio.gather(*(_download(bot, session, f) for f in candidates))
    return await bot.service.prepare_images(list(attachments))
