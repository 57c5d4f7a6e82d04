"""What the chat adapters (Discord, Slack) say alike about a community's own gateway key:
``key set`` (a form), ``show``, ``test``, ``remove``; each adapter only opens its own form and
passes its own way of showing a time. Every call goes through the service with the caller's
identity, so an admin acts on its own community's key only; no sentence ever holds a key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from core import messages
from core.service import ImageService
from core.types import Identity

KEY_FIELD = "key"
URL_FIELD = "base_url"
KEY_MIN, KEY_MAX = 16, 300  # the bounds core.keys accepts
URL_MAX = 500
ACTIONS = ("set", "show", "test", "remove")


async def saved(service: ImageService, me: Identity, key: str, base_url: str | None) -> str:
    """Store what the form carried; the sentence with the fingerprint (never the key)."""
    shown = await service.admin_set_key(me, key, base_url or None)
    info = await service.admin_key(me)
    url = (info.base_url if info else None) or service.settings.provider.base_url
    return messages.text("chat.key.saved", me.locale, fingerprint=shown, base_url=url)


async def show(service: ImageService, me: Identity, when: Callable[[datetime], str]) -> str:
    info = await service.admin_key(me)
    if info is None:
        return messages.text("chat.key.operator", me.locale)
    if info.fingerprint is None:
        return messages.text("chat.key.stopped", me.locale)
    check = (
        messages.text("chat.key.tested", me.locale, outcome=info.check)
        if info.check
        else messages.text("chat.key.never_tested", me.locale)
    )
    return messages.text(
        "chat.key.own",
        me.locale,
        fingerprint=info.fingerprint,
        base_url=info.base_url or service.settings.provider.base_url,
        set_by=info.set_by,
        set_at=when(info.set_at),
        check=check,
    )


async def test(service: ImageService, me: Identity) -> str:
    outcome = await service.test_key(me)
    return messages.text("chat.key.tested", me.locale, outcome=outcome)


async def remove(service: ImageService, me: Identity) -> str:
    outcome = await service.admin_remove_key(me)
    return messages.text(f"chat.key.removed_{outcome}", me.locale)
