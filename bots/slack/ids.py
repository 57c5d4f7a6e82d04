"""What buttons and modals carry, and how a click finds its job — only inside its workspace.

A result's buttons carry the job's public id (``value``: ``<job>`` or ``<job>:<file ids>``), a
modal carries it in ``private_metadata``; a refusal's buttons carry the typed request itself.
Slack echoes these back, but anyone who can click can also hand-craft a payload, so every value
is parsed strictly here (malformed or oversized: None, "this button is no longer valid") and
every job is looked up for the clicking identity: a job of another workspace is None too.
Nothing a click needs is kept in a process's memory: what is not in the value or the metadata
(an edit's images for its Re-roll) is in the database (``ImageService.keep_inputs``), so any
process behind the load balancer, or one after a restart, answers the click.
Slack's limits: a button ``value`` holds 2000 characters, ``private_metadata`` 3000
(https://api.slack.com/reference/block-kit/block-elements#button,
https://api.slack.com/reference/surfaces/views).
"""

from __future__ import annotations

import json
import re
from dataclasses import fields
from typing import Any

from bots.slack.payload import slack_id
from core.request import Options
from core.service import ImageService
from core.types import Identity, ImageResult, JobView

MAX_VALUE = 2000  # a button's value
MAX_REF = 32  # a public job id
MAX_FILES = 16
_REF = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_OPTION_NAMES = {f.name for f in fields(Options)} - {"force"}


def job_ref(value: Any) -> str | None:
    """A job id as a button or modal carries it, else None."""
    return value if isinstance(value, str) and _REF.match(value) else None


def result_value(ref: str, file_ids: list[str]) -> str:
    """The Edit button's value: the job and the files it showed (dropped if they do not fit)."""
    value = f"{ref}:{','.join(file_ids)}"
    return value if len(value) <= MAX_VALUE else ref


def parse_result_value(value: Any) -> tuple[str, list[str]] | None:
    """(job ref, file ids) from a Re-roll/Edit value, else None."""
    if not isinstance(value, str) or len(value) > MAX_VALUE:
        return None
    ref_part, _, files_part = value.partition(":")
    ref = job_ref(ref_part)
    files = [f for f in files_part.split(",") if f] if files_part else []
    if ref is None or len(files) > MAX_FILES or any(slack_id(f, "F") is None for f in files):
        return None
    return ref, files


def parse_retry_value(value: Any) -> tuple[str, Options, str | None] | None:
    """(prompt, options, suggestion) from a refusal button's JSON value, else None."""
    if not isinstance(value, str) or len(value) > MAX_VALUE:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    prompt, options, suggestion = data.get("p"), data.get("o", {}), data.get("s")
    if not isinstance(prompt, str) or not isinstance(options, dict):
        return None
    if suggestion is not None and not isinstance(suggestion, str):
        return None
    if not set(options) <= _OPTION_NAMES:
        return None
    if not all(_option_ok(k, v) for k, v in options.items()):
        return None
    return prompt, Options(**options), suggestion


def _option_ok(name: str, value: Any) -> bool:
    if name == "n":
        return type(value) is int and 1 <= value <= 10
    return isinstance(value, str) and len(value) <= 64


async def job_for(service: ImageService, caller: Identity, ref: str) -> JobView | None:
    """The job ``ref`` names if ``caller`` may use it (the service checks platform, workspace,
    and for a direct-message job the user); anything else is None."""
    return await service.job_for(caller, ref)


def public_ref(result: ImageResult) -> str:
    """The id a result's buttons carry: the job's public id, never the row id."""
    return result.public_id


def job_view_ref(job: JobView) -> str:
    return job.public_id
