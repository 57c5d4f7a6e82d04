"""Member pages: the mask painter (Edit region) and My images, with their JSON endpoints.

Every handler runs after the session middleware (a valid session, CSRF checked on POST) and
asks :class:`WebBackend` as the session's caller: a job of another community is 403.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from bots.web import texts
from bots.web.backend import BACKEND, POSTERS, KeptImage, post_back
from bots.web.render import page
from bots.web.security import forbidden, grant_of
from core import incidents, messages
from core.errors import DuplicateJob, PixelsmithError
from core.types import ImageResult, JobView

log = logging.getLogger("pixelsmith.web")

PAGE_SIZE = 12
MAX_PAGE = 40  # PAGE_SIZE * MAX_PAGE stays within what the history keeps
MAX_TASKS = 200
TASK_KEEP_S = 1800.0
MASK_MAX_BYTES = 4 * 1024 * 1024
FIELD_MAX_BYTES = 64 * 1024


@dataclass
class Task:
    """An edit started from the painter; its page polls it."""

    owner: tuple[str, str | None]
    started: float = field(default_factory=time.monotonic)
    state: str = "running"  # running | done | failed
    posted: bool = False
    message: str = ""
    cost: str = ""
    images: list[KeptImage] = field(default_factory=list)
    handle: asyncio.Task[None] | None = None


TASKS_KEY = web.AppKey("tasks", dict[str, Task])


def add_routes(app: web.Application) -> None:
    app[TASKS_KEY] = {}
    app.router.add_get("/edit/{job}", edit_page)
    app.router.add_get("/img/{job}/{index}", kept_image)
    app.router.add_post("/api/edit/{job}", start_edit)
    app.router.add_get("/api/tasks/{task}", task_status)
    app.router.add_get("/api/tasks/{task}/{index}", task_image)
    app.router.add_get("/gallery", gallery_page)
    app.router.add_post("/api/redeliver/{job}", redeliver)


def _owner(request: web.Request) -> tuple[str, str | None]:
    identity = grant_of(request).identity()
    return identity.user_scope, identity.community_scope


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
    kept = await backend.kept_images(grant_of(request).identity(), job)
    public_id = backend.public_id(job)
    return page(
        request,
        "edit.html",
        job=job,
        public_id=public_id,
        images=[f"/img/{public_id}/{i}" for i in range(len(kept))],
        sketch=False,
        form_id=secrets.token_urlsafe(16),
    )


async def kept_image(request: web.Request) -> web.StreamResponse:
    job, index = await _job(request), _index(request)
    if job is None or index is None:
        return forbidden(request)
    kept = await request.app[BACKEND].kept_images(grant_of(request).identity(), job)
    if index >= len(kept):
        raise web.HTTPNotFound()
    response = web.Response(body=kept[index].data, content_type=kept[index].mime)
    if "download" in request.query:
        ext = kept[index].mime.rpartition("/")[2] or "png"
        name = f"pixelsmith-{request.match_info['job']}-{index + 1}.{ext}"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


async def _read_edit_form(request: web.Request) -> dict[str, bytes]:
    """prompt, form, mode (small text fields) and mask (a PNG up to 4 MB), nothing else."""
    limits = {"prompt": FIELD_MAX_BYTES, "form": 200, "mode": 20, "mask": MASK_MAX_BYTES}
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
    except web.HTTPRequestEntityTooLarge:
        return _error(request, "web.error.too_large", 413)
    except (web.HTTPBadRequest, UnicodeDecodeError, ValueError):
        return _error(request, "web.error.bad_request")
    if not prompt:
        return _error(request, "web.edit.need_prompt")
    if not form.get("mask") or not form_id or len(form_id) > 64:
        return _error(request, "web.edit.need_paint")
    backend = request.app[BACKEND]
    sources = await backend.kept_images(caller, job)
    if not sources:
        return _error(request, "web.edit.no_source", 409)
    tasks = request.app[TASKS_KEY]
    _prune(tasks)
    task_id = secrets.token_urlsafe(16)
    task = Task(owner=_owner(request))
    tasks[task_id] = task
    idem_key = f"web:edit:{caller.platform}:{caller.community_id}:{caller.user_id}:{form_id}"
    work = _edit(request.app, task, job, form["mask"], prompt, sources, idem_key, caller)
    task.handle = asyncio.create_task(work, name="pixelsmith-web-edit")
    return web.json_response({"task": task_id}, status=202)


async def _edit(
    app: web.Application,
    task: Task,
    job: JobView,
    mask: bytes,
    prompt: str,
    sources: list[KeptImage],
    idem_key: str,
    caller: Any,
) -> None:
    locale = caller.locale
    try:
        result: ImageResult = await app[BACKEND].run_edit(
            caller, job, prompt=prompt, sources=sources, mask=mask, idem_key=idem_key
        )
    except DuplicateJob:
        task.state, task.message = "failed", texts.text("web.error.duplicate", locale)
        return
    except PixelsmithError as exc:
        task.state, task.message = "failed", messages.render(exc, locale)
        return
    except Exception as exc:
        task.state, task.message = "failed", incidents.incident_text(exc, locale, "a web edit")
        return
    task.cost = f"${result.cost_usd:.4f}"
    task.posted = await post_back(app[POSTERS], caller, result)
    if not task.posted:
        task.images = [KeptImage(i.data, i.mime) for i in result.images]
    task.state = "done"


def _prune(tasks: dict[str, Task]) -> None:
    now = time.monotonic()
    for key, task in list(tasks.items()):
        if task.state != "running" and now - task.started > TASK_KEEP_S:
            del tasks[key]
    while len(tasks) >= MAX_TASKS:
        del tasks[next(iter(tasks))]


def _task(request: web.Request) -> Task | None:
    task = request.app[TASKS_KEY].get(request.match_info["task"])
    return task if task is not None and task.owner == _owner(request) else None


async def task_status(request: web.Request) -> web.Response:
    task = _task(request)
    if task is None:
        return forbidden(request)
    base = request.path
    return web.json_response(
        {
            "state": task.state,
            "posted": task.posted,
            "message": task.message,
            "cost": task.cost,
            "images": [f"{base}/{i}" for i in range(len(task.images))],
        }
    )


async def task_image(request: web.Request) -> web.Response:
    task, index = _task(request), _index(request)
    if task is None or index is None:
        return forbidden(request)
    if index >= len(task.images):
        raise web.HTTPNotFound()
    return web.Response(body=task.images[index].data, content_type=task.images[index].mime)


async def gallery_page(request: web.Request) -> web.Response:
    raw = request.query.get("page", "1")
    number = int(raw) if raw.isdigit() and len(raw) <= 3 else 1
    number = min(max(number, 1), MAX_PAGE)
    backend = request.app[BACKEND]
    caller = grant_of(request).identity()
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
