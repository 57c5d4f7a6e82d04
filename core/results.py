"""The result store: the images a job made, kept on disk so a paid-for result is never lost.

The service writes a job's images here *before* it returns them to an adapter (so before any
platform upload): when the upload fails for good, or the user wants the images again, they are
handed over again for free while kept (:meth:`core.service.ImageService.redeliver`).

Where and how long: ``results.dir`` (default: a folder ``<database name>-results`` next to the
SQLite file, ``./pixelsmith-results`` for PostgreSQL) and ``results.keep_days`` (default 7;
``0`` keeps nothing). A sweep deletes what is older, at start-up and on the reaper's timer.

Privacy: these files are the users' images. Folders are created ``0700`` and files ``0600``;
nothing else (no prompt, no user id) is written beside them: a job's folder is named by the
job's number only, and its ``manifest.json`` lists file names, types and sizes.

Layout: ``<dir>/<job id>/<i>.<png|jpg|webp>`` + ``manifest.json``. A job's folder appears
atomically (written under a temporary name, then renamed), so a reader never sees half a result.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from core.types import GeneratedImage

log = logging.getLogger("pixelsmith.results")

DAY_S = 86_400.0
_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
_MIME = {ext: mime for mime, ext in _EXT.items()}
# A kept image is at most what the upstream may return (the provider's download cap); reading one
# back is bounded by this so a damaged store can never exhaust memory.
MAX_FILE_BYTES = 64 * 1024 * 1024
SWEEP_EVERY_S = 3600.0


def default_dir(database_url: str) -> Path:
    """``sqlite:///data/pixelsmith.db`` -> ``data/pixelsmith-results``; else ``./pixelsmith-results``."""
    prefix = "sqlite:///"
    if database_url.startswith(prefix):
        path = database_url[len(prefix) :].split("?", 1)[0]
        if path and path != ":memory:":
            db = Path(path).expanduser()
            return db.with_name(f"{db.stem}-results")
    return Path("pixelsmith-results")


class ResultStore:
    """Keep, load and sweep the images of jobs (all file work runs in a thread)."""

    def __init__(self, folder: Path, keep_days: float) -> None:
        self.folder = folder
        self.keep_days = keep_days
        self._last_sweep = 0.0

    @property
    def enabled(self) -> bool:
        return self.keep_days > 0

    @property
    def keep_s(self) -> float:
        return self.keep_days * DAY_S

    def _job_dir(self, job_id: int) -> Path:
        return self.folder / str(int(job_id))

    # -- writing ------------------------------------------------------------------------------

    async def keep(self, job_id: int, images: Sequence[GeneratedImage]) -> bool:
        """Write the images of ``job_id``. False (and a log line) if they could not be kept:
        keeping is a safety net, never a reason to withhold an image that was paid for."""
        if not self.enabled or not images:
            return False
        try:
            await asyncio.to_thread(self._keep_sync, job_id, tuple(images))
        except OSError as exc:
            log.warning("result store: job %s not kept (%s)", job_id, type(exc).__name__)
            return False
        return True

    def _keep_sync(self, job_id: int, images: tuple[GeneratedImage, ...]) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        final = self._job_dir(job_id)
        if final.exists():
            return  # kept already (a job settles once)
        staging = Path(tempfile.mkdtemp(prefix=f".{job_id}-", dir=self.folder))
        try:
            manifest = []
            for i, image in enumerate(images):
                name = f"{i}.{_EXT.get(image.mime, 'png')}"
                fd = os.open(staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(image.data)
                manifest.append(
                    {"file": name, "mime": image.mime, "width": image.width, "height": image.height}
                )
            (staging / "manifest.json").write_text(json.dumps({"images": manifest}))
            os.chmod(staging / "manifest.json", 0o600)
            os.rename(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    # -- reading ------------------------------------------------------------------------------

    async def load(self, job_id: int) -> tuple[GeneratedImage, ...] | None:
        """The kept images of ``job_id``, or None if nothing is kept (any more)."""
        if not self.enabled:
            return None
        try:
            return await asyncio.to_thread(self._load_sync, job_id)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("result store: job %s unreadable (%s)", job_id, type(exc).__name__)
            return None

    def _load_sync(self, job_id: int) -> tuple[GeneratedImage, ...] | None:
        folder = self._job_dir(job_id)
        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file() or self._expired(folder):
            return None
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        images = []
        for item in manifest["images"]:
            name = Path(str(item["file"])).name  # never a path outside the job's folder
            with (folder / name).open("rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:
                raise ValueError("kept file too large")
            mime = _MIME.get(name.rsplit(".", 1)[-1], "image/png")
            images.append(
                GeneratedImage(
                    data=data, mime=mime, width=item.get("width"), height=item.get("height")
                )
            )
        return tuple(images) or None

    def kept_until(self, job_id: int) -> float | None:
        """When the kept images of ``job_id`` will be swept (epoch seconds), None if not kept."""
        try:
            return self._job_dir(job_id).stat().st_mtime + self.keep_s
        except OSError:
            return None

    def _expired(self, folder: Path, now: float | None = None) -> bool:
        return folder.stat().st_mtime + self.keep_s <= (time.time() if now is None else now)

    # -- retention ----------------------------------------------------------------------------

    async def sweep(self, *, now: float | None = None) -> int:
        """Delete every kept result older than ``keep_days``; returns how many were deleted."""
        self._last_sweep = time.monotonic()
        if not self.folder.is_dir():
            return 0
        try:
            return await asyncio.to_thread(self._sweep_sync, now)
        except OSError as exc:
            log.warning("result store: sweep failed (%s)", type(exc).__name__)
            return 0

    async def sweep_if_due(self) -> int:
        """:meth:`sweep`, at most once per hour per process (one-shot commands call this)."""
        if time.monotonic() - self._last_sweep < SWEEP_EVERY_S and self._last_sweep:
            return 0
        return await self.sweep()

    def _sweep_sync(self, now: float | None) -> int:
        removed = 0
        now = time.time() if now is None else now
        for entry in self.folder.iterdir():
            stale_staging = entry.name.startswith(".") and entry.stat().st_mtime < now - DAY_S
            if entry.is_dir() and (
                stale_staging or (entry.name.isdigit() and self._expired(entry, now))
            ):
                shutil.rmtree(entry, ignore_errors=True)
                removed += not stale_staging
        return removed
