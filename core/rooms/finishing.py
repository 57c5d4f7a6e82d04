"""The finishing moves of :class:`~core.service.ImageService` (a room of it, as a mixin):
Re-roll's request from an earlier job, which moves a result offers, the request of an Upscale or
a Vary, and the Upscale's quote. The rules (sizes, prompts, fidelity) are :mod:`core.finishing`;
this room applies them to a job, its kept images and the catalog.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from core import finishing
from core.catalog import Catalog, ModelSpec
from core.config import Settings
from core.errors import InvalidRequest
from core.request import Options
from core.results import ResultStore
from core.types import (
    Attachment,
    GeneratedImage,
    Identity,
    ImageRequest,
    JobState,
    JobView,
    PreparedImage,
)


def shown_ref(job_id: int | str) -> str:
    text = str(job_id)[:32]
    return "".join(c if c.isalnum() or c in "-_" else "?" for c in text)


class FinishingRoom:
    """Needs what ImageService sets up: the settings, the catalog, the result store, ``demo``,
    and its ``build`` and ``prepare_images``."""

    settings: Settings
    catalog: Catalog
    results: ResultStore
    demo: bool

    if TYPE_CHECKING:

        def build(
            self,
            text: str,
            identity: Identity,
            *,
            options: Options | None = None,
            images: tuple[PreparedImage, ...] = (),
            mask: PreparedImage | None = None,
            markup: PreparedImage | None = None,
            idem_key: str | None = None,
        ) -> ImageRequest: ...

        async def prepare_images(
            self, files: Sequence[Attachment]
        ) -> tuple[PreparedImage, ...]: ...

    def rebuild(
        self,
        job: JobView,
        identity: Identity,
        *,
        idem_key: str,
        prompt: str | None = None,
        images: tuple[PreparedImage, ...] = (),
        mask: PreparedImage | None = None,
        markup: PreparedImage | None = None,
        force: bool = False,
    ) -> ImageRequest:
        """A new request from an earlier job's options (Re-roll, Variations, suggested prompt);
        a re-roll of an edit passes the edit's inputs again (images, mask, markup).

        The new request is validated like a typed one and gets its own idempotency key, so each
        click is one job.
        """
        old = job.request
        options = Options(
            model=job.model,
            size=old.get("size"),
            quality=old.get("quality"),
            n=old.get("n"),
            background=old.get("background"),
            moderation=None if images else old.get("moderation"),
            output_format=old.get("output_format"),
            input_fidelity=old.get("input_fidelity") if images else None,
            force=force or None,
        )
        return self.build(
            prompt if prompt is not None else job.prompt,
            identity,
            options=options,
            images=images,
            mask=mask,
            markup=markup,
            idem_key=idem_key,
        )

    # -- finishing moves: Upscale, Vary (subtle / strong); the rules are core/finishing.py ----

    def moves(
        self, spec: ModelSpec, images: Sequence[GeneratedImage], kept: bool
    ) -> tuple[str, ...]:
        """The finishing moves a result offers: Upscale and Vary (subtle) need its first image
        from the result store (``kept``) and a model that edits (Upscale: a larger size within
        the catalog's limits); Vary (strong) is a new generation and always possible."""
        moves: list[str] = []
        if kept and images and spec.edits:
            first = images[0]
            if (
                first.width
                and first.height
                and finishing.next_size(spec, first.width, first.height)
            ):
                moves.append(finishing.UPSCALE)
            moves.append(finishing.VARY_SUBTLE)
        moves.append(finishing.VARY_STRONG)
        return tuple(moves)

    async def finish(
        self,
        job: JobView,
        identity: Identity,
        move: str,
        *,
        idem_key: str,
        prompt: str | None = None,
    ) -> ImageRequest:
        """The request of a finishing move (``finishing.UPSCALE``, ``VARY_SUBTLE``,
        ``VARY_STRONG``) on ``job`` as ``identity``, validated like a typed one; ``prompt``
        replaces the job's own (a remix). ``job`` is one the adapter resolved for the clicker
        (:meth:`job_for` and the adapter's visibility rule). The source image comes from the
        result store: not kept -> ``InvalidRequest("results.gone")``; a model that cannot
        (any more) -> ``InvalidRequest("finish.unavailable")``. Nothing is reserved here."""
        spec = self.catalog.get(job.model)
        if spec is None or move not in finishing.MOVES:
            raise InvalidRequest("finish.unavailable", model=job.model)
        old, base = job.request, prompt if prompt is not None else job.prompt
        limit = self.settings.safety.max_prompt_chars
        common = Options(
            model=job.model,
            quality=old.get("quality"),
            background=old.get("background"),
            output_format=old.get("output_format"),
        )
        if move == finishing.VARY_STRONG:
            options = replace(
                common, size=old.get("size"), n=old.get("n"), moderation=old.get("moderation")
            )
            text = finishing.strong_prompt(base, idem_key, limit)
            return self.build(text, identity, options=options, idem_key=idem_key)
        if not spec.edits:
            raise InvalidRequest("finish.unavailable", model=job.model)
        first = await self._first_kept(job)
        source = await self.prepare_images([Attachment(first.data, f"{job.public_id}.png")])
        fidelity = finishing.high_fidelity(spec)
        if move == finishing.VARY_SUBTLE:
            options = replace(common, size=old.get("size"), n=old.get("n"), input_fidelity=fidelity)
            return self.build(base, identity, options=options, images=source, idem_key=idem_key)
        size = self._upscale_size(spec, job, first)
        options = replace(common, size=size, n=1, input_fidelity=fidelity)
        text = finishing.upscale_prompt(base, limit)
        return self.build(text, identity, options=options, images=source, idem_key=idem_key)

    async def upscale_quote(self, job: JobView, *, prompt: str | None = None) -> finishing.Quote:
        """The size and expected cost of an Upscale of ``job`` beside one image like the
        original, for the confirmation adapters show first (errors as :meth:`finish`)."""
        spec = self.catalog.get(job.model)
        if spec is None or not spec.edits:
            raise InvalidRequest("finish.unavailable", model=job.model)
        first = await self._first_kept(job)
        size = self._upscale_size(spec, job, first)
        old, base = job.request, prompt if prompt is not None else job.prompt
        if self.demo:
            return finishing.Quote(size, 0, 0)
        estimate = spec.expected_micros(
            prompt=finishing.upscale_prompt(base, self.settings.safety.max_prompt_chars),
            quality=old.get("quality"),
            size=size,
            n=1,
            input_images=1,
            fidelity=finishing.high_fidelity(spec),
        )
        normal = spec.expected_micros(
            prompt=base,
            quality=old.get("quality"),
            size=old.get("size") or f"{first.width}x{first.height}",
            n=1,
        )
        return finishing.Quote(size, estimate, normal)

    async def _first_kept(self, job: JobView) -> GeneratedImage:
        images = await self.results.load(job.id) if job.state == JobState.SUCCEEDED else None
        if not images:
            raise InvalidRequest(
                "results.gone", job=shown_ref(job.public_id), days=self.results.keep_days
            )
        return images[0]

    @staticmethod
    def _upscale_size(spec: ModelSpec, job: JobView, first: GeneratedImage) -> str:
        dims = (first.width, first.height) if first.width and first.height else None
        dims = dims or finishing.parse_size(job.request.get("size"))
        size = finishing.next_size(spec, *dims) if dims else None
        if size is None:
            raise InvalidRequest("finish.no_larger_size", model=job.model)
        return size
