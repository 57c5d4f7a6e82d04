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
from tests.fakes.gateway import Behavior, FakeGateway
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
    # the ledger agrees; `usage --check` lists the capped job for the admin
    (problem,) = await svc.check()
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
