"""Health and Prometheus metrics on ``metrics.port``, and an event-loop lag monitor.

``/healthz`` answers 200 while the bot accepts jobs and 503 while it drains for shutdown; its
body also lists what each platform adapter of this process serves (``platforms``: a Discord
process's shard count and its shards, each up or not). ``/metrics`` serves jobs by outcome, cost
by model and community, queue depth, in-flight jobs, upstream latency, event-loop lag and, per
platform connection (``platform`` and ``shard`` labels), whether it is up, its heartbeat latency
and how many communities it serves, from a registry of this process (not the global one).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# this process, as /healthz and pixelsmith_process_info name it
PROCESS = f"{socket.gethostname()[:60]}:{os.getpid()}"


@dataclass(frozen=True)
class Connection:
    """One connection an adapter holds to its platform (a Discord shard), as health reports it."""

    platform: str
    shard: str
    up: bool
    latency_s: float | None
    communities: int


@dataclass(frozen=True)
class PlatformHealth:
    """What an adapter reports: JSON-ready ``details`` for /healthz and its connections."""

    details: dict[str, Any] = field(default_factory=dict)
    connections: list[Connection] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        connections = [
            {
                "shard": c.shard,
                "up": c.up,
                "latency_s": c.latency_s,
                "communities": c.communities,
            }
            for c in self.connections
        ]
        return {**self.details, "connections": connections}


class LoopLagMonitor:
    """Measures how late a periodic timer fires: the event loop's responsiveness.

    ``max_lag`` is the largest lag since start (start-up included); ``recent_max`` the largest
    in the last ``window_s`` seconds, so a scrape can tell a load's lag from start-up's."""

    def __init__(self, interval_s: float = 0.01, window_s: int = 5) -> None:
        self.interval = interval_s
        self.max_lag = 0.0
        self.last_lag = 0.0
        self.window_s = window_s
        self._seconds = [-1] * window_s  # which whole second each slot holds
        self._maxima = [0.0] * window_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="pixelsmith-loop-lag")

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.interval)
            after = time.perf_counter()
            self.record(max(0.0, after - before - self.interval), after)

    def record(self, lag: float, now: float) -> None:
        """One measured lag at ``now`` (seconds on a monotonic clock)."""
        self.last_lag = lag
        self.max_lag = max(self.max_lag, lag)
        second = int(now)
        slot = second % self.window_s
        if self._seconds[slot] != second:
            self._seconds[slot], self._maxima[slot] = second, 0.0
        self._maxima[slot] = max(self._maxima[slot], lag)

    def recent_max(self, now: float | None = None) -> float:
        """The largest lag recorded in the last ``window_s`` seconds (this one included)."""
        second = int(time.perf_counter() if now is None else now)
        return max(
            (m for s, m in zip(self._seconds, self._maxima, strict=True)
             if second - self.window_s < s <= second),
            default=0.0,
        )  # fmt: skip

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class Metrics:
    """Counters fed by ImageService job events; pass ``metrics.on_event`` as a listener."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.jobs = Counter(
            "pixelsmith_jobs", "Jobs by outcome", ["outcome", "model"], registry=self.registry
        )
        self.cost = Counter(
            "pixelsmith_cost_usd",
            "Cost settled in USD, by whose gateway account paid (operator, or the community's own)",
            ["model", "community", "paid_by"],
            registry=self.registry,
        )
        # Which process this is: every series of one scrape belongs to it (Prometheus adds the
        # scrape target as ``instance``; this names the process itself, the way the shared
        # upstream budget's rows do).
        self.process = Gauge(
            "pixelsmith_process_info",
            "This bot process (always 1): host, pid and its Discord shards",
            ["process", "shards"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "pixelsmith_upstream_seconds",
            "Upstream call duration",
            ["model"],
            buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300),
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "pixelsmith_queue_depth", "Jobs waiting for an upstream slot", registry=self.registry
        )
        self.in_flight = Gauge(
            "pixelsmith_upstream_in_flight", "Upstream calls in flight", registry=self.registry
        )
        self.loop_lag = Gauge(
            "pixelsmith_event_loop_lag_seconds", "Latest event-loop lag", registry=self.registry
        )
        self.loop_lag_max = Gauge(
            "pixelsmith_event_loop_lag_max_seconds",
            "Largest event-loop lag since start",
            registry=self.registry,
        )
        self.loop_lag_recent_max = Gauge(
            "pixelsmith_event_loop_lag_recent_max_seconds",
            "Largest event-loop lag in the last few seconds (the lag monitor's window)",
            registry=self.registry,
        )
        labels = ["platform", "shard"]
        self.connection_up = Gauge(
            "pixelsmith_connection_up",
            "1 while the platform connection (a Discord shard) is connected",
            labels,
            registry=self.registry,
        )
        self.connection_latency = Gauge(
            "pixelsmith_connection_latency_seconds",
            "Heartbeat latency of the platform connection",
            labels,
            registry=self.registry,
        )
        self.connection_communities = Gauge(
            "pixelsmith_connection_communities",
            "Communities (Discord guilds) served by the platform connection",
            labels,
            registry=self.registry,
        )

    def set_connections(self, connections: list[Connection]) -> None:
        """Replace the per-connection gauges (a shard that went away drops its series)."""
        for gauge in (self.connection_up, self.connection_latency, self.connection_communities):
            gauge.clear()
        for c in connections:
            self.connection_up.labels(platform=c.platform, shard=c.shard).set(1 if c.up else 0)
            self.connection_communities.labels(platform=c.platform, shard=c.shard).set(
                c.communities
            )
            if c.latency_s is not None:
                self.connection_latency.labels(platform=c.platform, shard=c.shard).set(c.latency_s)
        shards = ",".join(sorted(c.shard for c in connections if c.platform == "discord"))
        self.process.clear()
        self.process.labels(process=PROCESS, shards=shards or "-").set(1)

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        model = str(event.get("model") or "unknown")
        if kind == "job":
            self.jobs.labels(outcome=str(event.get("outcome")), model=model).inc()
            cost = int(event.get("cost_micros") or 0)
            if cost:
                community = str(event.get("community") or "none")
                paid_by = str(event.get("paid_by") or "operator")
                self.cost.labels(model=model, community=community, paid_by=paid_by).inc(
                    cost / 1_000_000
                )
        elif kind == "upstream":
            self.latency.labels(model=model).observe(float(event.get("seconds") or 0.0))


class MetricsServer:
    """The aiohttp server for /healthz and /metrics."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        healthy: Callable[[], bool],
        queue: Callable[[], tuple[int, int]],
        lag: LoopLagMonitor,
        platforms: Callable[[], dict[str, PlatformHealth]] = dict,
    ) -> None:
        self.metrics = metrics
        self._platforms = platforms
        self._healthy = healthy
        self._queue = queue
        self._lag = lag
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self, host: str, port: int) -> int:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _healthz(self, request: web.Request) -> web.Response:
        ok = self._healthy()
        platforms = {name: health.as_json() for name, health in self._platforms().items()}
        body = {"status": "ok" if ok else "draining", "process": PROCESS, "platforms": platforms}
        return web.json_response(body, status=200 if ok else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        waiting, active = self._queue()
        self.metrics.queue_depth.set(waiting)
        self.metrics.in_flight.set(active)
        self.metrics.loop_lag.set(self._lag.last_lag)
        self.metrics.loop_lag_max.set(self._lag.max_lag)
        self.metrics.loop_lag_recent_max.set(self._lag.recent_max())
        self.metrics.set_connections(
            [c for health in self._platforms().values() for c in health.connections]
        )
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
