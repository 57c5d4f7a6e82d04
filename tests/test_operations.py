"""Operations: graceful drain, the reaper's notices, /healthz and /metrics, redacted logs."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
from collections.abc import Callable

import aiohttp

from core.config import Settings
from core.errors import UpstreamError
from core.logs import setup_logging
from core.metrics import LoopLagMonitor, Metrics, MetricsServer
from core.service import ImageService
from core.types import Identity, JobState, Progress, Stage
from tests.conftest import TEST_KEY
from tests.fakes.gateway import Behavior, FakeGateway, Fault

ME = Identity("discord", "u1", community_id="g1", channel_id="c1")


async def test_drain_leaves_unfinished_jobs_to_the_reaper_which_tells_users(
    gateway: FakeGateway, settings_factory: Callable[..., Settings]
) -> None:
    gateway.default = Behavior(fault=Fault.HANG, hang_s=30)
    settings = settings_factory()
    service = await ImageService.create(settings)
    submitted = asyncio.Event()

    async def progress(p: Progress) -> None:
        if p.stage == Stage.SUBMITTED:
            submitted.set()

    task = asyncio.create_task(service.run(service.build("a fox", ME), progress))
    await submitted.wait()
    left = await service.drain(0.05)
    assert left == 1
    assert task.cancelled()
    # New requests are refused politely while draining; nothing is reserved for them.
    try:
        await service.run(service.build("another", ME))
    except UpstreamError as exc:
        assert exc.key == "upstream.shutting_down"
    else:
        raise AssertionError("a draining service took a job")
    await service.close()

    # The restarted process reaps it at once: charged as unknown, user to be told.
    restarted = await ImageService.create(settings)
    try:
        reaped = await restarted.start()
        assert [j.state for j in reaped] == [JobState.UNKNOWN_CHARGED]
        notices = await restarted.notices()
        assert [j.request.get("channel_id") for j in notices] == ["c1"]
        await restarted.mark_notified(notices[0].id)
        assert await restarted.notices() == []
        assert await restarted.store.check() == []
        assert len(gateway.calls_to("/v1/images/generations")) == 1
    finally:
        await restarted.close()


async def test_healthz_and_metrics(
    gateway: FakeGateway, settings_factory: Callable[..., Settings]
) -> None:
    service = await ImageService.create(settings_factory())
    metrics = Metrics()
    service.listeners.append(metrics.on_event)
    lag = LoopLagMonitor()
    lag.start()
    server = MetricsServer(
        metrics,
        healthy=lambda: service.accepting,
        queue=lambda: (service.queue.depth, service.queue.active),
        lag=lag,
    )
    port = await server.start("127.0.0.1", 0)
    try:
        await service.run(service.build("a fox --q low", ME))
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200
                process = (await resp.json())["process"]
                assert process.endswith(f":{os.getpid()}")
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                body = await resp.text()
            assert 'pixelsmith_jobs_total{model="gpt-image-2",outcome="succeeded"} 1.0' in body
            assert (
                'pixelsmith_cost_usd_total{community="community:discord:g1",'
                'model="gpt-image-2",paid_by="operator"}' in body
            )
            assert f'pixelsmith_process_info{{process="{process}",shards="-"}} 1.0' in body
            assert "pixelsmith_upstream_seconds_count" in body
            assert "pixelsmith_queue_depth 0.0" in body
            assert "pixelsmith_event_loop_lag_max_seconds" in body
            assert "pixelsmith_event_loop_lag_recent_max_seconds" in body
            await service.drain(0)
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 503
    finally:
        await server.stop()
        await lag.stop()
        await service.close()


def test_loop_lag_recent_max_forgets_what_left_its_window() -> None:
    lag = LoopLagMonitor(window_s=5)
    lag.record(0.200, now=100.2)  # start-up
    lag.record(0.004, now=103.5)
    assert lag.recent_max(now=104.9) == 0.200
    assert lag.recent_max(now=105.0) == 0.004  # second 100 has left the window
    lag.record(0.030, now=106.1)
    assert lag.recent_max(now=106.5) == 0.030
    assert lag.recent_max(now=120.0) == 0.0
    assert (lag.max_lag, lag.last_lag) == (0.200, 0.030)  # since start, and the latest


async def test_logs_have_one_line_per_job_and_no_secrets(
    gateway: FakeGateway, settings_factory: Callable[..., Settings]
) -> None:
    settings = settings_factory(
        discord={"token": "MTIzNDU2Nzg5.fake-discord-token-abcdefghijk"}, logging={"format": "json"}
    )
    stream = io.StringIO()
    setup_logging(settings, stream)
    log = logging.getLogger("pixelsmith.test")
    try:
        service = await ImageService.create(settings)
        try:
            await service.run(service.build("a fox", ME))
            gateway.script(Behavior(error=None, fault=Fault.GARBAGE))
            with contextlib.suppress(UpstreamError):
                await service.run(service.build("a fox", ME))
        finally:
            await service.close()
        log.warning(
            "oops with key %s and token %s", TEST_KEY, "MTIzNDU2Nzg5.fake-discord-token-abcdefghijk"
        )
        log.warning("an Authorization: Bearer sk-live-abcdefghijklmnop header")
    finally:
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "_pixelsmith", False):
                logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    job_lines = [line for line in text.splitlines() if '"msg": "job ' in line]
    assert len(job_lines) == 2
    assert '"outcome": "succeeded"' in job_lines[0] and '"cost_micros"' in job_lines[0]
    for secret in (TEST_KEY, "fake-discord-token-abcdefghijk", "sk-live-abcdefghijklmnop"):
        assert secret not in text


async def test_user_hash_salt_is_random_per_database_and_stable(
    gateway: FakeGateway, settings_factory: Callable[..., Settings], tmp_path: object
) -> None:
    from core.providers.base import safety_identifier

    settings = settings_factory()
    ids = []
    for _ in range(2):  # two processes (or a restart) on one database share the salt
        service = await ImageService.create(settings)
        try:
            await service.run(service.build("a fox", ME))
        finally:
            await service.close()
        ids.append(gateway.last_call.json["safety_identifier"])
    assert ids[0] == ids[1]
    assert ids[0] != safety_identifier(ME.user_scope, "pixelsmith")
    assert ME.user_id not in ids[0]
    # A configured salt wins.
    salted = settings_factory(provider={"salt": "a-configured-salt-value"})
    service = await ImageService.create(salted)
    try:
        await service.run(service.build("a fox", ME))
    finally:
        await service.close()
    assert gateway.last_call.json["safety_identifier"] == safety_identifier(
        ME.user_scope, "a-configured-salt-value"
    )
