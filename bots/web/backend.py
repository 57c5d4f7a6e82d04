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

from core import preferences
from core.errors import InvalidRequest, PixelsmithError
from core.limits import LIMIT_UNITS, parse_grant, parse_limit
from core.preferences import Preferences
from core.service import Attachment, ImageService
from core.types import (
    CHARGED_STATES,
    AuditEntry,
    BanEntry,
    DailySpend,
    Identity,
    ImageResult,
    JobView,
    LedgerRow,
)

log = logging.getLogger("pixelsmith.web")

MAX_HISTORY = 500
# What a community admin may set for the community (the operator's bound still caps each one).
LIMIT_KEYS = tuple(k for k in LIMIT_UNITS if k.startswith(("user_", "community_")))


class ResultPoster(Protocol):
    """A chat adapter that can post a finished result into ``identity.channel_id``."""

    async def post_result(self, identity: Identity, result: ImageResult) -> bool: ...


POSTERS = web.AppKey("posters", dict[str, Any])


@dataclass(frozen=True)
class MemberRow:
    member: str  # the platform's user id
    jobs: int
    images: int
    cost_micros: int


@dataclass(frozen=True)
class KeptImage:
    data: bytes
    mime: str = "image/png"


class WebBackend:
    """The web companion's view of the service (adapts the service API to the pages)."""

    def __init__(self, service: ImageService) -> None:
        self.service = service

    async def preferences(self, caller: Identity) -> Preferences:
        return await self.service.preferences(caller)

    async def set_preferences(
        self, caller: Identity, typed: dict[str, str | bool | int | None]
    ) -> Preferences:
        """The caller's own defaults in the session's community (checked by the service)."""
        return await self.service.set_preferences(caller, typed)

    def preference_choices(self) -> dict[str, list[str]]:
        return preferences.choices(self.service.catalog)

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

    async def kept_images(
        self, caller: Identity, job: JobView, *, shared: bool = False
    ) -> list[KeptImage]:
        """The result images of ``job`` still in the result store (empty: none kept).

        ``shared``: the source of an edit, which anyone who may see the job (see :meth:`job`)
        may start; otherwise only the caller's own (My images, downloads, re-delivery).
        """
        if not shared and not self.is_mine(caller, job):
            return []
        kept = await self.service.kept_results(caller, self.public_id(job), community=shared)
        return [KeptImage(data, mime) for data, mime in kept]

    @staticmethod
    def is_mine(caller: Identity, job: JobView) -> bool:
        return job.user_scope == caller.user_scope and job.community_scope == caller.community_scope

    async def kept_result(self, caller: Identity, job: JobView) -> ImageResult | None:
        """A kept result handed over again (free: nothing is charged), only the caller's own."""
        if not self.is_mine(caller, job):
            return None
        try:
            return await self.service.redeliver(caller, self.public_id(job))
        except PixelsmithError:
            return None

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
        markup: bytes | None = None,
    ) -> ImageResult:
        """The edit of ``job``'s first image (the others as references), as the caller: with
        a mask (the painted area changes) or a markup sketch over the first image."""
        files = [Attachment(k.data, f"source{i}.png") for i, k in enumerate(sources)]
        images = await self.service.prepare_images(files)
        prepared_mask = prepared_markup = None
        if mask is not None:
            prepared_mask = await self.service.prepare_mask(Attachment(mask, "mask.png"), images[0])
        if markup is not None:
            prepared_markup = await self.service.prepare_markup(
                Attachment(markup, "markup.png"), images[0]
            )
        request = self.service.rebuild(
            job,
            caller,
            idem_key=idem_key,
            prompt=prompt,
            images=images,
            mask=prepared_mask,
            markup=prepared_markup,
        )
        result = await self.service.run(request)
        try:  # a Re-roll of this edit, here or under the result in the chat, sends them again
            await self.service.keep_inputs(result.job_id, request)
        except Exception as exc:  # a courtesy for a later Re-roll: never withhold the result
            log.warning("inputs of job %s not kept (%s)", result.job_id, type(exc).__name__)
        return result

    def takes_markup(self, job: JobView) -> bool:
        """Whether the job's model takes a ``markup`` edit input (the painter offers Sketch)."""
        spec = self.service.catalog.get(job.model)
        return spec is not None and spec.markup and spec.api == "images"

    # -- the dashboard (admin sessions only; the pages check ``grant.admin`` first) ---------

    async def daily(self, caller: Identity, since: date | None) -> list[DailySpend]:
        """Spend per UTC day of the caller's community (the service filters by the caller)."""
        return await self.service.daily_spend(caller, since, by="community")

    async def members(self, caller: Identity, since: date | None) -> list[MemberRow]:
        rows = await self.service.usage(caller, since, by="user")
        prefix = f"user:{caller.platform}:"
        return [
            MemberRow(r.group.removeprefix(prefix), r.jobs, r.images, r.cost_micros) for r in rows
        ]

    async def daily_by_member(self, caller: Identity, since: date | None) -> list[DailySpend]:
        return await self.service.daily_spend(caller, since, by="user")

    async def audit(self, caller: Identity, limit: int = 50) -> list[AuditEntry]:
        return await self.service.audit(caller, limit=limit)

    async def attention(self, caller: Identity) -> list[JobView]:
        """Unknown outcomes and capped costs of the caller's community, newest first."""
        return await self.service.attention_jobs(caller)

    async def bans(self, caller: Identity) -> list[BanEntry]:
        """The members of the caller's community who are banned (named as Unban takes them)."""
        return await self.service.admin_bans(caller)

    async def ledger(self, caller: Identity, since: date | None) -> list[LedgerRow]:
        return await self.service.ledger(caller, since)

    async def set_limit(self, caller: Identity, member: str | None, key: str, raw: str) -> None:
        """One limit for a member or (``member`` None) every member of the caller's community,
        in the chat commands' language; the operator's bound still caps it. Audited."""
        value = parse_limit(key, raw)  # a LimitError names the value and the range
        await self.service.admin_set_limits(caller, member, {key: value})

    async def grant(self, caller: Identity, member: str, raw: str, unit: str, period: str) -> None:
        if period not in ("day", "month"):
            raise InvalidRequest("invalid.generic")
        amount = parse_grant(unit, raw)
        await self.service.admin_grant(caller, member, amount, unit, period)

    async def ban(self, caller: Identity, member: str, reason: str | None) -> None:
        await self.service.admin_ban(caller, member, reason)

    async def unban(self, caller: Identity, member: str) -> None:
        await self.service.admin_unban(caller, member)


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
