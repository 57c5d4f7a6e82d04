"""The member pages over HTTP: the painter's edit endpoint and task polling, My images, download,
re-delivery. Every hostile input: a clear answer, nothing charged, nothing outside the caller."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import aiohttp
from PIL import Image

from bots.web.backend import KeptImage
from tests.fakes.gateway import FakeGateway
from tests.web.conftest import ALICE, BOB, MALLORY, Web, make_job

W, H = 640, 480


def png(width: int = W, height: int = H, *, hole: tuple[int, int, int, int] | None = None) -> bytes:
    """An RGBA PNG; with ``hole`` (x0, y0, x1, y1) that box is transparent (a mask)."""
    img = Image.new("RGBA", (width, height), (30, 90, 160, 255))
    if hole is not None:
        img.paste((0, 0, 0, 0), hole)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def edit_form(mask: bytes | None, prompt: str = "a lighthouse", form: str = "f1") -> Any:
    data = aiohttp.FormData(default_to_multipart=True)  # as the browser's FormData
    data.add_field("prompt", prompt)
    data.add_field("form", form)
    data.add_field("mode", "mask")
    if mask is not None:
        data.add_field("mask", mask, filename="mask.png", content_type="image/png")
    return data


async def open_edit(webapp: Web, owner: Any = ALICE, who: Any = ALICE) -> tuple[str, str]:
    job = await make_job(webapp.service, owner)
    webapp.kept[job] = [KeptImage(png())]
    await webapp.login(who, "edit", job=str(job))
    return job, await webapp.csrf(f"/edit/{job}")


async def finish(webapp: Web, answer: aiohttp.ClientResponse) -> dict[str, Any]:
    assert answer.status == 202, await answer.text()
    url = f"/api/tasks/{(await answer.json())['task']}"
    for _ in range(400):
        status: dict[str, Any] = await (await webapp.client.get(url)).json()
        if status["state"] != "running":
            return status
        await asyncio.sleep(0.05)
    raise AssertionError("the edit never finished")


async def test_the_painter_shows_the_kept_image(webapp: Web) -> None:
    job, _ = await open_edit(webapp)
    html = await (await webapp.client.get(f"/edit/{job}")).text()
    assert f'src="/img/{job}/0"' in html and 'id="paint"' in html
    image = await webapp.client.get(f"/img/{job}/0")
    assert image.status == 200 and image.content_type == "image/png"
    assert await image.read() == webapp.kept[job][0].data


async def test_an_edit_runs_as_the_clicker_and_goes_back_to_the_chat(
    web_factory: Any, gateway: FakeGateway
) -> None:
    webapp: Web = await web_factory()
    job, csrf = await open_edit(webapp, owner=BOB, who=ALICE)  # Alice edits Bob's result
    mask = png(hole=(100, 100, 300, 200))
    answer = await webapp.client.post(
        f"/api/edit/{job}", data=edit_form(mask), headers={"X-CSRF-Token": csrf}
    )
    status = await finish(webapp, answer)
    assert status["state"] == "done" and status["posted"] is True
    assert status["cost"].startswith("$")
    [(identity, result)] = webapp.poster.posted
    assert (identity.user_id, identity.community_id, identity.channel_id) == ("111", "900", "5001")
    assert result.request.identity.user_id == "111"  # charged to the clicker, not to Bob
    [call] = gateway.calls_to("/v1/images/edits")
    assert call.form["prompt"] == "a lighthouse"
    [mask_part] = [f for f in call.files if f.field == "mask"]
    assert (mask_part.width, mask_part.height) == (W, H)
    history = await webapp.service.history(ALICE, limit=5)
    assert history[0].request.get("mask") is True and history[0].user_scope.endswith("111")
    assert await webapp.service.store.check() == []


async def test_when_the_chat_cannot_take_it_the_page_shows_the_result(webapp: Web) -> None:
    webapp.poster.answer = False
    job, csrf = await open_edit(webapp)
    answer = await webapp.client.post(
        f"/api/edit/{job}", data=edit_form(png(hole=(0, 0, 10, 10))), headers={"X-CSRF-Token": csrf}
    )
    status = await finish(webapp, answer)
    assert status["state"] == "done" and status["posted"] is False
    [url] = status["images"]
    image = await webapp.client.get(url)
    assert image.status == 200 and (await image.read())[:8] == b"\x89PNG\r\n\x1a\n"


async def test_bad_masks_are_explained_and_cost_nothing(webapp: Web, gateway: FakeGateway) -> None:
    job, csrf = await open_edit(webapp)
    headers = {"X-CSRF-Token": csrf}
    for i, mask in enumerate([b"not a png at all", png(320, 240, hole=(0, 0, 5, 5))]):
        answer = await webapp.client.post(
            f"/api/edit/{job}", data=edit_form(mask, form=f"bad{i}"), headers=headers
        )
        status = await finish(webapp, answer)
        assert status["state"] == "failed" and status["message"], status
        assert "Traceback" not in status["message"]
    assert gateway.calls_to("/v1/images/edits") == []
    assert webapp.poster.posted == []
    assert await webapp.service.store.check() == []


async def test_missing_fields_and_strange_forms_are_400(webapp: Web) -> None:
    job, csrf = await open_edit(webapp)
    headers = {"X-CSRF-Token": csrf}
    url = f"/api/edit/{job}"
    no_mask = await webapp.client.post(url, data=edit_form(None), headers=headers)
    assert no_mask.status == 400 and "Paint" in (await no_mask.json())["error"]
    no_prompt = await webapp.client.post(url, data=edit_form(png(), prompt=" "), headers=headers)
    assert no_prompt.status == 400
    extra = edit_form(png())
    extra.add_field("evil", "x")
    assert (await webapp.client.post(url, data=extra, headers=headers)).status == 400
    not_multipart = await webapp.client.post(url, json={"prompt": "x"}, headers=headers)
    assert not_multipart.status == 400
    huge_prompt = edit_form(png(), prompt="x" * 70_000)
    assert (await webapp.client.post(url, data=huge_prompt, headers=headers)).status == 413


async def test_the_same_form_twice_is_one_job(webapp: Web, gateway: FakeGateway) -> None:
    job, csrf = await open_edit(webapp)
    headers = {"X-CSRF-Token": csrf}
    mask = png(hole=(10, 10, 50, 50))
    first = await finish(
        webapp, await webapp.client.post(f"/api/edit/{job}", data=edit_form(mask), headers=headers)
    )
    second = await finish(
        webapp, await webapp.client.post(f"/api/edit/{job}", data=edit_form(mask), headers=headers)
    )
    assert first["state"] == "done"
    assert second["state"] == "failed" and "already" in second["message"]
    assert len(gateway.calls_to("/v1/images/edits")) == 1


async def test_a_task_is_only_its_owners(webapp: Web) -> None:
    job, csrf = await open_edit(webapp)
    answer = await webapp.client.post(
        f"/api/edit/{job}", data=edit_form(png(hole=(0, 0, 9, 9))), headers={"X-CSRF-Token": csrf}
    )
    task = (await answer.json())["task"]
    await finish(webapp, answer)
    await webapp.login(BOB)
    assert (await webapp.client.get(f"/api/tasks/{task}")).status == 403
    assert (await webapp.client.get(f"/api/tasks/{task}/0")).status == 403


async def test_my_images_lists_only_my_own_in_this_community(webapp: Web) -> None:
    mine = [await make_job(webapp.service, ALICE, f"mine {i}") for i in range(3)]
    await make_job(webapp.service, BOB, "bob's picture")
    await make_job(webapp.service, MALLORY, "elsewhere")
    webapp.kept[mine[0]] = [KeptImage(png())]
    await webapp.login(ALICE)
    html = await (await webapp.client.get("/gallery")).text()
    assert all(f"mine {i}" in html for i in range(3))
    assert "bob&#39;s picture" not in html and "elsewhere" not in html
    assert f'src="/img/{mine[0]}/0"' in html and f"/edit/{mine[0]}" in html
    assert html.count("not kept any more") == 2


async def test_my_images_pages(webapp: Web) -> None:
    for i in range(14):
        await make_job(webapp.service, ALICE, f"picture number {i:02d}")
    await webapp.login(ALICE)
    first = await (await webapp.client.get("/gallery")).text()
    assert "picture number 13" in first and "picture number 01" not in first
    assert 'href="/gallery?page=2"' in first
    second = await (await webapp.client.get("/gallery?page=2")).text()
    assert "picture number 01" in second and "picture number 13" not in second
    assert 'href="/gallery?page=1"' in second and "page=3" not in second
    for odd in ("0", "-1", "abc", "9" * 30, "%00"):
        assert (await webapp.client.get(f"/gallery?page={odd}")).status == 200


async def test_download_names_the_file(webapp: Web) -> None:
    job, _ = await open_edit(webapp)
    answer = await webapp.client.get(f"/img/{job}/0?download=1")
    assert answer.headers["Content-Disposition"] == f'attachment; filename="pixelsmith-{job}-1.png"'
    assert (await webapp.client.get(f"/img/{job}/1")).status == 404
    assert (await webapp.client.get(f"/img/{job}/999")).status == 403


async def test_redeliver_posts_my_kept_result_again_for_free(
    webapp: Web, gateway: FakeGateway
) -> None:
    job = await make_job(webapp.service, ALICE)
    webapp.kept[job] = [KeptImage(png())]
    calls = len(gateway.calls)
    await webapp.login(ALICE)
    csrf = await webapp.csrf()
    answer = await webapp.client.post(f"/api/redeliver/{job}", headers={"X-CSRF-Token": csrf})
    assert answer.status == 200 and (await answer.json()) == {"ok": True}
    [(identity, result)] = webapp.poster.posted
    assert identity.channel_id == "5001" and result.cost_micros == 0
    assert result.images[0].data == webapp.kept[job][0].data
    assert len(gateway.calls) == calls  # nothing sent upstream, nothing charged
    assert len(await webapp.service.history(ALICE, limit=10)) == 1


async def test_redeliver_refuses_others_results_and_says_when_the_chat_fails(
    webapp: Web,
) -> None:
    bobs = await make_job(webapp.service, BOB)
    mine = await make_job(webapp.service, ALICE)
    unkept = await make_job(webapp.service, ALICE)
    webapp.kept[bobs] = webapp.kept[mine] = [KeptImage(png())]
    await webapp.login(ALICE)
    headers = {"X-CSRF-Token": await webapp.csrf()}
    for job in (bobs, unkept):
        answer = await webapp.client.post(f"/api/redeliver/{job}", headers=headers)
        assert answer.status == 403
    webapp.poster.answer = False
    failed = await webapp.client.post(f"/api/redeliver/{mine}", headers=headers)
    assert failed.status == 502 and (await failed.json())["error"]


async def test_several_images_edit_the_first_and_send_the_others_as_references(
    webapp: Web, gateway: FakeGateway
) -> None:
    job, csrf = await open_edit(webapp)
    webapp.kept[job].append(KeptImage(png(320, 320)))
    html = await (await webapp.client.get(f"/edit/{job}")).text()
    assert f'src="/img/{job}/0"' in html and 'class="references"' in html
    answer = await webapp.client.post(
        f"/api/edit/{job}", data=edit_form(png(hole=(5, 5, 50, 50))), headers={"X-CSRF-Token": csrf}
    )
    assert (await finish(webapp, answer))["state"] == "done"
    [call] = gateway.calls_to("/v1/images/edits")
    images = [f for f in call.files if f.field in ("image", "image[]")]
    assert [(f.width, f.height) for f in images] == [(W, H), (320, 320)]
    [mask] = [f for f in call.files if f.field == "mask"]
    assert (mask.width, mask.height) == (W, H)  # the mask belongs to the first image


async def test_reroll_from_my_images_is_a_new_job_of_mine(
    webapp: Web, gateway: FakeGateway
) -> None:
    job = await make_job(webapp.service, ALICE, "a windmill")
    bobs = await make_job(webapp.service, BOB, "bob's windmill")
    await webapp.login(ALICE)
    html = await (await webapp.client.get("/gallery")).text()
    assert f'class="reroll" data-job="{job}"' in html
    headers = {"X-CSRF-Token": await webapp.csrf(), "X-Form-Id": "click-1"}
    status = await finish(webapp, await webapp.client.post(f"/api/reroll/{job}", headers=headers))
    assert status["state"] == "done" and status["posted"] is True
    [(_, result)] = webapp.poster.posted
    assert result.request.prompt == "a windmill" and result.request.identity.user_id == "111"
    assert result.cost_micros > 0  # a new job, charged to the clicker
    again = await finish(webapp, await webapp.client.post(f"/api/reroll/{job}", headers=headers))
    assert again["state"] == "failed" and "already" in again["message"]
    prompts = [c.json["prompt"] for c in gateway.calls_to("/v1/images/generations")]
    assert prompts.count("a windmill") == 2  # the original and one re-roll, not two
    assert (await webapp.client.post(f"/api/reroll/{bobs}", headers=headers)).status == 403
    no_form = {"X-CSRF-Token": headers["X-CSRF-Token"]}
    assert (await webapp.client.post(f"/api/reroll/{job}", headers=no_form)).status == 400
    assert await webapp.service.store.check() == []


async def test_reroll_of_a_painted_edit_sends_the_same_image_and_mask(
    webapp: Web, gateway: FakeGateway
) -> None:
    """The edit's inputs are kept in the database (any replica finds them): its Re-roll from
    My images is an edit with the same bytes, never a generation."""
    job, csrf = await open_edit(webapp)
    answer = await webapp.client.post(
        f"/api/edit/{job}",
        data=edit_form(png(hole=(10, 10, 90, 90))),
        headers={"X-CSRF-Token": csrf},
    )
    assert (await finish(webapp, answer))["state"] == "done"
    [(_, edited)] = webapp.poster.posted
    headers = {"X-CSRF-Token": csrf, "X-Form-Id": "click-2"}
    url = f"/api/reroll/{edited.public_id}"
    assert (await finish(webapp, await webapp.client.post(url, headers=headers)))["state"] == "done"
    before, after = gateway.calls_to("/v1/images/edits")
    assert [(f.field, f.data) for f in after.files] == [(f.field, f.data) for f in before.files]
    assert after.form["prompt"] == before.form["prompt"] == "a lighthouse"
    assert len(gateway.calls_to("/v1/images/generations")) == 1  # only the original /imagine
