"""A terminal chat through the same core as Discord and Slack: try everything without tokens.

Commands: ``/imagine PROMPT [flags]``, ``/edit FILE [FILE ...] -- PROMPT [flags]``, ``/quota``,
``/history`` (``/history JOB`` hands a kept result over again, free), ``/settings`` (``/settings
quality=high n=2`` changes the console user's defaults, see :mod:`core.preferences`), ``/gallery``
(a link to My images in the web companion), ``/help``, ``/quit``. A line without a command is
treated as ``/imagine``.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
from pathlib import Path
from typing import TextIO

from bots.terminal import (
    TerminalProgress,
    local_identity,
    output_folder,
    read_file,
    safe,
    save_images,
    tell_reaped,
)
from core import incidents, messages, preferences
from core.account import quota_view
from core.config import Settings
from core.errors import InvalidRequest, PixelsmithError
from core.preferences import Preferences
from core.service import ImageService
from core.types import Identity, ImageResult, QuotaStatus

HELP = {
    "en": "Commands: /imagine PROMPT [--ar 2:3 --q high --n 2 --model M], "
    "/edit FILE [FILE...] [--mask FILE] -- PROMPT, /quota, /history [JOB], /settings [name=value ...], /gallery, /help, /quit",
    "zh": "命令：/imagine 提示词 [--ar 2:3 --q high --n 2 --model 模型]，"
    "/edit 文件 [文件...] [--mask 文件] -- 提示词，/quota，/history [任务编号]，/settings [名称=值 ...]，/gallery，/help，/quit",
}


async def run_console(
    settings: Settings, args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO
) -> int:
    locale = messages.lang(getattr(args, "lang", None) or settings.console.locale)
    service = await ImageService.create(settings, allow_demo_fallback=True)
    await service.start()
    identity = local_identity(args, locale, platform="console")
    await tell_reaped(service, identity, err)
    folder = Path(getattr(args, "out", None) or settings.console.out_dir)
    out.write(f"Pixelsmith console — {HELP[locale]}\n")
    if service.demo_fallback:
        out.write(messages.text("note.demo_fallback", locale) + "\n")
    try:
        while True:
            if stdin.isatty():
                out.write("> ")
                out.flush()
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                return 0
            if not await handle_line(line.strip(), service, identity, folder, out, err):
                return 0
    finally:
        await service.close()


async def handle_line(
    line: str, service: ImageService, identity: Identity, folder: Path, out: TextIO, err: TextIO
) -> bool:
    """Run one console line; False means quit."""
    if not line:
        return True
    locale = identity.locale
    command, _, rest = line.partition(" ") if line.startswith("/") else ("/imagine", "", line)
    try:
        if command in ("/quit", "/exit"):
            return False
        identity, prefs = await service.localized(identity)  # the language setting wins
        locale = identity.locale
        if command == "/help":
            out.write(HELP[messages.lang(locale)] + "\n")
        elif command == "/imagine":
            await _imagine(rest, service, identity, prefs, folder, out, err)
        elif command == "/edit":
            await _edit(rest, service, identity, prefs, folder, out, err)
        elif command == "/settings":
            if rest.strip():
                prefs = await service.set_preferences(
                    identity, dict(preferences.parse_assignments(rest))
                )
                identity, prefs = await service.localized(identity)
                out.write(messages.text("prefs.saved", identity.locale) + "\n")
            out.write(preferences.summary(prefs, identity.locale) + "\n")
        elif command == "/quota":
            out.write(format_quota(await service.quota_status(identity), locale) + "\n")
        elif command == "/history" and rest.strip():
            # /history JOB: the kept images of one of my jobs, again, free
            output_folder(folder)
            result = await service.redeliver(identity, rest.strip())
            _report(result, folder, out, locale)
        elif command == "/history":
            for job in await service.history(identity):
                out.write(
                    f"{job.public_id}  {job.created_at:%Y-%m-%d %H:%M}  {job.state:<16} "
                    f"${job.cost_micros / 1e6:.4f}  {safe(job.prompt)}\n"
                )
        elif command == "/gallery":
            out.write(gallery_line(service.settings, identity) + "\n")
        else:
            out.write(HELP[messages.lang(locale)] + "\n")
    except PixelsmithError as exc:
        base_url = service.settings.provider.base_url
        err.write(messages.render(exc, locale, admin=True, base_url=base_url) + "\n")
    except Exception as exc:  # a bug: say so with its incident id, and keep the console open
        err.write(incidents.incident_text(exc, locale, f"console {command}") + "\n")
    return True


async def _imagine(
    text: str,
    service: ImageService,
    identity: Identity,
    prefs: Preferences,
    folder: Path,
    out: TextIO,
    err: TextIO,
) -> None:
    request = service.build(text, identity, prefs=prefs)
    output_folder(folder)  # before the paid call
    result = await service.run(request, TerminalProgress(err, identity.locale, request.model))
    _report(result, folder, out, identity.locale)


async def _edit(
    text: str,
    service: ImageService,
    identity: Identity,
    prefs: Preferences,
    folder: Path,
    out: TextIO,
    err: TextIO,
) -> None:
    files_part, sep, prompt = text.partition(" -- ")
    if not sep:
        raise InvalidRequest("console.edit_usage")
    try:
        words = shlex.split(files_part)
    except ValueError:  # an unterminated quote
        raise InvalidRequest("console.edit_usage") from None
    mask_path = None
    if "--mask" in words:
        i = words.index("--mask")
        if i + 1 >= len(words):
            raise InvalidRequest("console.edit_usage")
        mask_path = words[i + 1]
        words = words[:i] + words[i + 2 :]
    if not words:
        raise InvalidRequest("console.edit_usage")
    limit = service.settings.images.max_input_bytes
    files = [read_file(w, limit) for w in words]
    mask_file = read_file(mask_path, limit) if mask_path else None
    images = await service.prepare_images(files)
    mask = await service.prepare_mask(mask_file, images[0]) if mask_file else None
    request = service.build(prompt, identity, images=images, mask=mask, prefs=prefs)
    output_folder(folder)  # before the paid call
    result = await service.run(request, TerminalProgress(err, identity.locale, request.model))
    _report(result, folder, out, identity.locale)


def gallery_line(settings: Settings, identity: Identity) -> str:
    """``/gallery``: a one-time link to the console user's own results (My images)."""
    from bots.web.links import link_for

    url = link_for(settings, "gallery", identity)
    if url is None:
        return messages.text("cli.web_off", identity.locale)
    minutes = round(settings.web.link_minutes)
    return messages.text("console.gallery", identity.locale, minutes=minutes, url=url)


def _report(result: ImageResult, folder: Path, out: TextIO, locale: str) -> None:
    for path in save_images(result, folder, "pixelsmith"):
        out.write(f"{safe(path)}\n")
    for item in result.notes:
        if item.key != "note.demo_fallback":  # said once when the console starts
            out.write(messages.note(item, locale) + "\n")
    if result.extra.get("redelivered"):
        return  # the note above said it was free
    key = "result.cost_demo" if result.demo else "result.cost"
    out.write(messages.text(key, locale, cost=result.cost_usd) + "\n")


def format_quota(status: QuotaStatus, locale: str) -> str:
    """A plain-text quota summary (one line per limit)."""
    lines = []
    for line in quota_view(status, locale).limits:
        if not line.limited:
            lines.append(f"{line.name}: {messages.text('status.unlimited', locale)}")
            continue
        resets = messages.default_time_format(line.resets_at) if line.resets_at else ""
        lines.append(f"{line.name}: {line.remaining} / {line.limit}  {resets}".rstrip())
    return "\n".join(lines) or messages.text("status.unlimited", locale)
