"""ImageService end to end: the real ``openai`` SDK against the loopback fake gateway, a real
SQLite store, and the money rules (see core.store) checked on the ledger after every outcome."""

from __future__ import annotations

import asyncio
import contextvars
import math
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from core.config import Settings
from core.errors import (
    Charge,
    DuplicateJob,
    PixelsmithError,
    PreflightRefused,
    QuotaExceeded,
    Refused,
    UpstreamError,
)
from core.request import Options
from core.service import Attachment, ImageService
from core.types import (
    Identity,
    ImageRequest,
    ImageResult,
    JobState,
    JobView,
    Progress,
    QuotaLeft,
    Stage,
)
from tests.conftest import make_settings
from tests.fakes.gateway import ERRORS, Behavior, FakeGateway, Fault, FileMode
from tests.fakes.images import jpeg_bytes, mask_png, sniff, solid_png

GEN = "/v1/images/generations"
EDIT = "/v1/images/edits"
CHAT = "/v1/chat/completions"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ALICE = Identity(platform="cli", user_id="alice")
PROMPT = "a red fox sitting in fresh snow, watercolor"

Factory = Callable[..., Settings]


@asynccontextmanager
async def open_service(factory: Factory, **sections: Any) -> AsyncIterator[ImageService]:
    svc = await ImageService.create(factory(**sections))
    try:
        yield svc
    finally:
        await svc.close()


class Recorder:
    """A progress callback that keeps every event."""

    def __init__(self) -> None:
        self.events: list[Progress] = []

    async def __call__(self, progress: Progress) -> None:
        self.events.append(progress)

    def stages(self) -> list[Stage]:
        return [e.stage for e in self.events]


def usage_micros(text: int, image: int, output: int, prices: tuple[int, int, int]) -> int:
    """Micro-USD from token counts with per-million prices (USD/M == micro-USD per token)."""
    return text * prices[0] + image * prices[1] + output * prices[2]


# text in, image in, image out: USD per million tokens, as OpenAI's pricing page publishes them
GPT_IMAGE_2 = (5, 8, 30)
GPT_IMAGE_1_5 = (5, 8, 32)


def text_tokens(prompt: str) -> int:  # how the fake counts them
    return max(1, math.ceil(len(prompt) / 4))


async def last_job(svc: ImageService, who: Identity = ALICE) -> JobView:
    jobs = await svc.history(who, limit=1)
    assert jobs, "no job row"
    return jobs[0]


async def consistent(svc: ImageService) -> None:
    assert await svc.store.check() == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# --------------------------------------------------------------------------------------------
# success
# --------------------------------------------------------------------------------------------


async def test_generate_two_images_cost_from_usage(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    async with open_service(settings_factory) as svc:
        request = svc.build(PROMPT, ALICE, options=Options(n=2, quality="low", size="1024x1024"))
        result = await svc.run(request)

        assert len(result.images) == 2
        for image in result.images:
            assert image.data.startswith(PNG_MAGIC)
            assert (image.width, image.height) == (1024, 1024)
        expected = usage_micros(text_tokens(PROMPT), 0, 272 * 2, GPT_IMAGE_2)
        assert result.cost_micros == expected
        assert not result.demo
        assert [c.json["n"] for c in gateway.calls_to(GEN)] == [2]
        assert len(gateway.calls) == 1
        sent = gateway.calls[0].json
        assert sent["safety_identifier"].startswith("px-") and "alice" not in str(sent)

        job = await svc.job(result.job_id)
        assert job is not None
        assert job.state == JobState.SUCCEEDED
        assert job.cost_micros == expected
        assert job.images_delivered == 2
        await consistent(svc)


async def test_streaming_partials_reach_the_callback(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    gateway.default = Behavior(event_interval_s=0.01)
    provider = {"stream_partials": 2, "progress_interval_s": 0}
    async with open_service(settings_factory, provider=provider) as svc:
        progress = Recorder()
        result = await svc.run(svc.build(PROMPT, ALICE), progress)

        assert len(result.images) == 1
        partials = [e for e in progress.events if e.stage == Stage.PARTIAL]
        assert len(partials) == 2
        assert all(e.preview is not None and e.preview.startswith(PNG_MAGIC) for e in partials)
        assert [e.percent for e in partials] == sorted(e.percent or 0 for e in partials)
        assert progress.stages()[0] == Stage.SUBMITTED
        assert progress.stages()[-1] == Stage.DONE
        (call,) = gateway.calls
        assert call.stream and call.json["partial_images"] == 2
        # cost from the usage on the completed event
        assert result.cost_micros == usage_micros(text_tokens(PROMPT), 0, 1056, GPT_IMAGE_2)
        await consistent(svc)


async def test_stream_unsupported_falls_back_to_a_plain_call(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    gateway.default = Behavior(fault=Fault.STREAM_UNSUPPORTED)
    async with open_service(settings_factory, provider={"stream_partials": 2}) as svc:
        result = await svc.run(svc.build(PROMPT, ALICE))
        assert len(result.images) == 1
        first, second = gateway.calls_to(GEN)
        assert first.stream and first.status == 400  # refused before generating anything
        assert not second.stream and second.status == 200
        # remembered: the next job goes plain at once
        await svc.run(svc.build(PROMPT, ALICE))
        assert len(gateway.calls_to(GEN)) == 3
        assert not gateway.calls[-1].stream
        await consistent(svc)


async def test_stream_ignored_uses_the_plain_answer_with_one_call(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    gateway.default = Behavior(fault=Fault.STREAM_IGNORED)
    async with open_service(settings_factory, provider={"stream_partials": 2}) as svc:
        result = await svc.run(svc.build(PROMPT, ALICE, options=Options(n=2)))
        assert len(result.images) == 2
        (call,) = gateway.calls
        assert call.stream
        job = await svc.job(result.job_id)
        assert job is not None and job.state == JobState.SUCCEEDED
        await consistent(svc)


async def test_fewer_images_than_asked_is_a_note_and_charged_as_billed(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    gateway.script(Behavior(return_n=1))
    async with open_service(settings_factory) as svc:
        request = svc.build(PROMPT, ALICE, options=Options(n=3, quality="high", size="1024x1024"))
        result = await svc.run(request)
        assert len(result.images) == 1
        filtered = [n for n in result.notes if n.key == "note.filtered"]
        assert len(filtered) == 1
        assert filtered[0].params == {"filtered": 2, "requested": 3}
        assert result.cost_micros == usage_micros(text_tokens(PROMPT), 0, 4160, GPT_IMAGE_2)
        job = await svc.job(result.job_id)
        assert job is not None and job.images_delivered == 1
        status = await svc.quota_status(ALICE)
        daily = status.get("user_daily_images")
        assert daily is not None and daily.used == 1
        await consistent(svc)


# --------------------------------------------------------------------------------------------
# every error of the table
# --------------------------------------------------------------------------------------------

REFUSAL = (Refused, "refused.upstream", Charge.CHARGED)
INVALID = (UpstreamError, "upstream.invalid_request", Charge.CHARGED)
SERVER = (UpstreamError, "upstream.server", Charge.CHARGED)
NO_BALANCE = (UpstreamError, "upstream.no_balance", Charge.NONE)
BAD_KEY = (UpstreamError, "upstream.bad_key", Charge.NONE)
FORBIDDEN = (UpstreamError, "upstream.forbidden", Charge.NONE)
NO_MODEL = (UpstreamError, "upstream.model_unavailable", Charge.NONE)
BUSY = (UpstreamError, "upstream.rate_limited", Charge.NONE)

EXPECTED_ERRORS: dict[str, tuple[type[PixelsmithError], str, Charge]] = {
    "moderation_blocked": REFUSAL,
    "moderation_blocked_details": REFUSAL,
    "moderation_blocked_output": REFUSAL,
    "content_policy_violation": REFUSAL,
    "safety_system_no_code": REFUSAL,
    "prompt_too_long": INVALID,
    "size_not_supported": INVALID,
    "n_not_within_range": INVALID,
    "prompt_missing": INVALID,
    "invalid_value": INVALID,
    "billing_hard_limit_reached": NO_BALANCE,
    "invalid_api_key": BAD_KEY,
    "invalid_api_key_gateway": BAD_KEY,
    "insufficient_user_quota": NO_BALANCE,
    "forbidden_region": FORBIDDEN,
    "forbidden_model": FORBIDDEN,
    "model_not_found": NO_MODEL,
    "model_not_found_503": NO_MODEL,
    "insufficient_quota": NO_BALANCE,
    "rate_limit_exceeded": BUSY,
    "rate_limited_no_code": BUSY,
    "server_error": SERVER,
    "bad_gateway": SERVER,
    "bad_gateway_html": SERVER,
    "service_unavailable": SERVER,
    "input_moderation": REFUSAL,
}


def test_every_gateway_error_has_an_expectation() -> None:
    assert set(EXPECTED_ERRORS) == set(ERRORS)


async def assert_settled(svc: ImageService, request: ImageRequest, charge: Charge) -> JobView:
    """The job of a failed run ended in the state and at the cost its charge calls for."""
    job = await last_job(svc, request.identity)
    assert job.images_delivered == 0
    if charge == Charge.NONE:
        assert job.state == JobState.FAILED_CHARGED
        assert job.cost_micros == 0
    elif charge == Charge.CHARGED:
        assert job.state == JobState.FAILED_CHARGED
        assert job.cost_micros == svc.estimate_micros(request) > 0
    else:
        assert job.state == JobState.UNKNOWN_CHARGED
        assert job.cost_micros == job.worst_cost_micros > svc.estimate_micros(request)
    await consistent(svc)
    return job


@pytest.mark.parametrize("name", sorted(ERRORS))
async def test_every_gateway_error_is_typed_and_settled(
    name: str, gateway: FakeGateway, settings_factory: Factory
) -> None:
    cls, key, charge = EXPECTED_ERRORS[name]
    gateway.script(Behavior(error=ERRORS[name]))
    async with open_service(settings_factory) as svc:
        request = svc.build(PROMPT, ALICE, options=Options(size="1024x1024"))
        with pytest.raises(PixelsmithError) as caught:
            await svc.run(request)
        exc = caught.value
        assert type(exc) is cls, repr(exc)
        assert exc.key == key
        assert exc.charge == charge
        assert len(gateway.calls) == 1, "a billable call must never be retried"
        job = await assert_settled(svc, request, charge)
        assert job.error == key


async def test_refusal_carries_stage_and_categories(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    gateway.script(Behavior(error=ERRORS["moderation_blocked_details"]))
    async with open_service(settings_factory) as svc:
        with pytest.raises(Refused) as caught:
            await svc.run(svc.build(PROMPT, ALICE))
        assert caught.value.params["stage"] == "input"
        assert caught.value.params["categories"] == ["sexual"]


# --------------------------------------------------------------------------------------------
# network faults and malformed answers
# --------------------------------------------------------------------------------------------

FAULTS: dict[str, tuple[Behavior, dict[str, Any], str, Charge]] = {
    "drop": (Behavior(fault=Fault.DROP), {}, "upstream.network", Charge.UNKNOWN),
    "reset_mid_body": (
        Behavior(fault=Fault.RESET_MID_BODY),
        {},
        "upstream.network",
        Charge.UNKNOWN,
    ),
    "hang": (
        Behavior(fault=Fault.HANG, hang_s=5),
        {"timeout_s": 0.5},
        "upstream.timeout",
        Charge.UNKNOWN,
    ),
    "garbage": (Behavior(fault=Fault.GARBAGE), {}, "upstream.bad_response", Charge.CHARGED),
    "garbage_html": (
        Behavior(fault=Fault.GARBAGE_HTML),
        {},
        "upstream.bad_response",
        Charge.CHARGED,
    ),
    "no_data": (Behavior(fault=Fault.NO_DATA), {}, "upstream.bad_response", Charge.CHARGED),
    "stream_cut": (
        Behavior(fault=Fault.STREAM_CUT),
        {"stream_partials": 1},
        "upstream.network",
        Charge.UNKNOWN,
    ),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
async def test_fault_is_typed_and_settled(
    name: str, gateway: FakeGateway, settings_factory: Factory
) -> None:
    behavior, provider, key, charge = FAULTS[name]
    gateway.script(behavior)
    async with open_service(settings_factory, provider=provider) as svc:
        request = svc.build(PROMPT, ALICE, options=Options(size="1024x1024"))
        with pytest.raises(UpstreamError) as caught:
            await svc.run(request)
        assert caught.value.key == key, repr(caught.value)
        assert caught.value.charge == charge
        assert len(gateway.calls) == 1
        await assert_settled(svc, request, charge)


async def test_empty_data_is_everything_filtered(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    gateway.script(Behavior(fault=Fault.EMPTY_DATA))
    async with open_service(settings_factory) as svc:
        request = svc.build(PROMPT, ALICE, options=Options(n=2, quality="low", size="1024x1024"))
        with pytest.raises(Refused) as caught:
            await svc.run(request)
        assert caught.value.key == "refused.filtered_all"
        assert len(gateway.calls) == 1
        job = await last_job(svc)
        assert job.state == JobState.FAILED_CHARGED
        # what the gateway's usage says it billed
        assert job.cost_micros == usage_micros(text_tokens(PROMPT), 0, 272 * 2, GPT_IMAGE_2)
        await consistent(svc)


async def test_stream_error_event_is_a_refusal(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    gateway.script(Behavior(fault=Fault.STREAM_ERROR))
    async with open_service(settings_factory, provider={"stream_partials": 1}) as svc:
        request = svc.build(PROMPT, ALICE, options=Options(size="1024x1024"))
        with pytest.raises(Refused) as caught:
            await svc.run(request)
        assert caught.value.params["stage"] == "output"
        assert len(gateway.calls) == 1 and gateway.calls[0].stream
        await assert_settled(svc, request, Charge.CHARGED)


async def test_connection_refused_costs_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"http://127.0.0.1:{free_port()}/v1")
    svc = await ImageService.create(settings)
    try:
        request = svc.build(PROMPT, ALICE, options=Options(size="1024x1024"))
        with pytest.raises(UpstreamError) as caught:
            await svc.run(request)
        assert caught.value.key == "upstream.network"
        assert caught.value.charge == Charge.NONE
        await assert_settled(svc, request, Charge.NONE)
    finally:
        await svc.close()


# --------------------------------------------------------------------------------------------
# images as URLs (the gateway's compatibility mode)
# --------------------------------------------------------------------------------------------


async def test_url_answers_are_downloaded(gateway: FakeGateway, settings_factory: Factory) -> None:
    gateway.script(Behavior(response_format="url"))
    provider = {"download_hosts": ["127.0.0.1"]}
    async with open_service(settings_factory, provider=provider) as svc:
        request = svc.build(PROMPT, ALICE, options=Options(n=2, quality="low", size="1024x1024"))
        result = await svc.run(request)
        assert len(result.images) == 2
        assert all(sniff(i.data) == ("PNG", 1024, 1024) for i in result.images)
        assert len(gateway.file_hits) == 2
        # no usage: the published per-image price, $0.006 per low 1024x1024 image
        assert result.cost_micros == 2 * 6_000
        await consistent(svc)


async def test_url_serving_html_is_a_download_failure(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    gateway.script(Behavior(response_format="url", file_mode=FileMode.HTML))
    provider = {"download_hosts": ["127.0.0.1"]}
    async with open_service(settings_factory, provider=provider) as svc:
        request = svc.build(PROMPT, ALICE, options=Options(size="1024x1024"))
        with pytest.raises(UpstreamError) as caught:
            await svc.run(request)
        assert caught.value.key == "upstream.download_failed"
        assert len(gateway.calls) == 1
        await assert_settled(svc, request, Charge.CHARGED)


# --------------------------------------------------------------------------------------------
# the reverse models
# --------------------------------------------------------------------------------------------


async def test_reverse_model_end_to_end(gateway: FakeGateway, settings_factory: Factory) -> None:
    provider = {"download_hosts": ["127.0.0.1"], "progress_interval_s": 0}
    async with open_service(settings_factory, provider=provider) as svc:
        progress = Recorder()
        request = svc.build(PROMPT + " --ar 2:3", ALICE, options=Options(model="gpt-4o-image-vip"))
        result = await svc.run(request, progress)

        (call,) = gateway.calls_to(CHAT)
        assert call.json["model"] == "gpt-4o-image-vip" and call.stream
        assert len(result.images) == 2  # the VIP stream carries two images
        assert all(sniff(i.data) == ("PNG", 1024, 1536) for i in result.images)
        assert result.cost_micros == 2 * 9_000  # flat per image, no usage
        percents = [e.percent for e in progress.events if e.percent is not None]
        assert 11 in percents and 64 in percents
        assert progress.stages()[-1] == Stage.DONE
        assert not any(n.key == "note.filtered" for n in result.notes)
        job = await svc.job(result.job_id)
        assert job is not None and job.state == JobState.SUCCEEDED
        await consistent(svc)


# --------------------------------------------------------------------------------------------
# pre-flight safety
# --------------------------------------------------------------------------------------------

MIYAZAKI = "a quiet forest spirit in the style of Hayao Miyazaki"


async def test_preflight_blocks_before_any_cost(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    async with open_service(settings_factory) as svc:
        with pytest.raises(PreflightRefused) as caught:
            await svc.run(svc.build(MIYAZAKI, ALICE))
        assert "Miyazaki" not in caught.value.params["suggestion"]
        assert gateway.calls == []
        assert await svc.history(ALICE) == []
        assert await svc.store.usage() == []
        await consistent(svc)


async def test_preflight_force_sends_it(gateway: FakeGateway, settings_factory: Factory) -> None:
    async with open_service(settings_factory) as svc:
        request = svc.build(MIYAZAKI, ALICE, options=Options(force=True))
        with pytest.raises(Refused):  # the fake refuses it as the gateway would
            await svc.run(request)
        (call,) = gateway.calls
        assert call.json["prompt"] == MIYAZAKI
        await assert_settled(svc, request, Charge.CHARGED)


async def test_preflight_warn_sends_with_a_note(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    gateway.blocked_terms = []
    async with open_service(settings_factory, safety={"preflight": "warn"}) as svc:
        result = await svc.run(svc.build(MIYAZAKI, ALICE))
        assert len(gateway.calls) == 1
        (warn,) = [n for n in result.notes if n.key == "note.preflight_warn"]
        assert warn.params["suggestion"] and "Miyazaki" not in warn.params["suggestion"]


# --------------------------------------------------------------------------------------------
# quotas
# --------------------------------------------------------------------------------------------


async def test_daily_image_quota(gateway: FakeGateway, settings_factory: Factory) -> None:
    async with open_service(settings_factory, quota={"user_daily_images": 2}) as svc:
        for _ in range(2):
            await svc.run(svc.build(PROMPT, ALICE))
        with pytest.raises(QuotaExceeded) as caught:
            await svc.run(svc.build(PROMPT, ALICE))
        assert caught.value.params["limit"] == "user_daily_images"
        assert caught.value.resets_at is not None
        assert len(gateway.calls) == 2
        await consistent(svc)


@pytest.mark.parametrize("count_refused", [True, False])
async def test_count_refused(
    count_refused: bool, gateway: FakeGateway, settings_factory: Factory
) -> None:
    quota = {"user_daily_images": 1, "user_daily_usd": 5.0, "count_refused": count_refused}
    gateway.script(Behavior(error=ERRORS["moderation_blocked"]))
    async with open_service(settings_factory, quota=quota) as svc:
        with pytest.raises(Refused):
            await svc.run(svc.build(PROMPT, ALICE))
        job = await last_job(svc)
        status = await svc.quota_status(ALICE)
        usd = status.get("user_daily_usd")
        images = status.get("user_daily_images")
        assert usd is not None and images is not None
        assert images.used == 0  # a refusal never delivers an image
        assert usd.used == (job.cost_micros / 1e6 if count_refused else 0)
        # the image bucket is still there for a good prompt
        result = await svc.run(svc.build(PROMPT, ALICE))
        assert len(result.images) == 1
        await consistent(svc)


# --------------------------------------------------------------------------------------------
# duplicates and concurrency
# --------------------------------------------------------------------------------------------


async def test_same_idempotency_key_runs_once(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    async with open_service(settings_factory) as svc:
        key = "discord:interaction:1234"
        first = await svc.run(svc.build(PROMPT, ALICE, idem_key=key))
        with pytest.raises(DuplicateJob) as caught:
            await svc.run(svc.build(PROMPT, ALICE, idem_key=key))
        assert caught.value.params["job_id"] == first.job_id
        assert len(gateway.calls) == 1
        assert len(await svc.history(ALICE)) == 1
        (row,) = await svc.store.usage()
        assert row.jobs == 1 and row.cost_micros == first.cost_micros
        await consistent(svc)


async def test_concurrent_runs_respect_max_concurrency(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    gateway.default = Behavior(latency_s=0.02)
    async with open_service(settings_factory, provider={"max_concurrency": 2}) as svc:
        inner = svc.provider.run
        active = peak = 0

        async def counting(call: Any, on_progress: Any) -> Any:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            try:
                return await inner(call, on_progress)
            finally:
                active -= 1

        svc.provider.run = counting  # type: ignore[method-assign]
        users = [Identity(platform="cli", user_id=f"u{i % 5}") for i in range(20)]
        results = await asyncio.gather(*(svc.run(svc.build(PROMPT, who)) for who in users))
        assert all(len(r.images) == 1 for r in results)
        assert len(gateway.calls) == 20
        assert 1 <= peak <= 2
        await consistent(svc)


# --------------------------------------------------------------------------------------------
# edits
# --------------------------------------------------------------------------------------------


async def test_edit_two_images_and_a_mask(gateway: FakeGateway, settings_factory: Factory) -> None:
    async with open_service(settings_factory) as svc:
        first = Attachment(data=solid_png(2048, 1536), name="room.png")
        second = Attachment(data=jpeg_bytes(640, 480), name="chair.jpg")
        images = await svc.prepare_images([first, second])
        mask = await svc.prepare_mask(Attachment(mask_png(2048, 1536), "mask.png"), images[0])
        request = svc.build(
            "put the chair by the window",
            ALICE,
            options=Options(
                model="gpt-image-1.5", input_fidelity="high", size="1536x1024", quality="low"
            ),
            images=images,
            mask=mask,
        )
        result = await svc.run(request)
        assert len(result.images) == 1

        (call,) = gateway.calls_to(EDIT)
        sent = [f for f in call.files if f.field == "image[]"]
        assert len(sent) == 2
        assert all(max(f.width or 0, f.height or 0) <= 1536 for f in sent)
        assert (sent[0].width, sent[0].height) == (1536, 1152)
        (mask_file,) = [f for f in call.files if f.field == "mask"]
        assert mask_file.format == "PNG"
        assert (mask_file.width, mask_file.height) == (sent[0].width, sent[0].height)
        assert "moderation" not in call.form
        assert call.form["input_fidelity"] == "high"
        # image input tokens are billed too
        expected = usage_micros(text_tokens(request.prompt), 2 * 323, 400, GPT_IMAGE_1_5)
        assert result.cost_micros == expected
        await consistent(svc)


# --------------------------------------------------------------------------------------------
# the demo provider
# --------------------------------------------------------------------------------------------


async def test_demo_provider(gateway: FakeGateway, settings_factory: Factory) -> None:
    async with open_service(settings_factory, provider={"kind": "demo"}) as svc:
        result = await svc.run(svc.build(PROMPT, ALICE, options=Options(size="1536x1024", n=2)))
        assert result.demo and result.cost_micros == 0
        assert len(result.images) == 2
        assert all(sniff(i.data) == ("PNG", 1536, 1024) for i in result.images)
        assert result.images[0].data != result.images[1].data
        assert any(n.key == "note.demo" for n in result.notes)
        assert gateway.calls == []
        job = await last_job(svc)
        assert job.state == JobState.SUCCEEDED and job.cost_micros == 0
        await consistent(svc)


async def test_no_key_falls_back_to_demo_only_when_allowed(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, provider={"api_key": ""})
    with pytest.raises(PixelsmithError) as caught:
        await ImageService.create(settings)
    assert caught.value.key == "config.invalid"
    svc = await ImageService.create(settings, allow_demo_fallback=True)
    try:
        result = await svc.run(svc.build(PROMPT, ALICE))
        assert result.demo
        assert {"note.demo_fallback", "note.demo"} <= {n.key for n in result.notes}
    finally:
        await svc.close()


# --------------------------------------------------------------------------------------------
# cancellation
# --------------------------------------------------------------------------------------------


async def test_cancel_while_upstream_hangs(gateway: FakeGateway, settings_factory: Factory) -> None:
    gateway.script(Behavior(fault=Fault.HANG, hang_s=5))
    async with open_service(settings_factory) as svc:
        request = svc.build(PROMPT, ALICE, options=Options(size="1024x1024"))
        seen = asyncio.Event()

        async def on_progress(p: Progress) -> None:
            if p.stage == Stage.SUBMITTED:
                seen.set()

        task = asyncio.create_task(svc.run(request, on_progress))
        await seen.wait()
        while not gateway.calls:  # the request has reached the fake
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await assert_settled(svc, request, Charge.UNKNOWN)
        assert (await last_job(svc)).error == "cancelled"


async def test_cancel_while_queued_releases(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    gateway.script(Behavior(latency_s=0.3))
    async with open_service(settings_factory, provider={"max_concurrency": 1}) as svc:
        positions: list[int | None] = []

        async def on_progress(p: Progress) -> None:
            if p.stage == Stage.QUEUED:
                positions.append(p.queue_position)

        running = asyncio.create_task(svc.run(svc.build(PROMPT, ALICE)))
        while not gateway.calls:
            await asyncio.sleep(0.01)
        waiting = asyncio.create_task(svc.run(svc.build(PROMPT, ALICE), on_progress))
        while not positions:
            await asyncio.sleep(0.01)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        result: ImageResult = await running
        assert len(result.images) == 1
        assert positions == [1]
        jobs = await svc.history(ALICE)
        assert sorted(j.state for j in jobs) == sorted([JobState.SUCCEEDED, JobState.RELEASED])
        assert len(gateway.calls) == 1
        await consistent(svc)


async def test_drain_waits_for_inflight_then_refuses(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    gateway.script(Behavior(latency_s=0.1))
    async with open_service(settings_factory) as svc:
        task = asyncio.create_task(svc.run(svc.build(PROMPT, ALICE)))
        while not gateway.calls:
            await asyncio.sleep(0.01)
        assert await svc.drain(5) == 0
        assert task.done() and len(task.result().images) == 1
        with pytest.raises(UpstreamError) as caught:
            await svc.run(svc.build(PROMPT, ALICE))
        assert caught.value.key == "upstream.shutting_down"
        assert len(gateway.calls) == 1


async def test_quota_left_and_database_overrides(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    async with open_service(settings_factory) as svc:
        bob = Identity(platform="cli", user_id="bob")
        unlimited = await svc.run(svc.build(PROMPT, bob))
        assert unlimited.quota_left == QuotaLeft()  # nothing limited
        await svc.admin_set_limits(Identity.operator(), ALICE.user_scope, {"user_daily_images": 2})
        first = await svc.run(svc.build(PROMPT, ALICE))
        assert first.quota_left == QuotaLeft(images_today=1)
        second = await svc.run(svc.build(PROMPT, ALICE))
        assert second.quota_left == QuotaLeft(images_today=0)
        with pytest.raises(QuotaExceeded):  # the override applies when reserving
            await svc.run(svc.build(PROMPT, ALICE))
        daily = (await svc.quota_status(ALICE)).get("user_daily_images")
        assert daily is not None and daily.limit == 2 and daily.used == 2
        assert len(gateway.calls) == 3
        await consistent(svc)


async def test_a_provider_bug_still_settles_the_job(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    async with open_service(settings_factory) as svc:

        async def broken(call: Any, on_progress: Any) -> Any:
            raise RuntimeError("a bug in a provider")

        svc.provider.run = broken  # type: ignore[method-assign]
        request = svc.build(PROMPT, ALICE, options=Options(size="1024x1024"))
        with pytest.raises(RuntimeError):
            await svc.run(request)
        await assert_settled(svc, request, Charge.UNKNOWN)


async def test_edit_on_gpt_image_2_omits_input_fidelity(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    # The SDK documents "For gpt-image-2, omit this parameter"; the fake rejects it if sent.
    async with open_service(settings_factory) as svc:
        images = await svc.prepare_images([Attachment(data=solid_png(64, 64), name="a.png")])
        result = await svc.run(svc.build("make it blue", ALICE, images=images))
        assert len(result.images) == 1
        (call,) = gateway.calls_to(EDIT)
        assert "input_fidelity" not in call.form


WHO = contextvars.ContextVar("who", default="nobody")


async def test_a_queue_position_is_told_in_the_waiting_jobs_own_context(
    gateway: FakeGateway, settings_factory: Factory
) -> None:
    """The queue announces positions from one task of its own; each job's callback still runs
    with that job's context variables (an adapter's "which workspace am I acting for")."""
    hold, arrived = asyncio.Event(), asyncio.Event()
    gateway.script(Behavior(hold=hold, arrived=arrived))
    async with open_service(settings_factory, provider={"max_concurrency": 1}) as svc:
        seen: list[tuple[str, str]] = []

        async def ask(name: str) -> ImageResult:
            WHO.set(name)

            async def on_progress(p: Progress) -> None:
                if p.stage == Stage.QUEUED:
                    seen.append((name, WHO.get()))

            who = Identity("discord", name, "g1")
            return await svc.run(svc.build(f"{PROMPT} {name}", who), on_progress)

        first = asyncio.create_task(ask("first"))
        await asyncio.wait_for(arrived.wait(), 10)
        queued = [asyncio.create_task(ask(name)) for name in ("b", "c", "d")]
        while len({name for name, _ in seen}) < 3:
            await asyncio.sleep(0.01)
        hold.set()
        await asyncio.gather(first, *queued)
        assert seen and all(name == context for name, context in seen), seen
