"""Finishing moves (core/finishing.py) through the service, the real SDK and the fake gateway:
Upscale (the next size up within the catalog's limits, the result image as input, fidelity only
where the model takes it, reserved like any job), Vary (subtle) (an edit of the result, high
fidelity where accepted) and Vary (strong) (a new generation with a varied seed phrase)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core import finishing
from core.catalog import Catalog
from core.config import Settings
from core.errors import InvalidRequest
from core.service import ImageService
from core.types import Identity, JobView
from tests.fakes.gateway import FakeGateway

ALICE = Identity(platform="cli", user_id="alice")
EDITS, GENERATIONS = "/v1/images/edits", "/v1/images/generations"


@pytest.fixture
def svc(service: ImageService) -> ImageService:
    """The root conftest's service, under this module's short name."""
    return service


async def made(svc: ImageService, text: str) -> JobView:
    result = await svc.run(svc.build(text, ALICE))
    job = await svc.job(result.job_id)
    assert job is not None
    return job


def test_next_size_within_the_catalog_limits() -> None:
    catalog = Catalog.from_settings()
    two = catalog.get("gpt-image-2")
    assert two is not None  # pixels 655,360..8,294,400, edges <= 3840 (catalog)
    assert finishing.next_size(two, 1024, 1536) == "2048x3072"
    assert finishing.next_size(two, 1024, 1024) == "2048x2048"
    # doubling 2048x3072 is beyond the pixel limit: the largest 2:3 size within it
    grown = finishing.next_size(two, 2048, 3072)
    assert grown == "2336x3520"  # 8,222,720 pixels; 2400x3600 would be 8,640,000
    w, h = (int(v) for v in grown.split("x"))
    assert w * h <= two.max_pixels and max(w, h) <= two.max_edge and w % 16 == h % 16 == 0
    assert finishing.next_size(two, 2336, 3520) is None  # nothing larger fits
    for name in ("gpt-image-1.5", "gpt-image-2.6-sunburst", "gpt-4o-image"):  # standard sizes
        spec = catalog.get(name)
        assert spec is not None and finishing.next_size(spec, 1024, 1024) is None


async def test_upscale_request_reservation_and_confirmation(
    svc: ImageService, gateway: FakeGateway
) -> None:
    job = await made(svc, "a lighthouse at dusk --size 1024x1536 --q high")
    result_moves = svc.moves(svc.catalog.get("gpt-image-2"), [], kept=False)  # type: ignore[arg-type]
    assert result_moves == (finishing.VARY_STRONG,)
    quote = await svc.upscale_quote(job)
    assert quote.size == "2048x3072"
    assert quote.needs_confirmation and quote.estimate_micros > quote.normal_micros

    request = await svc.finish(job, ALICE, finishing.UPSCALE, idem_key="cli:upscale:1")
    result = await svc.run(request)
    (call,) = gateway.calls_to(EDITS)
    assert call.form["size"] == "2048x3072" and call.form["n"] == "1"
    assert call.form["quality"] == "high"
    assert "input_fidelity" not in call.form  # gpt-image-2: "omit this parameter"
    assert call.form["prompt"].startswith(finishing.UPSCALE_INSTRUCTION)
    assert call.form["prompt"].endswith("\n\na lighthouse at dusk")  # the original prompt
    [image] = call.files  # the result's own image, from the result store
    assert image.field == "image" and image.format == "PNG"
    assert (image.width, image.height) == (1024, 1536)
    # reserved like any job: the worst case of a 2048x3072 high edit with one input image
    upscaled = await svc.job(result.job_id)
    assert upscaled is not None and upscaled.request["size"] == "2048x3072"
    spec = svc.catalog.get("gpt-image-2")
    assert spec is not None
    worst = spec.worst_micros(
        prompt=request.prompt, quality="high", size="2048x3072", n=1, input_images=1
    )
    assert upscaled.worst_cost_micros == worst
    assert worst > spec.worst_micros(prompt=job.prompt, quality="high", size="1024x1536", n=1)


async def test_vary_subtle_edits_the_result_with_high_fidelity_where_accepted(
    svc: ImageService, gateway: FakeGateway
) -> None:
    job = await made(svc, "a teapot --model gpt-image-1.5 --size 1536x1024 --n 2")
    request = await svc.finish(job, ALICE, finishing.VARY_SUBTLE, idem_key="cli:vary:1")
    await svc.run(request)
    (call,) = gateway.calls_to(EDITS)
    assert call.form["input_fidelity"] == "high"  # gpt-image-1.5 takes high (catalog, SDK)
    assert call.form["size"] == "1536x1024" and call.form["n"] == "2"
    assert call.form["prompt"] == job.prompt  # the original prompt and options
    [image] = call.files
    assert (image.width, image.height) == (1536, 1024)

    two = await made(svc, "a kettle")
    await svc.run(await svc.finish(two, ALICE, finishing.VARY_SUBTLE, idem_key="cli:vary:2"))
    assert "input_fidelity" not in gateway.calls_to(EDITS)[-1].form  # gpt-image-2: omitted


async def test_vary_strong_is_a_new_generation_with_a_varied_seed_phrase(
    svc: ImageService, gateway: FakeGateway
) -> None:
    job = await made(svc, "a red fox --ar 2:3 --q low")
    first = await svc.finish(job, ALICE, finishing.VARY_STRONG, idem_key="cli:strong:1")
    second = await svc.finish(job, ALICE, finishing.VARY_STRONG, idem_key="cli:strong:2")
    for request in (first, second):
        await svc.run(request)
    calls = gateway.calls_to(GENERATIONS)[1:]
    assert len(calls) == 2 and gateway.calls_to(EDITS) == []
    prompts = [c.json["prompt"] for c in calls]
    assert all(p.startswith(job.prompt + "\n\n(") for p in prompts)
    assert prompts[0] != prompts[1]  # a different seed phrase per click
    original = gateway.calls_to(GENERATIONS)[0].json
    for call in calls:  # the original options
        assert (call.json["size"], call.json["quality"]) == (original["size"], original["quality"])


async def test_moves_and_refusals(svc: ImageService, gateway: FakeGateway) -> None:
    result = await svc.run(svc.build("a fox --size 1024x1024", ALICE))
    assert result.moves == (finishing.UPSCALE, finishing.VARY_SUBTLE, finishing.VARY_STRONG)
    standard = await svc.run(svc.build("a fox --model gpt-image-2.6-sunburst", ALICE))
    assert standard.moves == (finishing.VARY_SUBTLE, finishing.VARY_STRONG)
    job = await svc.job(standard.job_id)
    assert job is not None
    with pytest.raises(InvalidRequest) as caught:
        await svc.finish(job, ALICE, finishing.UPSCALE, idem_key="cli:u:2")
    assert caught.value.key == "finish.no_larger_size"
    with pytest.raises(InvalidRequest):
        await svc.finish(job, ALICE, "explode", idem_key="cli:u:3")
    calls = len(gateway.calls)
    assert calls == 2  # nothing sent by a refusal


async def test_a_result_no_longer_kept_cannot_be_upscaled(
    settings_factory: Callable[..., Settings], gateway: FakeGateway
) -> None:
    svc = await ImageService.create(settings_factory(results={"keep_days": 0}))
    try:
        result = await svc.run(svc.build("a fox --size 1024x1024", ALICE))
        assert result.moves == (finishing.VARY_STRONG,)
        job = await svc.job(result.job_id)
        assert job is not None
        with pytest.raises(InvalidRequest) as caught:
            await svc.finish(job, ALICE, finishing.UPSCALE, idem_key="cli:u:1")
        assert caught.value.key == "results.gone"
        assert len(gateway.calls) == 1
    finally:
        await svc.close()
