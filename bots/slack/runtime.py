"""What every Slack listener shares: the service, the Web API client, identities, replies.

One :class:`SlackBot` per adapter. Listeners are plain functions that take it; they translate
Slack payloads into core calls and core answers into Slack messages, nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.channels import Channels
from bots.slack.installs import SqlInstallationStore
from bots.slack.language import LocaleFuture, UserLanguages
from bots.slack.mrkdwn import escape, mention, slack_time
from bots.slack.pacing import Recent, edit_budget
from bots.slack.payload import Origin, origin
from bots.slack.tenant import acting, acting_for
from core import incidents, messages
from core.config import Settings
from core.errors import DuplicateJob, PixelsmithError
from core.preferences import Preferences
from core.service import ImageService
from core.types import Identity

# Imported from here before the helpers moved to bots.slack.mrkdwn and bots.slack.language.
__all__ = ["PREFS_WAIT_S", "LocaleFuture", "SlackBot", "escape", "mention", "slack_time"]

log = logging.getLogger("pixelsmith.slack")

PREFS_WAIT_S = 1.0  # the longest a job waits for the member's settings


class SlackBot:
    """Shared state of one Slack adapter."""

    def __init__(self, service: ImageService, settings: Settings, client: AsyncWebClient) -> None:
        self.service = service
        self.settings = settings
        self.client = client
        self._bot_user_id: str | None = None
        #: slack.distribution = "oauth": every workspace's install (None: one bot token)
        self.installs: SqlInstallationStore | None = None
        #: the communities served, as last read (health reports it; refreshed by the adapter)
        self.communities: list[str] = []
        self.http: aiohttp.ClientSession | None = None
        self.seen = Recent()
        self.progress_interval_s = 1.0
        self.first_progress_s = 0.5
        self.edits = edit_budget()
        self.channels = Channels(client)
        self.delivery_backoff_s: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)  # about 15 s in all
        self.languages = UserLanguages(client)
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- which install -------------------------------------------------------------------------

    @property
    def bot_user_id(self) -> str | None:
        """The bot's user id in the acting workspace (each install has its own)."""
        current = acting()
        if current is not None and current.bot_user_id:
            return current.bot_user_id
        return self._bot_user_id

    @bot_user_id.setter
    def bot_user_id(self, value: str | None) -> None:
        self._bot_user_id = value

    def acting_for(self, community: str | None) -> AbstractAsyncContextManager[bool]:
        """Calls inside act for ``community``'s install (OAuth distribution); yields False when
        it has none (uninstalled): the caller does not reach it. Single mode: always True."""
        return acting_for(self.installs, community)

    # -- who asks ------------------------------------------------------------------------------

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.settings.slack.admin_users

    async def locale(self, user_id: str) -> str:
        """The user's language from users.info (cached); English when Slack does not say."""
        return await self.languages.get(user_id)

    def cached_locale(self, user_id: str) -> str | None:
        """The user's language if it is known without asking Slack."""
        return self.languages.cached(user_id)

    def locale_soon(self, user_id: str) -> LocaleFuture:
        """The user's language without waiting: a cache miss starts users.info in the background."""
        return self.languages.soon(user_id)

    def _identity(
        self,
        user_id: str,
        team_id: str | None,
        channel_id: str | None,
        locale: str,
        org_id: str | None,
    ) -> Identity:
        return Identity(
            platform="slack",
            user_id=user_id,
            community_id=team_id,
            locale=locale,
            display_name=mention(user_id),
            is_admin=self.is_admin(user_id),
            channel_id=channel_id,
            org_id=org_id,
        )

    async def identity(
        self,
        user_id: str,
        team_id: str | None,
        channel_id: str | None,
        *,
        org_id: str | None = None,
    ) -> Identity:
        """``user_id`` in workspace ``team_id`` of Grid org ``org_id`` (the community, where
        there is one: :attr:`core.types.Identity.tenant_id`)."""
        return self._identity(user_id, team_id, channel_id, await self.locale(user_id), org_id)

    async def identity_of(self, where: Origin) -> Identity:
        """The identity of a payload's sender (``where.user`` must be known)."""
        assert where.user is not None
        return await self.identity(where.user, where.team, where.channel, org_id=where.enterprise)

    def identity_soon(
        self,
        user_id: str,
        team_id: str | None,
        channel_id: str | None,
        *,
        org_id: str | None = None,
    ) -> tuple[Identity, LocaleFuture]:
        """An identity with the provisional language, and the language to render texts in."""
        locale = self.locale_soon(user_id)
        identity = self._identity(user_id, team_id, channel_id, locale.provisional, org_id)
        return identity, locale

    async def member(
        self, identity: Identity, locale: LocaleFuture | None = None
    ) -> tuple[Identity, LocaleFuture, Preferences]:
        """The member's /imagine-settings for ``identity``, and ``identity`` and the language
        to render in with their language setting applied. A local database read, bounded by
        :data:`PREFS_WAIT_S`: a slow or failing lookup means the defaults, never a lost job."""
        try:
            prefs = await asyncio.wait_for(self.service.preferences(identity), PREFS_WAIT_S)
        except Exception as exc:
            log.warning("preferences lookup failed (%s); using the defaults", type(exc).__name__)
            prefs = Preferences()
        if prefs.language:
            identity = replace(identity, locale=prefs.language)
            return identity, LocaleFuture(prefs.language), prefs
        return identity, locale or LocaleFuture(identity.locale), prefs

    # -- tasks ----------------------------------------------------------------------------------

    def track(self) -> None:
        """Count the running listener task as a job, so a graceful stop waits for it."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def drain(self, grace_s: float) -> int:
        """Wait up to ``grace_s`` for tracked jobs (uploads included); returns how many remain."""
        pending = [t for t in self._tasks if not t.done() and t is not asyncio.current_task()]
        if pending:
            await asyncio.wait(pending, timeout=grace_s)
        return sum(1 for t in pending if not t.done())

    async def run(self, body: dict[str, Any], work: Awaitable[Any]) -> None:
        """Run a listener's work after its ack: tracked for shutdown, every failure answered.

        Failures are caught here rather than left to Bolt's error handler: Bolt resets the ack
        when a listener raises, which would turn a fast failure into a 3 s wait and a 404.
        A listener only runs for a request Bolt verified (or a Socket Mode envelope), so its
        body may be answered.
        """
        self.track()
        try:
            await work
        except Exception as error:
            await self.reply_error(error, body, trusted=True)

    async def reply_error(self, error: Exception, body: dict[str, Any], *, trusted: bool) -> None:
        """Every failure of a ``trusted`` request replies (ephemeral, in the user's language);
        the log gets the detail. An untrusted body (its signature was not verified) names ids
        anyone could have written: it gets no reply and no lookup."""
        if isinstance(error, DuplicateJob):
            return
        if isinstance(error, PixelsmithError):
            log.info("request failed: %r", error)
        else:
            incident = incidents.report(error, "a Slack listener")
            error = PixelsmithError("error.incident", incident=incident)
        where = origin(body)
        if not trusted or not where.user:
            return
        try:
            identity = await self.identity_of(where)
            await self.tell_failure(error, identity, where.channel)
        except Exception:  # the reply itself failed: nothing more to try
            log.exception("could not tell the user about a failure")

    async def incomplete(self, where: Origin, what: str) -> None:
        """A payload without what its listener needs: a warning line, and a word to its user
        when there is one to tell. Nothing runs, nothing is charged."""
        log.warning(
            "ignored an incomplete Slack %s (user=%s, channel=%s)",
            what,
            bool(where.user),
            bool(where.channel),
        )
        if where.user is not None:
            locale = self.cached_locale(where.user) or "en"
            text = messages.text("slack.incomplete", locale)
            await self.ephemeral(where.channel, where.user, text)

    # -- replies --------------------------------------------------------------------------------

    async def ephemeral(
        self,
        channel: str | None,
        user_id: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> bool:
        """Tell one user something; falls back to a direct message when the channel refuses."""
        if channel:
            try:
                await self.client.chat_postEphemeral(
                    channel=channel, user=user_id, text=text, blocks=blocks, thread_ts=thread_ts
                )
                return True
            except SlackApiError as exc:
                log.warning("chat.postEphemeral failed: %s", exc.response.get("error"))
        try:
            await self.client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
            return True
        except SlackApiError as exc:
            log.warning("could not reach user by direct message: %s", exc.response.get("error"))
            return False

    def render(self, failure: PixelsmithError, identity: Identity) -> str:
        return messages.render(
            failure, identity.locale, admin=identity.is_admin, time_format=slack_time
        )

    async def tell_failure(
        self,
        failure: PixelsmithError,
        identity: Identity,
        channel: str | None,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> None:
        text = self.render(failure, identity)
        await self.ephemeral(channel, identity.user_id, text, blocks, thread_ts)

    async def delete(self, channel: str, ts: str) -> None:
        with contextlib.suppress(SlackApiError):
            await self.client.chat_delete(channel=channel, ts=ts)
