"""Where the bot can post: checked before a job is paid for.

A result is a file upload, and ``files.completeUploadExternal`` needs the bot to be a member of
the channel (``chat:write.public`` lets a bot post text to a public channel it has not joined,
not share files there), so membership is read from ``conversations.info`` (``is_member``, or
``is_im`` for the app's own direct messages; scopes channels:read, groups:read, im:read,
mpim:read — https://api.slack.com/methods/conversations.info). A channel the bot is not in gets
"invite me" and no job; when Slack does not say (a missing scope, a rate limit, a network
failure) the job goes on and delivery reports what happens.
"""

from __future__ import annotations

import logging
import time

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.payload import obj

log = logging.getLogger("pixelsmith.slack")

MEMBER_TTL_S = 300.0
UNKNOWN_MEMBERSHIP = frozenset({"missing_scope", "ratelimited", "internal_error", "fatal_error"})


class Channels:
    """Where the bot may post, as Slack last said (a yes is remembered a few minutes)."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._members: dict[str, float] = {}

    async def can_post(self, channel: str) -> bool | None:
        """True/False as Slack says; None when it does not say (the job then goes on)."""
        if self._members.get(channel, 0.0) > time.monotonic():
            return True
        try:
            answer = await self._client.conversations_info(channel=channel)
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            log.info("conversations.info for a job's channel failed: %s", error)
            return None if error in UNKNOWN_MEMBERSHIP else False
        except (aiohttp.ClientError, TimeoutError, SlackRequestError):
            log.info("conversations.info failed; going on", exc_info=True)
            return None
        info = obj(answer.get("channel"))
        member = info.get("is_im") is True or info.get("is_member") is True
        if member:
            self._members[channel] = time.monotonic() + MEMBER_TTL_S
        return member

    def forget(self, channel: str) -> None:
        self._members.pop(channel, None)
