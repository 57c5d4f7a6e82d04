"""Jobs started from a page (an edit from the painter, a re-roll from My images) run in the
background; the page polls ``/api/tasks/<id>``. A task belongs to the session's member: anyone
else gets 403. The result is posted back into the chat the link came from; if that is not
possible the page shows it (kept here for half an hour)."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from bots.web import texts
from bots.web.backend import POSTERS, KeptImage, post_back
from bots.web.security import forbidden, grant_of
from core import incidents, messages
from core.errors import DuplicateJob, PixelsmithError
from core.types import Identity, ImageResult

log = logging.getLogger("pixelsmith.web")

MAX_TASKS = 200
TASK_KEEP_S = 1800.0

Work = Callable[[], Awaitable[ImageResult]]


@dataclass
class Task:
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
    app.router.add_get("/api/tasks/{task}", task_status)
    app.router.add_get("/api/tasks/{task}/{index}", task_image)


def owner_of(caller: Identity) -> tuple[str, str | None]:
    return caller.user_scope, caller.community_scope


def start(request: web.Request, caller: Identity, work: Work) -> web.Response:
    """Run ``work`` (one service job as ``caller``) in the background; 202 with the task id."""
    tasks = request.app[TASKS_KEY]
    _prune(tasks)
    task_id = secrets.token_urlsafe(16)
    task = Task(owner=owner_of(caller))
    tasks[task_id] = task
    task.handle = asyncio.create_task(
        _run(request.app, task, caller, work), name="pixelsmith-web-job"
    )
    return web.json_response({"task": task_id}, status=202)


async def _run(app: web.Application, task: Task, caller: Identity, work: Work) -> None:
    locale = caller.locale
    try:
        result = await work()
    except DuplicateJob:
        task.state, task.message = "failed", texts.text("web.error.duplicate", locale)
        return
    except PixelsmithError as exc:
        task.state, task.message = "failed", messages.render(exc, locale)
        return
    except Exception as exc:
        task.state, task.message = "failed", incidents.incident_text(exc, locale, "a web job")
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
    mine = owner_of(grant_of(request).identity())
    return task if task is not None and task.owner == mine else None


async def task_status(request: web.Request) -> web.Response:
    task = _task(request)
    if task is None:
        return forbidden(request)
    return web.json_response(
        {
            "state": task.state,
            "posted": task.posted,
            "message": task.message,
            "cost": task.cost,
            "images": [f"{request.path}/{i}" for i in range(len(task.images))],
        }
    )


async def task_image(request: web.Request) -> web.Response:
    task, raw = _task(request), request.match_info["index"]
    if task is None or not (raw.isdigit() and len(raw) <= 2):
        return forbidden(request)
    if int(raw) >= len(task.images):
        raise web.HTTPNotFound()
    image = task.images[int(raw)]
    return web.Response(body=image.data, content_type=image.mime)
