"""Progress callbacks for core, turned into throttled edits of the thinking message.

Core awaits the callback inside the upstream stream and the fair queue, so it must return at
once: the edit runs in a background task, at most one per ``interval`` per message (Discord does
not publish edit rate limits; about one per second per message is safe), and only the latest
state is sent. An edit budget (a :class:`~core.pacing.TokenBucket`, ``rate`` edits a second across
the whole adapter) shared by all messages caps the total: under load (every queued job's position
changes whenever a slot frees) progress is best effort, results are not.
"""

from __future__ import annotations

import asyncio
import contextlib

from bots.discord import render
from bots.discord.reply import Reply
from core.pacing import TokenBucket
from core.types import Progress, Stage


def edit_budget(rate: float = 25.0) -> TokenBucket:
    """``rate`` progress edits a second across the whole adapter, as many at once."""
    return TokenBucket(rate, rate)


class ProgressReporter:
    """A ``ProgressCallback`` (``await reporter(progress)``) that edits at most once a second."""

    def __init__(
        self,
        reply: Reply,
        *,
        model: str,
        prompt: str,
        interval: float = 1.0,
        budget: TokenBucket | None = None,
        max_preview_bytes: int | None = None,
    ) -> None:
        self._reply = reply
        self._budget = budget
        self._max_preview = max_preview_bytes
        self._model = model
        self._prompt = prompt
        self._interval = interval
        self._latest: Progress | None = None
        self._preview: bytes | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def __call__(self, progress: Progress) -> None:
        if self._closed or progress.stage == Stage.DONE:
            return
        self._latest = progress
        preview = progress.preview
        if preview is not None and (self._max_preview is None or len(preview) <= self._max_preview):
            self._preview = preview  # larger than the per-file limit: text only
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush(), name="pixelsmith-progress")

    async def _flush(self) -> None:
        while self._latest is not None and not self._closed:
            if self._budget is not None and not self._budget.take():
                await asyncio.sleep(max(self._interval, 0.05))  # keep the latest for later
                continue
            current, self._latest = self._latest, None
            preview, self._preview = self._preview, None
            text = render.progress(current, self._reply.locale, self._model, self._prompt)
            await self._reply.progress(text, preview)
            await asyncio.sleep(self._interval)

    async def close(self) -> None:
        """No more edits (the result or a failure comes next)."""
        self._closed = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
