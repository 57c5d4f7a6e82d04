"""The web companion on the real result store (no stand-in): the painter's source, My images'
thumbnails and downloads, and free re-delivery come from the files the service kept."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image

from bots.web.app import build_app
from core.service import ImageService
from tests.conftest import make_settings
from tests.fakes.gateway import FakeGateway
from tests.web.conftest import ALICE, BOB, SECRET, RecordingPoster, Web, make_job
from tests.web.test_pages import finish


@pytest.fixture
async def real(tmp_path: Path, gateway: FakeGateway) -> Any:
    settings = make_settings(
        tmp_path,
        gateway.base_url,
        web={"port": 0, "secret_key": SECRET, "public_url": "http://web.test"},
        results={"dir": str(tmp_path / "results"), "keep_days": 7},
    )
    service = await ImageService.create(settings)
    poster = RecordingPoster()
    client: TestClient[Any, Any] = TestClient(
        TestServer(build_app(service, settings, {"discord": poster}))
    )
    await client.start_server()
    try:
        yield Web(client, service, settings, poster)
    finally:
        await client.close()
        await service.close()


async def test_my_images_and_redelivery_use_the_kept_files(real: Web, gateway: FakeGateway) -> None:
    job = await make_job(real.service, ALICE, "a kept fox")
    await real.login(ALICE)
    html = await (await real.client.get("/gallery")).text()
    assert f'src="/img/{job}/0"' in html
    image = await real.client.get(f"/img/{job}/0")
    assert image.status == 200 and (await image.read())[:8] == b"\x89PNG\r\n\x1a\n"
    calls = len(gateway.calls)
    answer = await real.client.post(
        f"/api/redeliver/{job}", headers={"X-CSRF-Token": await real.csrf()}
    )
    assert answer.status == 200
    [(_, result)] = real.poster.posted
    assert result.cost_micros == 0 and result.images
    assert len(gateway.calls) == calls


async def test_the_painter_edits_a_kept_result_of_the_channel(
    real: Web, gateway: FakeGateway
) -> None:
    job = await make_job(real.service, BOB, "bob's harbour")  # posted in channel 5001
    await real.login(ALICE, "edit", job=job)  # Alice clicked Edit region in 5001
    html = await (await real.client.get(f"/edit/{job}")).text()
    assert f'src="/img/{job}/0"' in html
    source = Image.open(io.BytesIO(await (await real.client.get(f"/img/{job}/0")).read()))
    mask = Image.new("RGBA", source.size, (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (10, 10, 200, 200))
    out = io.BytesIO()
    mask.save(out, "PNG")
    form = aiohttp.FormData(default_to_multipart=True)
    for name, value in (("prompt", "a lighthouse"), ("form", "r1"), ("mode", "mask")):
        form.add_field(name, value)
    form.add_field("mask", out.getvalue(), filename="mask.png", content_type="image/png")
    csrf = await real.csrf(f"/edit/{job}")
    answer = await real.client.post(f"/api/edit/{job}", data=form, headers={"X-CSRF-Token": csrf})
    status = await finish(real, answer)
    assert status["state"] == "done", status
    [edit] = gateway.calls_to("/v1/images/edits")
    assert [f.field for f in edit.files].count("mask") == 1
    # Bob's own gallery is not Alice's: she cannot re-deliver or download it there
    answer = await real.client.post(f"/api/redeliver/{job}", headers={"X-CSRF-Token": csrf})
    assert answer.status == 403
