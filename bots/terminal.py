"""What the two terminal adapters (the ``pixelsmith`` command and the console) share.

A leaf module: it imports core only, and both :mod:`bots.cli` and :mod:`bots.console` import it
(never each other). Everything printed to a terminal that came from outside (a stored prompt, a
file name, a model's name) goes through :func:`safe` first, so control and bidi characters
(ESC, BEL, U+202E ...) can neither drive the terminal nor reorder what it shows.
"""

from __future__ import annotations

import argparse
import getpass
import os
import tempfile
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from core import messages
from core.errors import InvalidRequest
from core.types import Attachment, Identity, ImageResult, JobState, Progress, Stage

if TYPE_CHECKING:
    from core.service import ImageService


def safe(text: object) -> str:
    """``text`` for a terminal: control (Cc), format/bidi (Cf) and separator characters other
    than a plain space are shown escaped (``\\x1b``, ``\\u202e``) instead of acting."""
    out = []
    for char in str(text):
        if char == " " or unicodedata.category(char) not in ("Cc", "Cf", "Zl", "Zp", "Zs"):
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


def local_identity(args: argparse.Namespace, locale: str, platform: str = "cli") -> Identity:
    user = getattr(args, "as_user", None) or local_user()
    return Identity(
        platform=platform,
        user_id=user,
        community_id=getattr(args, "community", None),
        locale=messages.lang(locale),
        display_name=user,
        is_admin=True,
    )


def preferences_owner(identity: Identity) -> Identity:
    """Whose stored defaults a terminal command follows: the terminal user has one set, made
    with the console's ``/settings`` and followed by the console and the one-shot ``imagine``
    and ``edit`` alike (same user, same ``--community``)."""
    return replace(identity, platform="console")


async def tell_reaped(service: ImageService, identity: Identity, err: TextIO) -> int:
    """Tell this terminal user, once, about their earlier jobs the reaper ended (a command that
    was killed, e.g. ``kill -9``: its job was settled by the money rules when its lease ran out).
    Returns how many were told."""
    told = 0
    for job in await service.notices():
        if job.user_scope != identity.user_scope or not await service.claim_notice(job.id):
            continue  # another user's, or another process tells it (exactly once)
        key = "cli.reaped_released" if job.state == JobState.RELEASED else "cli.reaped_unknown"
        text = messages.text(
            key, identity.locale, job=job.id, prompt=safe(job.prompt[:200]), cost=job.cost_usd
        )
        err.write(text + "\n")
        told += 1
    return told


def local_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "local"


def save_images(result: ImageResult, out: Path, stem: str) -> list[Path]:
    """Write ``<stem>_<i>.<ext>`` into ``out``, skipping names that are taken."""
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    index = 0
    for image in result.images:
        ext = {"image/jpeg": "jpg", "image/webp": "webp"}.get(image.mime, "png")
        while True:
            path = out / f"{stem}_{index}.{ext}"
            index += 1
            try:
                with path.open("xb") as fh:  # "x": never overwrite, even in a race
                    fh.write(image.data)
            except FileExistsError:
                continue
            saved.append(path)
            break
    return saved


def output_folder(path: str | Path) -> Path:
    """The folder results will be saved in, created if missing and proven writable (a file is
    created and removed), else invalid input (exit code 2) naming the folder and the fix --
    checked before the paid call, so an image is never made and then thrown away."""
    folder = Path(path).expanduser()
    shown = safe(folder)
    if folder.exists() and not folder.is_dir():
        raise InvalidRequest("cli.out_not_folder", path=shown)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        raise InvalidRequest("cli.out_uncreatable", path=shown) from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".pixelsmith-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError:
        raise InvalidRequest("cli.out_unwritable", path=shown) from None
    return folder


class TerminalProgress:
    """Progress on stderr, only when it is a terminal."""

    def __init__(self, stream: TextIO, locale: str, model: str) -> None:
        self._stream = stream
        self._locale = locale
        self._model = safe(model)
        self._tty = stream.isatty()

    async def __call__(self, progress: Progress) -> None:
        if not self._tty:
            return
        line = messages.progress(progress, self._locale, self._model)
        self._stream.write(f"\r\x1b[2K{line}")
        self._stream.flush()
        if progress.stage == Stage.DONE:
            self._stream.write("\n")


def read_file(path: str, max_bytes: int) -> Attachment:
    """An input file, read at most ``max_bytes`` + 1 bytes (``/dev/zero`` or a huge file stops
    there: the intake then refuses it as too large). A missing or unreadable file is invalid
    input (exit code 2), checked before anything is reserved or sent."""
    p = Path(path)
    try:
        size = p.stat().st_size
        with p.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError:
        raise InvalidRequest("cli.unreadable_file", path=safe(path)) from None
    declared = max(size, len(data)) if len(data) > max_bytes else size
    return Attachment(data=data, name=p.name, declared_size=declared)


def terminal_locale(explicit: str | None, fallback: str = "en") -> str:
    return explicit or os.environ.get("LANG", "") or fallback
