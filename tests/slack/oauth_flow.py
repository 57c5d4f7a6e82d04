"""Driving Slack's OAuth install as a browser does, against FakeSlack and an HTTP-mode adapter:
``GET /slack/install`` (state cookie, redirect to Slack), Slack's authorize page (the fake
approves for the chosen workspace), ``GET /slack/oauth_redirect`` with the code and state.
tests/scale/ may use it too."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from tests.fakes.slack import FakeSlack
from tests.fakes.slack_requests import FORM, SlackPayload, block_actions, slash_command

SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnop"
OTHER_KEY = "another-secret-key-0123456789abcdefghijklm"


def oauth_sections(fake: FakeSlack, secret_key: str = SECRET_KEY, **slack: Any) -> dict[str, Any]:
    """Settings sections for slack.distribution = "oauth" against ``fake`` (no bot token)."""
    return {
        "slack": {
            "distribution": "oauth",
            "bot_token": None,
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            **slack,
        },
        "web": {"secret_key": secret_key},
    }


def redirect_url(port: int | None) -> str:
    return f"http://127.0.0.1:{port}/slack/oauth_redirect"


@dataclass
class Redirect:
    """Where Slack sent the installer back, and the state cookie their browser holds."""

    url: str
    cookie: str


async def start_install(
    session: aiohttp.ClientSession, port: int | None, fake: FakeSlack, team: str
) -> Redirect:
    """/slack/install on the process at ``port``, then the installer approves for ``team``."""
    fake.installing = team
    async with session.get(f"http://127.0.0.1:{port}/slack/install", allow_redirects=False) as resp:
        assert resp.status == 302, await resp.text()
        authorize = resp.headers["Location"]
        cookie = resp.headers["Set-Cookie"].split(";")[0]
    async with session.get(authorize, allow_redirects=False) as resp:
        assert resp.status == 302, await resp.text()
        return Redirect(resp.headers["Location"], cookie)


async def finish_install(session: aiohttp.ClientSession, back: Redirect) -> tuple[int, str]:
    async with session.get(back.url, headers={"Cookie": back.cookie}, allow_redirects=False) as r:
        return r.status, await r.text()


async def install(
    session: aiohttp.ClientSession, port: int | None, fake: FakeSlack, team: str
) -> None:
    fake.redirect_urls = [redirect_url(port)]
    status, page = await finish_install(session, await start_install(session, port, fake, team))
    assert status == 200, page


def command_in(
    team: str, channel: str, user: str, text: str, fake: FakeSlack, **fields: str
) -> SlackPayload:
    return slash_command(
        text,
        response_url=fake.response_url(),
        user_id=user,
        channel_id=channel,
        team_id=team,
        **fields,
    )


def click_in(
    team: str,
    channel: str,
    user: str,
    action: str,
    value: str,
    fake: FakeSlack,
    block_id: str = "result_actions",
) -> Any:
    payload = block_actions(
        action,
        value,
        response_url=fake.response_url(),
        user_id=user,
        channel_id=channel,
        block_id=block_id,
    )
    data = json.loads(json.dumps(payload.data))
    data["team"] = {"id": team, "domain": team.lower()}
    data["user"]["team_id"] = team
    return SlackPayload(urlencode({"payload": json.dumps(data)}), FORM, data)


def database_text(path: Path) -> bytes:
    """Every byte of the SQLite file (and its journal), to look for a plaintext token."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
