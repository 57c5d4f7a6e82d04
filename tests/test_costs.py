"""Costs are bounded: an absurd usage report can neither break the ledger nor lose the image.

The published rule (README "Money"): a reported usage that prices above 10x the request's
worst-case estimate is settled at that bound, flagged in the job and logged for admins; the user
still gets the images. A token count that is a string or a float never raises, and never prints
a pydantic warning on a terminal. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.service import COST_SANITY_FACTOR, ImageService
from core.types import Identity, JobState
from tests.conftest import make_settings
from tests.fakes.gateway import Behavior, FakeGateway, output_tokens
from tests.store.conftest import db_url  # noqa: F401  (SQLite and PostgreSQL)
from tests.test_cli import pixelsmith, write_config

ALICE = Identity("discord", "alice", "G1")


def usage(output: Any, text: Any = 10) -> dict[str, Any]:
    return {
        "input_tokens": text,
        "output_tokens": output,
        "total_tokens": 0,
        "input_tokens_details": {"text_tokens": text, "image_tokens": 0},
    }


@pytest.fixture
async def svc(
    tmp_path: Path,
    gateway: FakeGateway,
    db_url: str,  # noqa: F811
) -> AsyncIterator[ImageService]:
    settings = make_settings(
        tmp_path, gateway.base_url, database={"url": db_url}, results={"dir": str(tmp_path / "k")}
    )
    service = await ImageService.create(settings)
    try:
        yield service
    finally:
        await service.close()


@pytest.mark.parametrize("output", [10**18, 1e18, 1e300, "1e18", 2**70])
async def test_absurd_usage_is_settled_at_the_bound(
    svc: ImageService, gateway: FakeGateway, output: Any, caplog: pytest.LogCaptureFixture
) -> None:
    gateway.script(Behavior(usage_override=usage(output)))
    with warnings.catch_warnings(record=True) as seen, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        result = await svc.run(svc.build("a fox --q low --size 1024x1024", ALICE))
    assert not [w for w in seen if "pydantic" in str(w.message).lower()], seen
    assert len(result.images) == 1
    (job,) = await svc.history(ALICE)
    assert job.state == JobState.SUCCEEDED
    bound = COST_SANITY_FACTOR * job.worst_cost_micros
    assert job.cost_micros == result.cost_micros <= bound
    assert job.cost_micros == bound
    assert job.result is not None and job.result["cost_capped"] is True
    assert "note.cost_capped" in [n.key for n in result.notes]
    assert "cost capped" in caplog.text
    assert job.cost_capped
    assert len(gateway.calls) == 1
    # the ledger agrees; `usage --check` and `doctor` list the capped job for the admin
    assert await svc.check() == []
    (problem,) = await svc.attention()
    assert problem.startswith(f"job {job.id}: reported cost above the sanity bound")


async def test_a_plausible_usage_is_charged_as_reported(
    svc: ImageService, gateway: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    gateway.script(Behavior(usage_override=usage("272", text="5")))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = await svc.run(svc.build("a fox --q low --size 1024x1024", ALICE))
    assert not [w for w in seen if "pydantic" in str(w.message).lower()], seen
    prices = svc.catalog.get("gpt-image-2").prices  # type: ignore[union-attr]
    assert result.cost_micros == math.ceil(5 * prices.text_in_per_m + 272 * prices.image_out_per_m)
    gateway.script(Behavior(usage_override=usage("many", text=None)))
    with caplog.at_level(logging.INFO):
        odd = await svc.run(svc.build("a fox --q low --size 1024x1024", ALICE))
    assert odd.images and "token count" in caplog.text  # logged, then read as 0
    assert len(gateway.calls) == 2
    assert await svc.store.check() == []


async def test_the_cli_prints_no_pydantic_warning(tmp_path: Path, gateway: FakeGateway) -> None:
    config = write_config(tmp_path / "cfg", gateway.base_url)
    gateway.script(Behavior(usage_override=usage("272", text="abc")))
    run = await pixelsmith(tmp_path, "imagine", "a fox", "--quality", "low", config=config)
    assert run.code == 0, run.err
    assert "pydantic" not in run.err.lower() and "warning" not in run.err.lower(), run.err


@pytest.mark.parametrize("partials", [0, 1])  # a plain answer, and a stream of completed events
async def test_text_output_tokens_are_priced_at_the_text_output_rate(
    tmp_path: Path, gateway: FakeGateway, partials: int
) -> None:
    """``usage.output_tokens_details`` (the SDK's ``ImagesResponse.usage``) splits the output
    into image and text tokens: each kind at its own rate, the text never at the image rate."""
    settings = make_settings(
        tmp_path,
        gateway.base_url,
        provider={"stream_partials": partials},
        results={"dir": str(tmp_path / "k")},
    )
    svc = await ImageService.create(settings)
    try:
        gateway.script(Behavior(output_text_tokens=1_000))
        result = await svc.run(svc.build("a fox --q medium --size 1024x1024 --n 2", ALICE))
        (call,) = gateway.calls
        assert call.stream is bool(partials)
        # the usage as sent: image tokens 2 x 1056 (the fake's medium square), text 1000
        image_out, text_in = 2 * 1056, math.ceil(len("a fox") / 4)
        # gpt-image-2: text in $5/1M, image out $30/1M, text out $10/1M
        expected = math.ceil(text_in * 5 + image_out * 30 + 1_000 * 10)
        assert result.cost_micros == expected == 73_370
        # the old reading (every output token at the image rate) would be 30_000 more
        assert result.cost_micros < math.ceil(text_in * 5 + (image_out + 1_000) * 30)
    finally:
        await svc.close()


async def test_text_output_without_a_published_price_is_priced_as_image_output(
    svc: ImageService, gateway: FakeGateway
) -> None:
    """A model whose text-output price is not published (OpenAI's page lists text as input only)
    prices any reported text output at its image-output rate: an upper bound, never zero."""
    spec = svc.catalog.get("gpt-image-2.6-sunburst")
    assert spec is not None and spec.prices.text_out_per_m is None
    gateway.script(Behavior(output_text_tokens=500))
    result = await svc.run(
        svc.build("a fox --q low --size 1024x1024 --model gpt-image-2.6-sunburst", ALICE)
    )
    assert len(gateway.calls) == 1
    text_in, image_out = math.ceil(len("a fox") / 4), output_tokens("low", "1024x1024")
    assert result.cost_micros == math.ceil(text_in * 5 + (image_out + 500) * 30)
