"""FakeSlack's OAuth rules, through the real slack_sdk (tests/fakes/slack_oauth.py cites them):
a code works once and for ten minutes, only with the app's client id and secret and the same
redirect URI as the authorize request; the token it issues works only in its own workspace and
stops working once the app is uninstalled."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import CLOCK, FakeSlack
from tests.fakes.slack_oauth import CODE_TTL_S, redirect_query

BACK = "http://127.0.0.1:9/slack/oauth_redirect"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as f:
        f.add_workspace("T0ALPHA01", "Alpha", channels=("C0ALPHA01",))
        f.add_workspace("T0BETA001", "Beta", channels=("C0BETA001",))
        f.redirect_urls = [BACK]
        yield f


async def code_for(fake: FakeSlack, team: str, **query: str) -> str:
    params = {"client_id": fake.client_id, "scope": "chat:write", "state": "s1", "team": team}
    params.update(query)
    async with aiohttp.ClientSession() as http:
        url = f"{fake.base_url}/oauth/v2/authorize?{urlencode(params)}"
        async with http.get(url, allow_redirects=False) as resp:
            assert resp.status == 302
            back = redirect_query(resp.headers["Location"])
    assert back["state"] == "s1"
    return back["code"]


async def exchange(
    fake: FakeSlack, code: str, secret: str | None = None, **kw: str
) -> dict[str, Any]:
    client = AsyncWebClient(base_url=fake.api_base)
    answer = await client.oauth_v2_access(
        client_id=kw.pop("client_id", fake.client_id),
        client_secret=secret or fake.client_secret,
        code=code,
        **kw,
    )
    return dict(answer.data)  # type: ignore[arg-type]


async def error_of(fake: FakeSlack, code: str, **kw: str) -> str:
    with pytest.raises(SlackApiError) as failed:
        await exchange(fake, code, **kw)
    return str(failed.value.response["error"])


async def test_a_code_is_exchanged_once_for_a_token_of_its_workspace(fake: FakeSlack) -> None:
    code = await code_for(fake, "T0ALPHA01")
    answer = await exchange(fake, code)
    assert answer["token_type"] == "bot" and answer["team"]["id"] == "T0ALPHA01"
    assert answer["access_token"].startswith("xoxb-") and answer["is_enterprise_install"] is False
    assert await error_of(fake, code) == "invalid_code"  # single use
    client = AsyncWebClient(token=answer["access_token"], base_url=fake.api_base)
    assert (await client.auth_test())["team_id"] == "T0ALPHA01"
    assert (await client.chat_postMessage(channel="C0ALPHA01", text="hi"))["ok"]
    with pytest.raises(SlackApiError) as other:
        await client.chat_postMessage(channel="C0BETA001", text="hi")
    assert other.value.response["error"] == "channel_not_found"
    fake.uninstall("T0ALPHA01")
    with pytest.raises(SlackApiError) as revoked:
        await client.auth_test()
    assert revoked.value.response["error"] == "token_revoked"


async def test_a_code_expires_after_ten_minutes(fake: FakeSlack) -> None:
    code = await code_for(fake, "T0BETA001")
    CLOCK.advance(CODE_TTL_S + 1)
    assert await error_of(fake, code) == "invalid_code"


async def test_client_credentials_and_redirect_uri_must_match(fake: FakeSlack) -> None:
    code = await code_for(fake, "T0BETA001", redirect_uri=BACK)
    assert await error_of(fake, code, client_id="9999.0000") == "invalid_client_id"
    assert await error_of(fake, code, secret="wrong-secret") == "bad_client_secret"
    assert await error_of(fake, code, redirect_uri=BACK + "x") == "bad_redirect_uri"
    assert await error_of(fake, "made-up-code") == "invalid_code"
    assert (await exchange(fake, code, redirect_uri=BACK))["team"]["id"] == "T0BETA001"


async def test_the_authorize_page_refuses_an_unknown_client_or_redirect(fake: FakeSlack) -> None:
    async with aiohttp.ClientSession() as http:
        for query, refusal in (
            ({"client_id": "9999.0000"}, "invalid_client_id"),
            (
                {"client_id": fake.client_id, "redirect_uri": "https://evil.example/cb"},
                "bad_redirect_uri",
            ),
        ):
            url = f"{fake.base_url}/oauth/v2/authorize?{urlencode({**query, 'state': 's'})}"
            async with http.get(url, allow_redirects=False) as resp:
                assert resp.status == 400 and await resp.text() == refusal
