"""What the web companion asks of core, in one place: every call goes through ImageService and is
made as the session's caller, so the service's tenancy rules apply to every page and endpoint.

Results go back to the chat they came from through the adapter of that platform, which offers
``post_result(identity, result) -> bool`` (see :class:`ResultPoster`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from aiohttp import web

from core.errors import PixelsmithError
from core.service import Attachment, ImageService
from core.types import (
    CHARGED_STATES,
    DailySpend,
    GeneratedImage,
    Identity,
    ImageResult,
    JobView,
    UsageRow,
)

log = logging.getLogger("pixelsmith.web")

MAX_HISTORY = 500


class ResultPoster(Protocol):
    """A chat adapter that can post a finished result into ``identity.channel_id``."""

    async def post_result(self, identity: Identity, result: ImageResult) -> bool: ...


POSTERS = web.AppKey("posters", dict[str, Any])


@dataclass(frozen=True)
class KeptImage:
    data: bytes
    mime: str = "image/png"


class WebBackend:
    """The web companion's view of the service (adapts the service API to the pages)."""

    def __init__(self, service: ImageService) -> None:
        self.service = service

    async def job(self, caller: Identity, public_id: str) -> JobView | None:
        """The job behind a link or page, only where the caller could see it in the chat.

        That is the chat buttons' rule: a job of the caller's own community (a DM job: only its
        owner; :meth:`ImageService.job_for` checks the community), and there the caller's own job
        or one posted in the channel the session's link came from (a member of a server may not
        read a private channel's results by id).
        """
        job = await self.service.job_for(caller, public_id)
        if job is None or self.is_mine(caller, job):
            return job
        if caller.community_scope is None or caller.channel_id is None:
            return None  # a DM context is one user's own
        return job if str(job.request.get("channel_id")) == caller.channel_id else None

    @staticmethod
    def public_id(job: JobView) -> str:
        return job.public_id

    async def kept_images(self, caller: Identity, job: JobView) -> list[KeptImage]:
        """The result images of ``job`` still in the result store (empty: none kept)."""
        return []

    @staticmethod
    def is_mine(caller: Identity, job: JobView) -> bool:
        return job.user_scope == caller.user_scope and job.community_scope == caller.community_scope

    async def kept_result(self, caller: Identity, job: JobView) -> ImageResult | None:
        """A kept result as it was delivered (free: nothing is charged), to post it again."""
        kept = await self.kept_images(caller, job)
        if not kept or not self.is_mine(caller, job):
            return None
        request = self.service.rebuild(job, caller, idem_key=f"web:again:{job.id}")
        images = tuple(GeneratedImage(k.data, k.mime) for k in kept)
        return ImageResult(job_id=job.id, request=request, images=images, cost_micros=0)

    async def my_jobs(self, caller: Identity, *, offset: int, limit: int) -> list[JobView]:
        """The caller's own finished jobs with images in the caller's community, newest first."""
        wanted = min(offset + limit + 1, MAX_HISTORY)
        jobs = await self.service.history(caller, limit=wanted)
        mine = [
            j
            for j in jobs
            if j.community_scope == caller.community_scope
            and j.state in CHARGED_STATES
            and j.images_delivered > 0
        ]
        return mine[offset : offset + limit + 1]

    async def run_edit(
        self,
        caller: Identity,
        job: JobView,
        *,
        prompt: str,
        sources: list[KeptImage],
        mask: bytes | None,
        idem_key: str,
    ) -> ImageResult:
        """The edit of ``job``'s first image (the others as references), as the caller."""
        files = [Attachment(k.data, f"source{i}.png") for i, k in enumerate(sources)]
        images = await self.service.prepare_images(files)
        prepared_mask = None
        if mask is not None:
            prepared_mask = await self.service.prepare_mask(Attachment(mask, "mask.png"), images[0])
        request = self.service.rebuild(
            job, caller, idem_key=idem_key, prompt=prompt, images=images, mask=prepared_mask
        )
        return await self.service.run(request)

    # -- the dashboard (admin sessions only; the pages check ``grant.admin`` first) ---------

    async def daily(self, caller: Identity, since: date | None) -> list[DailySpend]:
        return await self.service.daily_spend(caller, since, by="community")

    async def members(self, caller: Identity, since: date | None) -> list[UsageRow]:
        raise PixelsmithError("error.internal")


BACKEND = web.AppKey("backend", WebBackend)


async def post_back(posters: dict[str, Any], caller: Identity, result: ImageResult) -> bool:
    """Post ``result`` where the caller's link came from; False when that is not possible."""
    poster = posters.get(caller.platform)
    if poster is None or not caller.channel_id or not hasattr(poster, "post_result"):
        return False
    try:
        return bool(await poster.post_result(caller, result))
    except Exception:
        log.exception("web: posting a result back to %s failed", caller.platform)
        return False
