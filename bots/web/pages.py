"""Member pages: the mask painter (Edit region, with Sketch for models that take a ``markup``
input) and My images, with their JSON endpoints.

Every handler runs after the session middleware (a valid session, CSRF checked on POST) and
asks :class:`WebBackend` as the session's caller: a job of another community is 403.
"""

from __future__ import annotations

import logging
import secrets

from aiohttp import BodyPartReader, web

from bots.web import settings, tasks, texts
from bots.web.backend import BACKEND, POSTERS, post_back
from bots.web.render import page
from bots.web.security import forbidden, grant_of
from core import messages
from core.errors import InvalidRequest
from core.types import ImageResult, JobView

log = logging.getLogger("pixelsmith.web")

PAGE_SIZE = 12
MAX_PAGE = 40  # PAGE_SIZE * MAX_PAGE stays within what the history keeps
MASK_MAX_BYTES = 4 * 1024 * 1024
FIELD_MAX_BYTES = 64 * 1024


def add_routes(app: web.Application) -> None:
    tasks.add_routes(app)
    settings.add_routes(app)
    app.router.add_get("/edit/{job}", edit_page)
    app.router.add_get("/img/{job}/{index}", kept_image)
    app.router.add_post("/api/edit/{job}", start_edit)
    app.router.add_get("/gallery", gallery_page)
    app.router.add_post("/api/redeliver/{job}", redeliver)
    app.router.add_post("/api/reroll/{job}", reroll)


async def _job(request: web.Request) -> JobView | None:
    return await request.app[BACKEND].job(grant_of(request).identity(), request.match_info["job"])


def _index(request: web.Request) -> int | None:
    raw = request.match_info["index"]
    return int(raw) if raw.isdigit() and len(raw) <= 2 else None


async def edit_page(request: web.Request) -> web.Response:
    job = await _job(request)
    if job is None:
        return forbidden(request)
    backend = request.app[BACKEND]
    kept = await backend.kept_images(grant_of(request).identity(), job, shared=True)
    public_id = backend.public_id(job)
    return page(
        request,
        "edit.html",
        job=job,
        public_id=public_id,
        images=[f"/img/{public_id}/{i}" for i in range(len(kept))],
        sketch=backend.takes_markup(job),
        form_id=secrets.token_urlsafe(16),
    )


async def kept_image(request: web.Request) -> web.StreamResponse:
    job, index = await _job(request), _index(request)
    if job is None or index is None:
        return forbidden(request)
    caller = grant_of(request).identity()
    kept = await request.app[BACKEND].kept_images(caller, job, shared=True)
    if index >= len(kept):
        raise web.HTTPNotFound()
    response = web.Response(body=kept[index].data, content_type=kept[index].mime)
    if "download" in request.query:
        ext = kept[index].mime.rpartition("/")[2] or "png"
        name = f"pixelsmith-{request.match_info['job']}-{index + 1}.{ext}"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


async def _read_edit_form(request: web.Request) -> dict[str, bytes]:
    """prompt, form, mode (small text fields) and mask or markup (a PNG up to 4 MB), nothing
    else."""
    limits = {
        "prompt": FIELD_MAX_BYTES,
        "form": 200,
        "mode": 20,
        "mask": MASK_MAX_BYTES,
        "markup": MASK_MAX_BYTES,
    }
    if not request.content_type.startswith("multipart/"):
        raise web.HTTPBadRequest()
    reader = await request.multipart()
    fields: dict[str, bytes] = {}
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name not in limits or part.name in fields:
            raise web.HTTPBadRequest()
        data = bytearray()
        while chunk := await part.read_chunk(65536):
            data += chunk
            if len(data) > limits[part.name]:
                raise web.HTTPRequestEntityTooLarge(MASK_MAX_BYTES, len(data))
        fields[part.name] = bytes(data)
    return fields


def _error(request: web.Request, key: str, status: int = 400) -> web.Response:
    locale = grant_of(request).locale
    return web.json_response({"error": texts.text(key, locale)}, status=status)


async def start_edit(request: web.Request) -> web.Response:
    job = await _job(request)
    if job is None:
        return forbidden(request)
    caller = grant_of(request).identity()
    try:
        form = await _read_edit_form(request)
        prompt = form.get("prompt", b"").decode("utf-8").strip()
        form_id = form.get("form", b"").decode("ascii")
        mode = form.get("mode", b"mask").decode("ascii")
    except web.HTTPRequestEntityTooLarge:
        return _error(request, "web.error.too_large", 413)
    except (web.HTTPBadRequest, UnicodeDecodeError, ValueError):
        return _error(request, "web.error.bad_request")
    # Mask: the painted area changes. Sketch (models with a markup input): the strokes are drawn
    # over the first image to guide the edit. One or the other, never both (the SDK's rule).
    drawn = "markup" if mode == "sketch" else "mask"
    if mode not in ("mask", "sketch") or ("mask" in form and "markup" in form):
        return _error(request, "web.error.bad_request")
    if not prompt:
        return _error(request, "web.edit.need_prompt")
    if not form.get(drawn) or not form_id or len(form_id) > 64:
        return _error(request, "web.edit.need_paint")
    backend = request.app[BACKEND]
    if drawn == "markup" and not backend.takes_markup(job):
        error = messages.render(
            InvalidRequest("invalid.markup_unsupported", model=job.model), caller.locale
        )
        return web.json_response({"error": error}, status=400)
    sources = await backend.kept_images(caller, job, shared=True)
    if not sources:
        return _error(request, "web.edit.no_source", 409)
    idem_key = f"web:edit:{caller.platform}:{caller.tenant_id}:{caller.user_id}:{form_id}"
    mask, markup = form.get("mask"), form.get("markup")

    async def work() -> ImageResult:
        return await backend.run_edit(
            caller,
            job,
            prompt=prompt,
            sources=sources,
            mask=mask if drawn == "mask" else None,
            markup=markup if drawn == "markup" else None,
            idem_key=idem_key,
        )

    return tasks.start(request, caller, work)


async def gallery_page(request: web.Request) -> web.Response:
    raw = request.query.get("page", "1")
    number = int(raw) if raw.isdigit() and len(raw) <= 3 else 1
    number = min(max(number, 1), MAX_PAGE)
    backend = request.app[BACKEND]
    grant = grant_of(request)
    caller = grant.identity()
    form = settings.fields(
        await backend.preferences(caller),
        backend.preference_choices(),
        caller.platform,
        grant.locale,
    )
    jobs = await backend.my_jobs(caller, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    items = []
    for job in jobs[:PAGE_SIZE]:
        kept = await backend.kept_images(caller, job)
        items.append({"job": job, "id": backend.public_id(job), "kept": len(kept)})
    return page(
        request,
        "gallery.html",
        items=items,
        page_number=number,
        newer=number - 1 if number > 1 else None,
        older=number + 1 if len(jobs) > PAGE_SIZE and number < MAX_PAGE else None,
        settings=form,
    )


async def redeliver(request: web.Request) -> web.Response:
    """Post one of the caller's own kept results into the chat the session came from, free."""
    job = await _job(request)
    if job is None:
        return forbidden(request)
    caller = grant_of(request).identity()
    result = await request.app[BACKEND].kept_result(caller, job)
    if result is None:
        return forbidden(request)
    if not await post_back(request.app[POSTERS], caller, result):
        return _error(request, "web.gallery.redeliver_failed", 502)
    return web.json_response({"ok": True})


async def reroll(request: web.Request) -> web.Response:
    """The same request again as a new job of the caller (charged to the caller), from My images."""
    job = await _job(request)
    caller = grant_of(request).identity()
    backend = request.app[BACKEND]
    if job is None or not backend.is_mine(caller, job):
        return forbidden(request)
    form_id = request.headers.get("X-Form-Id", "")
    if not form_id or len(form_id) > 64 or not form_id.isascii():
        return _error(request, "web.error.bad_request")
    key = f"web:reroll:{caller.platform}:{caller.tenant_id}:{caller.user_id}:{form_id}"

    async def work() -> ImageResult:
        # an edit sends its kept images, mask and sketch again (or says they are gone)
        return await backend.service.run(await backend.service.reroll(job, caller, idem_key=key))

    return tasks.start(request, caller, work)
