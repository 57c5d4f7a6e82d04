"""Which workspace a Slack call acts for: one Web API client, the acting install's token.

Listeners and the jobs they start call ``bot.client`` wherever they are. With
``slack.distribution = "oauth"`` every workspace has its own bot token, so the client's token is
the one of the install the current request was authorized for (Bolt's authorize, then
:func:`act_as` in a middleware): a context variable, which the tasks a listener starts inherit.
Work that starts outside a request (a reaper notice, a web edit's result) enters the install
of its community with :meth:`bots.slack.runtime.SlackBot.acting_for`. A callback core calls from
its own task (the queue announcing a position) starts its work in the context it was made in
(``ProgressMessage``, ``LocaleFuture``), not in its caller's. In single mode nothing
is set and the configured bot token is used, as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextvars import ContextVar, Token
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.installs import SqlInstallationStore


@dataclass(frozen=True)
class Acting:
    """The install a call acts for (its token never leaves this object's use by the client)."""

    token: str
    bot_user_id: str | None
    community: str | None

    def __repr__(self) -> str:  # never the token
        return f"Acting(community={self.community!r})"


ACTING: ContextVar[Acting | None] = ContextVar("pixelsmith_slack_acting", default=None)


def act_as(acting: Acting) -> Token[Acting | None]:
    return ACTING.set(acting)


def acting() -> Acting | None:
    return ACTING.get()


@contextlib.asynccontextmanager
async def acting_for(
    installs: SqlInstallationStore | None, community: str | None
) -> AsyncIterator[bool]:
    """Act for ``community``'s install inside; yields False when it has none (single mode:
    ``installs`` is None, always True with the configured token)."""
    if installs is None:
        yield True
        return
    found = await installs.for_community(community) if community else None
    if found is None:
        yield False
        return
    details, tokens = found
    token = act_as(Acting(tokens["bot_token"], details.get("bot_user_id"), community))
    try:
        yield True
    finally:
        ACTING.reset(token)


class TenantClient(AsyncWebClient):
    """An ``AsyncWebClient`` whose token is the acting install's, else the configured one."""

    _fallback: str | None = None

    @property
    def token(self) -> str | None:
        current = ACTING.get()
        return current.token if current is not None else self._fallback

    @token.setter
    def token(self, value: str | None) -> None:
        self._fallback = value
