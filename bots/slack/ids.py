"""What buttons and modals carry, and how a click finds its job — only inside its workspace.

A result's buttons carry the job's public id (``value``: ``<job>`` or ``<job>:<file ids>``), a
modal carries it in ``private_metadata``; a refusal's buttons carry the token of the refused
request, which waits in the database (``ImageService.remember_request``: its prompt, options and
images, for :data:`REFUSAL_TTL_S`, found only for the member it refused in their workspace).
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

import re
from typing import Any

from bots.slack.payload import slack_id
from core.service import ImageService
from core.types import Identity, ImageResult, JobView

MAX_VALUE = 2000  # a button's value
MAX_REF = 32  # a public job id
MAX_FILES = 16
_REF = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_TOKEN = re.compile(r"[0-9a-f]{32}")
REFUSAL_KIND = "slack_refusal"  # the interaction state a refusal's buttons name
REFUSAL_TTL_S = 3600.0


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


def refusal_token(value: Any) -> str | None:
    """The token a refusal button carries (16 random bytes as hex), else None."""
    return value if isinstance(value, str) and _TOKEN.fullmatch(value) else None


async def job_for(service: ImageService, caller: Identity, ref: str) -> JobView | None:
    """The job ``ref`` names if ``caller`` may use it (the service checks platform, workspace,
    and for a direct-message job the user); anything else is None."""
    return await service.job_for(caller, ref)


def public_ref(result: ImageResult) -> str:
    """The id a result's buttons carry: the job's public id, never the row id."""
    return result.public_id


def job_view_ref(job: JobView) -> str:
    return job.public_id
