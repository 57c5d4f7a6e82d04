"""A member's own account in :class:`~core.service.ImageService` (a room of it, as a mixin):
quota, history, the jobs a button or link may name, and kept results handed over again for free.
Every id that comes from a user is untrusted: an unknown, malformed or other-community id finds
nothing, and nothing is reserved, sent or charged here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.catalog import Catalog, ModelSpec
from core.config import Settings
from core.errors import InvalidRequest, Note
from core.results import ResultStore
from core.rooms.finishing import shown_ref
from core.store import EVERYWHERE
from core.store.policy import effective_limits
from core.types import (
    GeneratedImage,
    Identity,
    ImageRequest,
    ImageResult,
    JobState,
    JobView,
    QuotaLeft,
    QuotaStatus,
)

if TYPE_CHECKING:
    from core.store import Store

# The limits QuotaLeft reports (see QuotaStatus.quota_left).
_LEFT_LIMITS = (
    "user_daily_images",
    "user_monthly_images",
    "user_daily_micros",
    "user_monthly_micros",
    "community_monthly_micros",
)


class AccountRoom:
    """Needs what ImageService sets up: settings, store, catalog, the result store, and the
    finishing room's ``moves``."""

    settings: Settings
    store: Store
    catalog: Catalog
    results: ResultStore

    if TYPE_CHECKING:

        def moves(
            self, spec: ModelSpec, images: Sequence[GeneratedImage], kept: bool
        ) -> tuple[str, ...]: ...

    async def quota_left(self, identity: Identity) -> QuotaLeft:
        config = effective_limits(self.settings.quota, identity)
        limits = await self.store.effective_limits_of(identity, config)
        if all(getattr(limits, name) is None for name in _LEFT_LIMITS):
            return QuotaLeft()  # nothing is limited: no need to add up the period's usage
        return (await self.store.quota_status(identity, config)).quota_left()

    async def quota_status(self, identity: Identity) -> QuotaStatus:
        # config limits only: the store applies the database overrides itself
        return await self.store.quota_status(
            identity, effective_limits(self.settings.quota, identity)
        )

    async def history(self, identity: Identity, limit: int = 10) -> list[JobView]:
        """The caller's own recent jobs: those made in the community it asks from; asked from
        outside any community (a DM, the terminal), all of its own jobs."""
        within = EVERYWHERE if identity.community_scope is None else identity.community_scope
        return await self.store.history(identity.user_scope, limit=limit, within=within)

    async def job(self, job_id: int) -> JobView | None:
        """By row id: for core and the operator only. Adapters use :meth:`job_for`."""
        return await self.store.get_job(job_id)

    async def job_for(self, caller: Identity, public_id: str) -> JobView | None:
        """The job a button or link names, if ``caller`` may use it: made on the caller's
        platform, in the caller's community (made outside any community: by the caller). None
        for an unknown, malformed, oversized or other-community id; never raises for an id."""
        job = await self.store.get_job_by_public_id(public_id)
        if job is None or not job.user_scope.startswith(f"user:{caller.platform}:"):
            return None
        if caller.community_scope is None:
            return (
                job if job.community_scope is None and job.user_scope == caller.user_scope else None
            )
        return job if job.community_scope == caller.community_scope else None

    async def redeliver(
        self, caller: Identity, job_id: int | str, *, operator: bool = False
    ) -> ImageResult:
        """The kept images of an earlier job, handed over again for free.

        ``job_id`` is untrusted input (typed by a user or from a button): a job that does not
        exist, is not in ``caller``'s community, or — unless ``caller.is_admin`` — is not the
        caller's own raises ``InvalidRequest("results.unknown_job")``; one whose images are no
        longer kept raises ``InvalidRequest("results.gone")`` naming the retention. Nothing is
        reserved, sent or charged; the result's ``cost_micros`` is 0 and it carries the note
        ``note.redelivered``. ``operator=True`` (the CLI) may deliver a job of any community.
        """
        job = await self._job_for(caller, job_id, operator=operator)
        if job is None:
            raise InvalidRequest("results.unknown_job", job=shown_ref(job_id))
        images = await self.results.load(job.id) if job.state == JobState.SUCCEEDED else None
        if not images:
            raise InvalidRequest("results.gone", job=shown_ref(job_id), days=self.results.keep_days)
        old = job.request
        request = ImageRequest(
            prompt=job.prompt,
            model=job.model,
            identity=caller,
            size=old.get("size"),
            quality=old.get("quality"),
            n=int(old.get("n") or len(images)),
            idem_key=job.idem_key,
        )
        return ImageResult(
            job_id=job.id,
            public_id=job.public_id,
            request=request,
            images=images,
            cost_micros=0,
            notes=(Note("note.redelivered", {"cost": job.cost_micros / 1_000_000}),),
            extra={"redelivered": True, "original_cost_micros": job.cost_micros},
            moves=self.moves(spec, images, True) if (spec := self.catalog.get(job.model)) else (),
        )

    async def kept_results(
        self, caller: Identity, ref: int | str, *, community: bool = False
    ) -> list[tuple[bytes, str]]:
        """The kept images of job ``ref`` as ``(bytes, mime)`` in order, for ``caller``: ``[]``
        when the job is unknown, malformed, in another community, not the caller's own (unless
        ``caller.is_admin``, or ``community=True``: any job of the caller's community, e.g. the
        source of an edit anyone there may start), not a success, or no longer kept
        (``settings.results.keep_days``). Free: nothing is reserved, sent or charged. ``ref`` is
        untrusted input."""
        job = await self._job_for(caller, ref, community=community)
        if job is None or job.state != JobState.SUCCEEDED:
            return []
        images = await self.results.load(job.id)
        return [(image.data, image.mime) for image in images or ()]

    async def _job_for(
        self,
        caller: Identity,
        ref: int | str,
        *,
        operator: bool = False,
        community: bool = False,
    ) -> JobView | None:
        """A job ``caller`` may hand over again, by its public id: :meth:`job_for` (the
        caller's platform and community), then the caller's own unless ``caller.is_admin`` or
        ``community`` (any job of the caller's community; in a DM still own only).
        ``operator`` (the CLI, acting for the deployment) finds a job of ``caller`` anywhere."""
        text = str(ref).strip()
        if not text or len(text) > 32 or not text.isascii():
            return None
        if operator:
            job = await self.store.get_job_by_public_id(text)
            return job if job is not None and job.user_scope == caller.user_scope else None
        job = await self.job_for(caller, text)
        if job is None:
            return None
        if community and caller.community_scope is not None:
            return job
        if not caller.is_admin and job.user_scope != caller.user_scope:
            return None
        return job
