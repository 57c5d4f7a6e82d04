"""ImageService: the one door every adapter knocks on.

Contract of :meth:`ImageService.run`, one /imagine from start to end:
validate (done by :meth:`build`; nothing reserved) -> pre-flight safety check (nothing sent) ->
claim the idempotency key and reserve the worst-case cost in one transaction -> wait for a fair
slot -> mark SUBMITTED -> exactly one upstream call -> settle the ledger with the real cost ->
return images and notes. Failures are typed (:mod:`core.errors`); a duplicate delivery of the same
key raises :class:`DuplicateJob` and does no work.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

import aiohttp
import openai

from core import incidents, preferences
from core.budget import Budget, make_budget
from core.catalog import Catalog, ModelSpec
from core.config import Settings
from core.errors import (
    Charge,
    ConfigError,
    DuplicateJob,
    Note,
    PixelsmithError,
    Refused,
    UpstreamError,
)
from core.images import IntakeLimits, intake_many, intake_mask
from core.keys import KeyChoice, KeyProblem
from core.pacing import AckFirst
from core.preferences import Preferences
from core.providers.base import Provider, ProviderCall, safety_identifier
from core.providers.routing import OfflineProvider, build_provider, demo_provider, warm_up
from core.request import Options, build_request, parse_prompt
from core.results import ResultStore
from core.rooms.account import AccountRoom
from core.rooms.admin import AdminRoom
from core.rooms.finishing import FinishingRoom
from core.rooms.interactions import InteractionsRoom
from core.rooms.keys import KeysRoom
from core.safety import check_prompt
from core.store import Store
from core.store.policy import effective_limits
from core.types import (
    Attachment,
    Identity,
    ImageRequest,
    ImageResult,
    JobState,
    JobView,
    PreparedImage,
    Progress,
    ProgressCallback,
    ProviderResult,
    Stage,
)

log = logging.getLogger("pixelsmith.service")

# Attachment and OfflineProvider live in core.types and core.providers.routing; adapters and
# tests have always imported them from here.
__all__ = ["COST_SANITY_FACTOR", "Attachment", "ImageService", "OfflineProvider", "open_store"]

# A reported usage that prices above this many times the request's worst-case estimate is not
# believed: the job is settled at the bound and flagged (see _bounded_cost).
COST_SANITY_FACTOR = 10
COST_SANITY_FLOOR_MICROS = 10_000

# Whose gateway account a job's cost went to (job events, the cost metric's label).
PAID_BY_OPERATOR, PAID_BY_COMMUNITY = "operator", "community"

# What the gateway says of a community's own key, in words for that community's admin.
OWN_KEY_FAILURES = {
    "upstream.bad_key": "byok.own_bad_key",
    "upstream.no_balance": "byok.own_no_balance",
    "upstream.forbidden": "byok.own_forbidden",
}

JobListener = Callable[[dict[str, Any]], Awaitable[None] | None]


class ImageService(FinishingRoom, InteractionsRoom, KeysRoom, AdminRoom, AccountRoom):
    """Everything an adapter may ask of core. Create with :meth:`create`; close with :meth:`close`."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store,
        provider: Provider,
        catalog: Catalog | None = None,
        http: aiohttp.ClientSession | None = None,
        owned: Sequence[Any] = (),
    ) -> None:
        self.settings = settings
        self.store = store
        self.provider = provider
        self.catalog = catalog or Catalog.from_settings(settings.models)
        self.http = http
        # SQLite: this process's fair queue; PostgreSQL: one budget for every process on it
        self.queue: Budget = make_budget(
            store,
            limit=settings.provider.max_concurrency,
            per_minute=settings.provider.requests_per_minute,
            lease_s=settings.database.lease_s,
        )
        self._open_keys()  # communities' own gateway keys, their providers and budgets
        self.results = ResultStore(
            settings.results.folder(settings.database.url), settings.results.keep_days
        )
        self.demo = bool(getattr(provider, "demo", False))
        self.demo_fallback = False
        self._owned = list(owned)
        # provider.salt / PIXELSMITH_SALT, else a random salt kept in the database (see _salt()).
        self._salt_value: str | None = (
            settings.provider.salt.get_secret_value() if settings.provider.salt else None
        )
        self._reaper: asyncio.Task[None] | None = None
        # jobs this process holds between claim and settle: their leases are renewed while it
        # lives (see _heartbeat), so only a dead process's jobs expire
        self._live_jobs: set[int] = set()
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._reaped_at_open: list[JobView] = []
        self._inflight: set[asyncio.Task[Any]] = set()
        self._accepting = True
        self.listeners: list[JobListener] = []
        # acknowledgements before work, across every adapter of this process (core/pacing.py)
        self.acks = AckFirst()
        # an async listener's task is kept referenced until it ends (the loop holds tasks weakly)
        self._listener_tasks: set[asyncio.Task[Any]] = set()

    # -- construction ----------------------------------------------------------------------

    @classmethod
    async def create(
        cls,
        settings: Settings,
        *,
        provider: Provider | None = None,
        allow_demo_fallback: bool = False,
        store: Store | None = None,
        offline: bool = False,
    ) -> ImageService:
        """Open the database and build the provider from settings.

        Without an API key, ``allow_demo_fallback`` (CLI and console) switches to the demo
        provider and says so; a chat bot never falls back silently: it raises ConfigError.
        ``offline`` (admin commands) builds no upstream client at all: any job then fails.
        """
        catalog = Catalog.from_settings(settings.models)
        owned: list[Any] = []
        http: aiohttp.ClientSession | None = None
        fallback = False
        if store is None:
            # First: a database that cannot be opened is a config error, and nothing else (no
            # HTTP session) has been opened yet that would then have to be closed.
            store = await open_store(settings)
            owned.append(store)
        if provider is None and offline:
            provider = OfflineProvider()
        if provider is None:
            if settings.provider.kind == "demo":
                provider = demo_provider()
            elif not settings.provider.key:
                if not allow_demo_fallback:
                    for thing in owned:
                        await thing.close()
                    raise ConfigError(
                        "config.invalid",
                        key="provider.api_key",
                        problem="no API key is set (PIXELSMITH_API_KEY)",
                    )
                provider, fallback = demo_provider(), True
            else:
                http = aiohttp.ClientSession()
                owned.append(http)
                provider = build_provider(settings, http)
                owned.append(provider)
        service = cls(
            settings, store=store, provider=provider, catalog=catalog, http=http, owned=owned
        )
        service.demo_fallback = fallback
        # every command that opens the database first ends the jobs of processes that died
        service._reaped_at_open = await store.reap()
        return service

    async def start(self) -> list[JobView]:
        """Reap jobs left behind by a crash, then keep reaping on a timer. Returns the reaped.

        Also loads, before serving, what the first job would otherwise load lazily (the SDK's
        resource modules, Pillow's plugins): the first burst then neither waits for imports nor
        pays for the full garbage collections those new objects trigger.
        """
        await asyncio.to_thread(warm_up, self.provider)
        reaped, self._reaped_at_open = [*self._reaped_at_open, *await self.store.reap()], []
        await self.results.sweep()
        await self.store.sweep_interactions()
        self._reaper = asyncio.create_task(self._reap_forever(), name="pixelsmith-reaper")
        return reaped

    def _hold(self, job_id: int) -> None:
        """Renew ``job_id``'s lease until :meth:`_let_go` (queued or running, this process)."""
        self._live_jobs.add(job_id)
        if self._heartbeat_task is None or self._heartbeat_task.done():
            self._heartbeat_task = asyncio.get_running_loop().create_task(
                self._heartbeat(), name="pixelsmith-heartbeat"
            )

    def _let_go(self, job_id: int) -> None:
        self._live_jobs.discard(job_id)

    async def _heartbeat(self) -> None:
        """Renew the leases of this process's live jobs a few times per lease. A job whose
        settle failed is let go too, so its lease runs out and the reaper ends it."""
        lease_s = self.settings.database.lease_s
        every = max(0.05, min(self.settings.database.reaper_interval_s, lease_s / 3))
        while True:
            await asyncio.sleep(every)
            if not self._live_jobs:
                continue
            try:
                await self.store.renew(sorted(self._live_jobs), lease_s=lease_s)
                for budget in self._budgets():  # their upstream slots and waits, same lease
                    await budget.renew()
            except Exception:
                log.exception("lease renewal failed; retrying on the next beat")

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.database.reaper_interval_s)
            try:
                await self.store.reap()
                await self.store.sweep_interactions()  # expired buttons' and modals' state
            except Exception:
                log.exception("reaper failed; retrying on the next tick")
            await self.results.sweep_if_due()

    async def drain(self, grace_s: float) -> int:
        """Stop accepting jobs, wait up to ``grace_s`` for in-flight ones, then cancel the rest.

        A cancelled job is left for the reaper (its lease expired at once), so the next start
        settles it by the money rules and tells its user. Returns how many were left.
        """
        self._accepting = False
        me = asyncio.current_task()
        pending = [t for t in self._inflight if not t.done() and t is not me]
        if pending:
            await asyncio.wait(pending, timeout=grace_s)
        left = [t for t in self._inflight if not t.done() and t is not me]
        for task in left:
            task.cancel()
        if left:
            await asyncio.wait(left, timeout=5)
        return len(left)

    async def close(self) -> None:
        if self._listener_tasks:
            await asyncio.wait(set(self._listener_tasks), timeout=5)
        for task in (self._reaper, self._heartbeat_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.queue.close()
        await self._close_keys()
        for thing in reversed(self._owned):
            await thing.close()

    # -- requests ------------------------------------------------------------------------------

    @property
    def accepting(self) -> bool:
        return self._accepting

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
        prefs: Preferences | None = None,
    ) -> ImageRequest:
        """Parse and validate; raises InvalidRequest with nothing reserved or sent.

        ``prefs`` (the member's, from :meth:`preferences`) fill what neither ``options`` nor
        the prompt's flags say; a default that does not apply is left out with a note on the
        request (see :mod:`core.preferences`)."""
        notes: tuple[Note, ...] = ()
        if prefs is not None and not prefs.empty:
            _, typed = parse_prompt(text)
            options, notes = preferences.fill(
                (options or Options()).merged_over(typed),
                prefs,
                catalog=self.catalog,
                default_model=self.settings.provider.default_model,
                edit=bool(images),
            )
        request = build_request(
            text,
            identity=identity,
            catalog=self.catalog,
            default_model=self.settings.provider.default_model,
            options=options,
            images=images,
            mask=mask,
            markup=markup,
            idem_key=idem_key,
            max_prompt_chars=self.settings.safety.max_prompt_chars,
        )
        return replace(request, notes=notes) if notes else request

    # -- members' preferences (/settings) ----------------------------------------------------

    async def preferences(self, identity: Identity) -> Preferences:
        """The caller's own defaults in the community it asks from (none: all unset)."""
        return Preferences.from_stored(await self.store.get_preferences(identity.member_scope))

    async def set_preferences(
        self, identity: Identity, typed: dict[str, str | bool | int | None]
    ) -> Preferences:
        """Change the caller's own defaults here (``typed``: field -> value; None or
        ``default`` clears one). Every value is checked against the catalog first: a bad
        one is an InvalidRequest naming it, and nothing is stored."""
        current = await self.preferences(identity)
        new = preferences.change(
            current,
            typed,
            catalog=self.catalog,
            default_model=self.settings.provider.default_model,
        )
        changes = {name: new.stored().get(name) for name in preferences.FIELDS}
        stored = await self.store.set_preferences(identity.member_scope, changes)
        return Preferences.from_stored(stored)

    async def localized(self, identity: Identity) -> tuple[Identity, Preferences]:
        """``identity`` answering in the member's chosen language (if any), and the member's
        preferences, in one lookup."""
        prefs = await self.preferences(identity)
        if prefs.language and prefs.language != identity.locale:
            identity = replace(identity, locale=prefs.language)
        return identity, prefs

    @property
    def intake_limits(self) -> IntakeLimits:
        return IntakeLimits(
            max_bytes=self.settings.images.max_input_bytes,
            max_side=self.settings.images.max_input_side,
        )

    async def prepare_images(self, files: Sequence[Attachment]) -> tuple[PreparedImage, ...]:
        """Sanitize attachments (content sniffing, bomb guard, EXIF, downscale) off the loop."""
        items = [(f.data, f.name, f.declared_size, f.declared_type) for f in files]
        return await intake_many(items, self.intake_limits)

    async def prepare_mask(self, file: Attachment, reference: PreparedImage) -> PreparedImage:
        return await intake_mask(
            file.data, name=file.name, reference=reference, limits=self.intake_limits
        )

    async def prepare_markup(self, file: Attachment, reference: PreparedImage) -> PreparedImage:
        """A markup drawing for ``reference``: a PNG with transparency, the image's size."""
        return await intake_mask(
            file.data, name=file.name, reference=reference, limits=self.intake_limits, keep=True
        )

    def estimate_micros(self, request: ImageRequest) -> int:
        """What a request should cost, before sending it."""
        return self._cost_estimate(request, self._spec(request))

    def _cost_estimate(self, request: ImageRequest, spec: ModelSpec, *, worst: bool = False) -> int:
        """The expected cost, or with ``worst`` the upper bound reserved before sending."""
        if self.demo:
            return 0
        estimate = spec.worst_micros if worst else spec.expected_micros
        return estimate(
            prompt=request.prompt,
            quality=request.quality,
            size=request.size,
            n=request.n,
            input_images=len(request.images),
            fidelity=request.input_fidelity,
        )

    def _spec(self, request: ImageRequest) -> ModelSpec:
        spec = self.catalog.get(request.model)
        if spec is None:
            raise PixelsmithError("error.internal")
        return spec

    async def run(
        self,
        request: ImageRequest,
        on_progress: ProgressCallback | None = None,
    ) -> ImageResult:
        """Run one job end to end (see the module docstring). Raises typed failures."""
        task = asyncio.current_task()
        if task is not None and task not in self._inflight:
            # Tracked until the adapter's task ends, not until run() returns: a graceful
            # shutdown must also wait for the upload of the result that follows.
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return await self._run(request, on_progress)

    async def _run(
        self, request: ImageRequest, on_progress: ProgressCallback | None
    ) -> ImageResult:
        if not self._accepting:
            raise UpstreamError("upstream.shutting_down", charge=Charge.NONE)
        spec = self._spec(request)
        notes: list[Note] = list(request.notes)
        if self.demo_fallback:
            notes.append(Note("note.demo_fallback"))
        warned = check_prompt(
            request.prompt,
            policy=self.settings.safety.preflight,
            force=request.force,
            extra_file=self.settings.safety.extra_terms_file,
        )
        if warned is not None and not request.force:
            notes.append(
                Note(
                    "note.preflight_warn",
                    {"matches": list(warned.matches), "suggestion": warned.suggestion},
                )
            )
        identity = request.identity
        if request.idem_key is None:
            request = replace(request, idem_key=f"{identity.platform}:local:{uuid.uuid4().hex}")
        assert request.idem_key is not None
        # which gateway key pays: a community's own key that cannot serve stops the job here,
        # before anything is reserved
        choice = await self.key_for(identity)
        worst = self._cost_estimate(request, spec, worst=True)
        claim = await self.store.begin_job(
            idem_key=request.idem_key,
            identity=identity,
            request=request.summary(),
            model=spec.name,
            images=request.n,
            worst_cost_micros=worst,
            # config limits only: begin_job applies the database overrides in its transaction
            limits=effective_limits(self.settings.quota, identity),
            lease_s=self.settings.database.lease_s,
            key_ref=choice.key_ref,
        )
        if not claim.new:
            # Another delivery of the same event owns this job: no work, no charge. Its outcome
            # travels along (``earlier``: the refusal it got, if any); adapters stay silent.
            raise DuplicateJob(
                job_id=claim.job.id, state=str(claim.job.state), earlier=claim.job.failure()
            )
        job_id = claim.job.id
        self._hold(job_id)
        try:
            return await self._run_claimed(
                request, spec, claim.job, worst, notes, on_progress, choice
            )
        finally:
            self._let_go(job_id)

    async def _run_claimed(
        self,
        request: ImageRequest,
        spec: ModelSpec,
        job: JobView,
        worst: int,
        notes: list[Note],
        on_progress: ProgressCallback | None,
        choice: KeyChoice,
    ) -> ImageResult:
        identity, job_id = request.identity, job.id

        # The budget calls this from its own task, whose context is whichever job's started
        # it: the job's own context (an adapter's per-request variables, such as the Slack
        # workspace a call acts for) is restored around the callback.
        context = contextvars.copy_context()

        async def tell(pos: int) -> None:
            if on_progress is not None:
                await on_progress(Progress(Stage.QUEUED, queue_position=pos))

        async def position(pos: int) -> None:
            await asyncio.get_running_loop().create_task(tell(pos), context=context)

        try:
            async with self.budget_for(choice).slot(
                identity.user_scope, position, job_id=job_id, community=identity.community_scope
            ):
                if choice.own and not await self.key_unchanged(identity, choice):
                    # removed or replaced while the job waited: nothing was sent, nothing is due
                    await self.store.release(job_id, error="byok.changed")
                    raise KeyProblem("byok.changed")
                await self.store.mark_submitted(job_id, lease_s=self.settings.database.lease_s)
                started = time.monotonic()
                result = await self._call(request, spec, on_progress, job_id, worst, choice)
                self._emit(
                    {"event": "upstream", "model": spec.name, "seconds": time.monotonic() - started}
                )
        except asyncio.CancelledError:
            if self._accepting:
                await asyncio.shield(self._settle_cancelled(job_id, worst))
            else:
                # Shutting down: leave the job to the reaper of the next start, which ends it by
                # the money rules and tells its user.
                await asyncio.shield(self.store.abandon(job_id))
            raise
        done = await self._succeed(request, spec, job_id, result, notes, worst, choice.own)
        return replace(done, public_id=job.public_id)

    async def _settle_cancelled(self, job_id: int, worst: int) -> None:
        job = await self.store.get_job(job_id)
        if job is None:
            return
        if job.state == JobState.RESERVED:
            await self.store.release(job_id, error="cancelled")
        elif job.state == JobState.SUBMITTED:
            await self.store.settle(
                job_id,
                state=JobState.UNKNOWN_CHARGED,
                cost_micros=worst,
                images_delivered=0,
                error="cancelled",
            )

    async def _call(
        self,
        request: ImageRequest,
        spec: ModelSpec,
        on_progress: ProgressCallback | None,
        job_id: int,
        worst: int,
        choice: KeyChoice,
    ) -> ProviderResult:
        call = ProviderCall(
            request=request,
            spec=spec,
            safety_identifier=safety_identifier(request.identity.user_scope, await self._salt()),
        )
        try:
            async with self.provider_for(choice) as provider:
                return await provider.run(call, on_progress)
        except PixelsmithError as exc:
            await self._settle_failure(request, spec, job_id, worst, exc, choice.own)
            if choice.own and exc.key in OWN_KEY_FAILURES:
                # the community's own gateway account answered: its admin must act, not ours
                raise UpstreamError(OWN_KEY_FAILURES[exc.key], charge=exc.charge) from None
            raise
        except (openai.OpenAIError, aiohttp.ClientError, OSError, ValueError) as exc:
            log.warning("provider failed unexpectedly: %s", type(exc).__name__)
            failure = UpstreamError("upstream.bad_response", charge=Charge.UNKNOWN, model=spec.name)
            await self._settle_failure(request, spec, job_id, worst, failure, choice.own)
            raise failure from None
        except Exception as exc:
            # A bug rather than an upstream answer: the call may have been made, so settle the
            # job as unknown (not left SUBMITTED until the reaper), then let the bug surface.
            incidents.report(exc, "the provider")
            failure = UpstreamError("upstream.bad_response", charge=Charge.UNKNOWN, model=spec.name)
            await self._settle_failure(request, spec, job_id, worst, failure, choice.own)
            raise

    async def _salt(self) -> str:
        """The salt of the user hash sent upstream: configured, or generated once per database
        (shared by every process on it), so the gateway cannot reverse platform user ids."""
        if self._salt_value is None:
            self._salt_value = await self.store.secret("safety_identifier_salt")
        return self._salt_value

    async def _settle_failure(
        self,
        request: ImageRequest,
        spec: ModelSpec,
        job_id: int,
        worst: int,
        exc: PixelsmithError,
        own_key: bool = False,
    ) -> None:
        if exc.charge == Charge.NONE:
            state, cost = JobState.FAILED_CHARGED, 0
        elif exc.charge == Charge.UNKNOWN:
            state, cost = JobState.UNKNOWN_CHARGED, worst
        else:
            state, cost = JobState.FAILED_CHARGED, self._cost_estimate(request, spec)
        charge_user = not (isinstance(exc, Refused) and not self.settings.quota.count_refused)
        await self.store.settle(
            job_id,
            state=state,
            cost_micros=cost,
            images_delivered=0,
            error=exc.key,
            charge_user=charge_user,
        )
        self._emit(
            {
                "event": "job",
                "outcome": str(state),
                "error": exc.key,
                "model": spec.name,
                "cost_micros": cost,
                "job_id": job_id,
                "community": request.identity.community_scope,
                "paid_by": PAID_BY_COMMUNITY if own_key else PAID_BY_OPERATOR,
            }
        )

    async def _succeed(
        self,
        request: ImageRequest,
        spec: ModelSpec,
        job_id: int,
        result: ProviderResult,
        notes: list[Note],
        worst: int,
        own_key: bool = False,
    ) -> ImageResult:
        images = result.images
        delivered = len(images)
        cost, reported = self._bounded_cost(request, spec, result, delivered, worst)
        # Kept before the settle and before any upload: a result that was paid for survives a
        # crash after this line, an upload that fails for good, and a settle that fails.
        kept = await self.results.keep(job_id, images)
        if delivered == 0:
            failure = Refused(
                "refused.filtered_all", stage="output", categories=[], suggestion=None
            )
            await self.store.settle(
                job_id,
                state=JobState.FAILED_CHARGED,
                cost_micros=cost,
                images_delivered=0,
                error=failure.key,
                charge_user=self.settings.quota.count_refused,
            )
            raise failure
        if spec.api != "chat_stream" and delivered < request.n:
            notes.append(
                Note("note.filtered", {"filtered": request.n - delivered, "requested": request.n})
            )
        outcome: dict[str, Any] = {"images": delivered, "kept": kept}
        if reported is not None:
            outcome |= {"cost_capped": True, "reported_micros": reported}
            notes.append(Note("note.cost_capped", {"cost": cost / 1_000_000}))
        try:
            await self.store.settle(
                job_id,
                state=JobState.SUCCEEDED,
                cost_micros=cost,
                images_delivered=delivered,
                result=outcome,
                cost_capped=reported is not None,  # usage --check and doctor list it
            )
        except Exception:
            # The images exist and were paid for: the user gets them. The job keeps its lease;
            # if it is never settled, the reaper ends it as UNKNOWN_CHARGED and check() shows it.
            log.exception("job %s: settling the success failed; delivering anyway", job_id)
        if self.demo:
            notes.append(Note("note.demo"))
        elif not spec.prices_verified:
            notes.append(Note("note.prices_unverified", {"model": spec.name}))
        self._emit(
            {
                "event": "job",
                "outcome": "succeeded",
                "model": spec.name,
                "cost_micros": cost,
                "job_id": job_id,
                "images": delivered,
                "community": request.identity.community_scope,
                "paid_by": PAID_BY_COMMUNITY if own_key else PAID_BY_OPERATOR,
            }
        )
        return ImageResult(
            job_id=job_id,
            request=request,
            images=images,
            cost_micros=cost,
            notes=tuple(notes),
            quota_left=await self.quota_left(request.identity),
            demo=self.demo,
            moves=self.moves(spec, images, kept),
        )

    def _bounded_cost(
        self,
        request: ImageRequest,
        spec: ModelSpec,
        result: ProviderResult,
        delivered: int,
        worst: int,
    ) -> tuple[int, int | None]:
        """The cost to settle, and the reported cost when it was not believed (else None).

        A gateway can report absurd usage (``output_tokens = 1e18``). Pricing above
        ``COST_SANITY_FACTOR`` times the worst-case estimate (at least the floor) is settled
        at that bound, flagged in the job's result and logged for admins; the user still gets
        the images.
        """
        if self.demo:
            return 0, None
        bound = max(COST_SANITY_FACTOR * worst, COST_SANITY_FLOOR_MICROS)
        try:
            cost = spec.cost_micros(
                result.usage, images=delivered, quality=request.quality, size=request.size
            )
        except (OverflowError, ValueError):
            cost = bound + 1
        if cost <= bound:
            return cost, None
        log.warning(
            "job cost capped: model=%s reported=$%.6f bound=$%.6f (usage %s)",
            spec.name,
            cost / 1_000_000,
            bound / 1_000_000,
            result.usage,
        )
        self._emit({"event": "cost_capped", "model": spec.name, "reported_micros": cost})
        return bound, cost

    def _emit(self, event: dict[str, Any]) -> None:
        if event.get("event") == "job":
            # One line per job: its outcome and cost (never the prompt or any identity secret).
            log.info(
                "job %s %s model=%s cost=$%.6f%s",
                event.get("job_id"),
                event.get("outcome"),
                event.get("model"),
                int(event.get("cost_micros") or 0) / 1_000_000,
                f" error={event['error']}" if event.get("error") else "",
                extra={"fields": event},
            )
        for listener in self.listeners:
            try:
                outcome = listener(event)
                if asyncio.iscoroutine(outcome):
                    task = asyncio.get_running_loop().create_task(outcome)
                    self._listener_tasks.add(task)
                    task.add_done_callback(self._listener_done)
            except Exception:  # metrics must never break a job
                log.exception("job listener failed")

    def _listener_done(self, task: asyncio.Task[Any]) -> None:
        self._listener_tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("job listener failed", exc_info=exc)


async def open_store(settings: Settings) -> Store:
    """Open and migrate the configured database. Whatever stops that is a :class:`ConfigError`
    naming ``database.url`` (exit code 2): an unsupported or unparseable URL, a folder that
    cannot be created or written, a file that is not an SQLite database, a PostgreSQL server
    that cannot be reached. The message shows the URL without its password."""
    from sqlalchemy import exc as sa_exc
    from sqlalchemy.engine import make_url

    url = settings.database.url
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except Exception:
        shown = "(not a URL)"
    try:
        return await Store.open(url)
    except (ValueError, sa_exc.ArgumentError, sa_exc.NoSuchModuleError) as exc:
        kind = "database.bad_url"
        log.info("database URL rejected: %s", type(exc).__name__)
    except OSError as exc:
        kind = "database.unwritable"
        log.info("database folder unusable: %s", type(exc).__name__)
    except sa_exc.DBAPIError as exc:
        text = str(exc.orig).lower() if exc.orig is not None else ""
        sqlite = url.startswith("sqlite")
        if "not a database" in text or "malformed" in text:
            kind = "database.corrupt"
        elif sqlite:
            kind = "database.unwritable"
        else:
            kind = "database.unreachable"
        log.info("database cannot be opened: %s", type(exc).__name__)
    raise ConfigError(kind, key="database.url", url=shown)
