"""Reading what a page's script posts: a small JSON object of short strings, or nothing.

Anything else (another content type, more than :data:`MAX_JSON_BYTES`, not JSON, not an object
of strings, a value over 200 characters) is ``None``, which every caller answers with a 400 and
the "bad request" sentence before acting on anything.
"""

from __future__ import annotations

import json

from aiohttp import web

MAX_JSON_BYTES = 4096
MAX_VALUE_CHARS = 200


async def json_object(request: web.Request) -> dict[str, str] | None:
    if request.content_type != "application/json":
        return None
    raw = await request.content.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(v) <= MAX_VALUE_CHARS
        for k, v in data.items()
    ):
        return None
    return data
