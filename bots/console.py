"""A terminal chat through the same core as Discord and Slack: try everything without tokens.

Commands: ``/imagine PROMPT [flags]``, ``/edit FILE [FILE ...] -- PROMPT [flags]``, ``/quota``,
``/history``, ``/help``, ``/quit``. A line without a command is treated as ``/imagine``.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
from pathlib import Path
from typing import TextIO

from bots.cli import TerminalProgress, _read_file, local_identity, save_images
from core import incidents, messages
from core.config import Settings
from core.errors import PixelsmithError
from core.service import ImageService
from core.types import Identity

HELP = {
    "en": "Commands: /imagine PROMPT [--ar 2:3 --q high --n 2 --model M], "
    "/edit FILE [FILE...] [--mask FILE] -- PROMPT, /quota, /history, /help, /quit",
    "zh": "命令：/imagine 提示词 [--ar 2:3 --q high --n 2 --model 模型]，"
    "/edit 文件 [文件...] [--mask 文件] -- 提示词，/quota，/history，/help，/quit",
}


async def run_console(
    settings: Settings, args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO
) -> int:
    locale = messages.lang(getattr(args, "lang", None) or settings.console.locale)
    service = await ImageService.create(settings, allow_demo_fallback=True)
    await service.start()
    identity = local_identity(args, locale, platform="console")
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
    locale = identity.locale
    if not line:
        return True
    command, _, rest = line.partition(" ") if line.startswith("/") else ("/imagine", "", line)
    try:
        if command in ("/quit", "/exit"):
            return False
        if command == "/help":
            out.write(HELP[messages.lang(locale)] + "\n")
        elif command == "/imagine":
            await _imagine(rest, service, identity, folder, out, err)
        elif command == "/edit":
            await _edit(rest, service, identity, folder, out, err)
        elif command == "/quota":
            out.write(format_quota(await service.quota_status(identity), locale) + "\n")
        elif command == "/history":
            for job in await service.history(identity):
                out.write(
                    f"{job.created_at:%Y-%m-%d %H:%M}  {job.state:<16} "
                    f"${job.cost_micros / 1e6:.4f}  {job.prompt}\n"
                )
        else:
            out.write(HELP[messages.lang(locale)] + "\n")
    except PixelsmithError as exc:
        base_url = service.settings.provider.base_url
        err.write(messages.render(exc, locale, admin=True, base_url=base_url) + "\n")
    except Exception as exc:  # a bug: say so with its incident id, and keep the console open
        err.write(incidents.incident_text(exc, locale, f"console {command}") + "\n")
    return True


async def _imagine(
    text: str, service: ImageService, identity: Identity, folder: Path, out: TextIO, err: TextIO
) -> None:
    request = service.build(text, identity)
    result = await service.run(request, TerminalProgress(err, identity.locale, request.model))
    _report(result, folder, out, identity.locale)


async def _edit(
    text: str, service: ImageService, identity: Identity, folder: Path, out: TextIO, err: TextIO
) -> None:
    files_part, sep, prompt = text.partition(" -- ")
    if not sep:
        raise PixelsmithError("console.edit_usage")
    words = shlex.split(files_part)
    mask_path = None
    if "--mask" in words:
        i = words.index("--mask")
        mask_path = words[i + 1] if i + 1 < len(words) else None
        words = words[:i] + words[i + 2 :]
    images = await service.prepare_images([_read_file(w) for w in words])
    mask = await service.prepare_mask(_read_file(mask_path), images[0]) if mask_path else None
    request = service.build(prompt, identity, images=images, mask=mask)
    result = await service.run(request, TerminalProgress(err, identity.locale, request.model))
    _report(result, folder, out, identity.locale)


def _report(result: object, folder: Path, out: TextIO, locale: str) -> None:
    from core.types import ImageResult

    assert isinstance(result, ImageResult)
    for path in save_images(result, folder, "pixelsmith"):
        out.write(f"{path}\n")
    for item in result.notes:
        if item.key != "note.demo_fallback":  # said once when the console starts
            out.write(messages.note(item, locale) + "\n")
    key = "result.cost_demo" if result.demo else "result.cost"
    out.write(messages.text(key, locale, cost=result.cost_usd) + "\n")


def format_quota(status: object, locale: str) -> str:
    """A plain-text quota summary (one line per limit)."""
    lines = []
    for item in getattr(status, "limits", []) or []:
        name = messages.text(f"limit.{item.name}", locale)
        if item.limit is None:
            lines.append(f"{name}: {messages.text('status.unlimited', locale)}")
            continue
        resets = messages.default_time_format(item.resets_at) if item.resets_at else ""
        lines.append(f"{name}: {item.remaining} / {item.limit}  {resets}".rstrip())
    return "\n".join(lines) or messages.text("status.unlimited", locale)
