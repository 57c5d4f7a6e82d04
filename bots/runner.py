"""``pixelsmith run``: every configured platform in one process, sharing one core and database.

Start-up: validate config -> open the service (database migrated, reaper run) -> metrics ->
start adapters -> tell users whose jobs a crash or restart ended. Shutdown on SIGTERM/SIGINT:
stop accepting (``/healthz`` turns 503, new requests are told to retry), let in-flight jobs
finish for up to ``shutdown.grace_s``, stop the adapters, leave whatever could not finish to the
reaper (its users are told after the restart), exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from typing import TextIO

from bots.base import PlatformAdapter
from core import messages
from core.config import Settings
from core.metrics import LoopLagMonitor, Metrics, MetricsServer, PlatformHealth
from core.service import ImageService
from core.types import JobState

log = logging.getLogger("pixelsmith.run")


def configured_adapters(settings: Settings, service: ImageService) -> list[PlatformAdapter]:
    """An adapter for each platform whose credentials are configured."""
    adapters: list[PlatformAdapter] = []
    if settings.discord.token_value:
        from bots.discord.app import DiscordAdapter

        adapters.append(DiscordAdapter(service, settings))
    if slack_configured(settings):
        from bots.slack.app import SlackAdapter

        adapters.append(SlackAdapter(service, settings))
    if adapters and settings.web.port is not None:
        from bots.web.app import WebCompanion

        # Last: results edited on the web go back through the chat adapters above.
        adapters.append(WebCompanion(service, settings, posters={a.name: a for a in adapters}))
    return adapters


def slack_configured(settings: Settings) -> bool:
    """One bot token with its mode's secret, or the OAuth distribution (validated at load)."""
    slack = settings.slack
    if slack.distribution == "oauth":
        return True
    return bool(slack.bot_token_value) and bool(
        (slack.mode == "socket" and slack.app_token_value)
        or (slack.mode == "http" and slack.signing_secret_value)
    )


def platforms_configured(settings: Settings) -> bool:
    return bool(
        settings.discord.token_value
        or settings.slack.bot_token_value
        or settings.slack.distribution == "oauth"
    )


# Full collections: considered after this many middle-generation ones (CPython's default: 10).
FULL_GC_EVERY = 1000


def settle_heap() -> None:
    """Move what start-up made out of the garbage collector's sight, and collect the whole heap
    rarely.

    Modules, clients and caches live as long as the process; frozen, a full collection under
    load (a thousand jobs in flight) scans only the jobs' objects instead of stalling the event
    loop for ~200 ms. Called once before serving, after the one full collection.

    A burst's jobs live for seconds, so they reach the oldest generation, and with the default
    thresholds a burst of a thousand interactions ran several full collections of 70-190 ms each
    (the young generations' collections stay at a few milliseconds). Considering a full one
    only every :data:`FULL_GC_EVERY` middle collections (about every 7 million net allocations
    of containers, a minute or more under load) keeps them out of bursts; reference counting
    still frees everything that is not in a cycle at once.
    """
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_GC_EVERY)


class Runner:
    """Owns the service, the adapters and the metrics server for one process."""

    def __init__(
        self, settings: Settings, service: ImageService, adapters: list[PlatformAdapter]
    ) -> None:
        self.settings = settings
        self.service = service
        self.adapters = adapters
        self.stopping = asyncio.Event()
        self.lag = LoopLagMonitor()
        self.metrics = Metrics()
        self.metrics_server: MetricsServer | None = None
        self.announcer: asyncio.Task[None] | None = None
        service.listeners.append(self.metrics.on_event)

    async def start(self) -> None:
        await self.service.start()
        self.lag.start()
        port = self.settings.metrics.port
        if port is not None:
            queue = self.service.queue
            self.metrics_server = MetricsServer(
                self.metrics,
                healthy=lambda: self.service.accepting,
                queue=lambda: (queue.depth, queue.active),
                lag=self.lag,
                platforms=self.platform_health,
            )
            bound = await self.metrics_server.start(self.settings.metrics.host, port)
            log.info("metrics on http://%s:%s/metrics", self.settings.metrics.host, bound)
        settle_heap()
        for adapter in self.adapters:
            await adapter.start()
            log.info("%s adapter ready", adapter.name)
        await self.tell_interrupted_users()
        self.announcer = asyncio.get_running_loop().create_task(
            self.announce_forever(), name="pixelsmith-announcer"
        )
        gc.freeze()  # the adapters' own start-up objects too

    def platform_health(self) -> dict[str, PlatformHealth]:
        """Each adapter's own report (its shards, ...), for /healthz and /metrics."""
        reports: dict[str, PlatformHealth] = {}
        for adapter in self.adapters:
            health = getattr(adapter, "health", None)
            if callable(health):
                reports[adapter.name] = health()
        return reports

    async def tell_interrupted_users(self) -> None:
        """Reaped jobs (a crash or restart ended them): tell each user once."""
        by_platform = {a.name: a for a in self.adapters}
        for job in await self.service.notices():
            platform = job.user_scope.split(":")[1] if job.user_scope.count(":") >= 2 else ""
            adapter = by_platform.get(platform)
            if adapter is None:
                continue
            if not await self.service.claim_notice(job.id):
                continue  # another process tells this user (exactly once across processes)
            key = "reaper.released" if job.state == JobState.RELEASED else "reaper.unknown"
            text = messages.text(key, job.request.get("locale", "en"), prompt=job.prompt[:200])
            try:
                told = await adapter.notify(job, text)
            except Exception:
                log.exception("could not tell the user of job %s", job.id)
                told = False
            if not told:
                await self.service.release_notice(job.id)

    async def announce_forever(self) -> None:
        """Tell the users of jobs reaped while this process runs (by it or any other process on
        the same database), on the reaper's timer, not only at start-up."""
        while True:
            await asyncio.sleep(self.settings.database.reaper_interval_s)
            try:
                await self.tell_interrupted_users()
            except Exception:
                log.exception("telling reaped jobs' users failed; retrying on the next tick")

    def request_stop(self) -> None:
        self.stopping.set()

    async def shutdown(self) -> None:
        grace = self.settings.shutdown.grace_s
        log.info("shutting down: letting in-flight jobs finish (up to %ss)", grace)
        if self.announcer is not None:
            self.announcer.cancel()
        left = await self.service.drain(grace)
        if left:
            log.warning(
                "%s job(s) did not finish in time; the reaper will end them and their "
                "users will be told after the restart",
                left,
            )
        for adapter in reversed(self.adapters):
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping %s failed", adapter.name)
        if self.metrics_server is not None:
            await self.metrics_server.stop()
        await self.lag.stop()
        await self.service.close()


async def run_platforms(settings: Settings, out: TextIO, err: TextIO) -> int:
    """The ``run`` command. Returns the exit code."""
    if not platforms_configured(settings):
        err.write(messages.text("run.no_platform", settings.console.locale) + "\n")
        return 2
    service = await ImageService.create(settings)
    try:
        adapters = configured_adapters(settings, service)
    except BaseException:
        await service.close()
        raise
    if not adapters:
        await service.close()
        err.write(messages.text("run.incomplete_platform", settings.console.locale) + "\n")
        return 2
    runner = Runner(settings, service, adapters)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, runner.request_stop)
    try:
        await runner.start()
        out.write(
            messages.text(
                "run.ready", settings.console.locale, platforms=", ".join(a.name for a in adapters)
            )
            + "\n"
        )
        out.flush()
        await runner.stopping.wait()
    finally:
        await runner.shutdown()
    return 0
