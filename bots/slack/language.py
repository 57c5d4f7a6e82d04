"""A Slack user's language: :class:`UserLanguages` asks users.info once per user (cached, one
call in flight shared by concurrent askers, English when Slack does not say or does not answer),
and :class:`LocaleFuture` is one job's language, provisional until that answer arrives."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from dataclasses import replace

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core import messages
from core.types import ImageRequest

log = logging.getLogger("pixelsmith.slack")


class LocaleFuture:
    """A user's language for one job: ``provisional`` now (cached, else English), the answer of
    users.info once it arrives. The job is claimed with the provisional one; the lookup starts
    once the job is under way (:meth:`start`, the first progress event), and every text the
    user sees awaits :meth:`get`, so a lookup never delays a job's claim.

    The lookup starts in the context this was made in (the request's: its workspace's token,
    :mod:`bots.slack.tenant`), wherever :meth:`start` is called from: the first progress event
    may be a queue position, which the queue's own task announces."""

    def __init__(
        self, provisional: str, lookup: Callable[[], asyncio.Future[str]] | None = None
    ) -> None:
        self.provisional = provisional
        self._ask = lookup
        self._lookup: asyncio.Future[str] | None = None
        self._context = contextvars.copy_context()

    def start(self) -> None:
        if self._ask is not None and self._lookup is None:
            self._lookup = self._context.run(self._ask)

    async def get(self) -> str:
        self.start()
        if self._lookup is None:
            return self.provisional
        return await asyncio.shield(self._lookup)  # a cancelled job leaves the lookup alone

    async def apply(self, request: ImageRequest) -> ImageRequest:
        """``request`` with the resolved language, for rendering."""
        locale = await self.get()
        if locale == request.identity.locale:
            return request
        return replace(request, identity=replace(request.identity, locale=locale))


class UserLanguages:
    """Users' languages from users.info, cached for the adapter's life."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._locales: dict[str, str] = {}
        self._lookups: dict[str, asyncio.Task[str]] = {}

    async def get(self, user_id: str) -> str:
        """The user's language from users.info (cached); English when Slack does not say."""
        cached = self._locales.get(user_id)
        if cached is not None:
            return cached
        return await asyncio.shield(self._lookup(user_id))

    def cached(self, user_id: str) -> str | None:
        """The user's language if it is known without asking Slack."""
        return self._locales.get(user_id)

    def soon(self, user_id: str) -> LocaleFuture:
        """The user's language without waiting: a cache miss starts users.info in the background."""
        cached = self._locales.get(user_id)
        if cached is not None:
            return LocaleFuture(cached)
        return LocaleFuture("en", lambda: self._lookup(user_id))

    def _lookup(self, user_id: str) -> asyncio.Task[str]:
        """The one users.info call in flight for ``user_id`` (concurrent askers share it)."""
        task = self._lookups.get(user_id)
        if task is None:
            task = asyncio.create_task(self._ask_locale(user_id), name="slack-users-info")
            self._lookups[user_id] = task
            task.add_done_callback(lambda _: self._lookups.pop(user_id, None))
        return task

    async def _ask_locale(self, user_id: str) -> str:
        try:
            answer = await self.client.users_info(user=user_id, include_locale=True)
            locale = messages.lang(str(answer["user"].get("locale") or "en"))
        except SlackApiError as exc:
            log.info("users.info failed (%s); using English", exc.response.get("error"))
            locale = "en"
        except Exception:  # a network failure: English for now, ask again next time
            log.warning("users.info failed; using English", exc_info=True)
            return "en"
        self._locales[user_id] = locale
        return locale
