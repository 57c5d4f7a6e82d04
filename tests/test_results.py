"""Deliver or tell: results are kept before any upload, handed over again for free, swept.

The published rule: what was paid for is never lost. The service keeps a job's images in the
result store before it returns them (so before any platform upload); ``redeliver`` hands them
over again for free to the same user (or an admin of the same community) while they are kept;
other users, other communities and malformed ids learn nothing. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.config import Settings
from core.errors import InvalidRequest
from core.results import ResultStore, default_dir
from core.service import ImageService
from core.types import GeneratedImage, Identity, JobState
from tests.conftest import make_settings
from tests.fakes.gateway import FakeGateway
from tests.store.conftest import db_url  # noqa: F401  (SQLite and PostgreSQL)

ALICE = Identity("discord", "alice", "G1")
BOB = Identity("discord", "bob", "G1")
ADMIN = Identity("discord", "root", "G1", is_admin=True)
OTHER_ADMIN = Identity("discord", "root", "G2", is_admin=True)


def settings_for(tmp_path: Path, gateway: FakeGateway, url: str, **results: Any) -> Settings:
    return make_settings(
        tmp_path,
        gateway.base_url,
        database={"url": url},
        results={"dir": str(tmp_path / "kept"), **results},
    )


@pytest.fixture
async def svc(
    tmp_path: Path,
    gateway: FakeGateway,
    db_url: str,  # noqa: F811
) -> AsyncIterator[ImageService]:
    service = await ImageService.create(settings_for(tmp_path, gateway, db_url))
    try:
        yield service
    finally:
        await service.close()


async def test_kept_before_return_and_redelivered_free(
    svc: ImageService, gateway: FakeGateway
) -> None:
    result = await svc.run(svc.build("a fox --n 2 --q low", ALICE))
    folder = svc.results.folder / str(result.job_id)
    assert sorted(p.name for p in folder.iterdir()) == ["0.png", "1.png", "manifest.json"]
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert oct((folder / "0.png").stat().st_mode & 0o777) == "0o600"
    for who in (ALICE, ADMIN):
        again = await svc.redeliver(who, result.public_id)
        assert [i.data for i in again.images] == [i.data for i in result.images]
        assert again.cost_micros == 0 and again.notes[0].key == "note.redelivered"
    assert len(gateway.calls) == 1  # re-delivery never calls the gateway
    assert await svc.store.check() == []
    (job,) = await svc.history(ALICE)
    assert job.state == JobState.SUCCEEDED and job.cost_micros == result.cost_micros


@pytest.mark.parametrize(
    "ref", ["999999", "../1", "1e3", "-1", "", "9" * 40, "1; DROP TABLE job", "\u202e1"]
)
async def test_nobody_else_gets_a_kept_result(svc: ImageService, ref: str) -> None:
    result = await svc.run(svc.build("a fox --q low", ALICE))
    for who, job in ((BOB, result.public_id), (OTHER_ADMIN, result.public_id), (ALICE, ref)):
        with pytest.raises(InvalidRequest) as exc:
            await svc.redeliver(who, job)
        assert exc.value.key == "results.unknown_job"
        assert exc.value.exit_code == 2


async def test_retention_sweep(tmp_path: Path, gateway: FakeGateway, db_url: str) -> None:  # noqa: F811
    service = await ImageService.create(settings_for(tmp_path, gateway, db_url, keep_days=2))
    try:
        old = await service.run(service.build("an old fox --q low", ALICE))
        new = await service.run(service.build("a new fox --q low", ALICE))
        three_days_ago = time.time() - 3 * 86_400
        os.utime(service.results.folder / str(old.job_id), (three_days_ago, three_days_ago))
        assert await service.results.sweep() == 1
        assert not (service.results.folder / str(old.job_id)).exists()
        with pytest.raises(InvalidRequest) as exc:
            await service.redeliver(ALICE, old.public_id)
        assert exc.value.key == "results.gone" and exc.value.params["days"] == 2
        assert (await service.redeliver(ALICE, new.public_id)).images
        assert await service.store.check() == []
    finally:
        await service.close()


async def test_keep_days_zero_keeps_nothing(
    tmp_path: Path,
    gateway: FakeGateway,
    db_url: str,  # noqa: F811
) -> None:
    service = await ImageService.create(settings_for(tmp_path, gateway, db_url, keep_days=0))
    try:
        result = await service.run(service.build("a fox --q low", ALICE))
        assert result.images
        assert not (tmp_path / "kept").exists()
        with pytest.raises(InvalidRequest):
            await service.redeliver(ALICE, result.public_id)
    finally:
        await service.close()


async def test_an_unusable_result_store_never_withholds_the_image(
    tmp_path: Path, gateway: FakeGateway
) -> None:
    settings = make_settings(tmp_path, gateway.base_url, results={"dir": "/proc/nope/kept"})
    service = await ImageService.create(settings)
    try:
        result = await service.run(service.build("a fox --q low", ALICE))
        assert len(result.images) == 1
        (job,) = await service.history(ALICE)
        assert job.state == JobState.SUCCEEDED and job.result == {"images": 1, "kept": False}
        assert await service.store.check() == []
    finally:
        await service.close()


def test_default_folder_is_next_to_the_sqlite_file() -> None:
    assert default_dir("sqlite:///data/px.db") == Path("data/px-results")
    assert default_dir("sqlite:////var/lib/pixelsmith.db") == Path("/var/lib/pixelsmith-results")
    assert default_dir("postgresql+psycopg://u@h/db") == Path("pixelsmith-results")
    assert default_dir("sqlite://") == Path("pixelsmith-results")


async def test_damaged_store_reads_nothing(tmp_path: Path) -> None:
    store = ResultStore(tmp_path, keep_days=1)
    assert await store.keep(7, [GeneratedImage(b"\x89PNG fake", "image/png", 1, 1)])
    (tmp_path / "7" / "manifest.json").write_text('{"images": [{"file": "../../etc/passwd"}]}')
    assert await store.load(7) is None
    (tmp_path / "7" / "manifest.json").write_text("not json")
    assert await store.load(7) is None


async def test_kept_results_for_the_adapters(svc: ImageService) -> None:
    result = await svc.run(svc.build("a fox --q low", ALICE))
    kept = await svc.kept_results(ALICE, result.public_id)
    assert kept == [(result.images[0].data, "image/png")]
    assert await svc.kept_results(ADMIN, result.public_id) == kept
    for who, ref in ((BOB, result.public_id), (OTHER_ADMIN, result.public_id), (ALICE, "x")):
        assert await svc.kept_results(who, ref) == []
    assert await svc.kept_results(BOB, result.public_id, community=True) == kept  # same community
    assert await svc.kept_results(OTHER_ADMIN, result.public_id, community=True) == []
