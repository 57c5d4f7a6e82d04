"""FakeSlack's published limits, each shown rejecting through the real slack_sdk AsyncWebClient.

The rules and their sources are in ``tests/fakes/slack_rules.py`` (Block Kit) and
``tests/fakes/slack.py`` (trigger_id, response_url, channel membership).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import CLOCK, FakeSlack
from tests.fakes.slack_requests import new_trigger_id

TOKEN = "xoxb-test"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=TOKEN) as f:
        yield f


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=fake.api_base)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(text: str = "Go", action_id: str = "go", **extra: Any) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        **extra,
    }


def modal(blocks: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Edit an image"},
        "submit": {"type": "plain_text", "text": "Edit"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks if blocks is not None else [section("hi")],
    }
    view.update(extra)
    return view


def file_input(max_files: int) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": "images",
        "label": {"type": "plain_text", "text": "Images"},
        "element": {"type": "file_input", "action_id": "files", "max_files": max_files},
    }


async def refused(call: Any, error: str) -> list[str]:
    with pytest.raises(SlackApiError) as caught:
        await call
    body = caught.value.response.data
    assert isinstance(body, dict) and body["ok"] is False and body["error"] == error
    messages = body.get("response_metadata", {}).get("messages", [])
    assert isinstance(messages, list)
    return messages


# -- messages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [
        ([section("x" * 3001)], "/blocks/0/text/text"),  # section text 3000
        ([section("x")] * 51, "/blocks"),  # 50 blocks per message
        ([{**section("x"), "block_id": "b" * 256}], "/blocks/0/block_id"),  # block_id 255
        ([{"type": "actions", "elements": [button("b" * 76)]}], "/blocks/0/elements/0/text/text"),
        (
            [{"type": "actions", "elements": [button(action_id="a" * 256)]}],
            "/blocks/0/elements/0/action_id",
        ),
        (
            [{"type": "actions", "elements": [button(value="v" * 2001)]}],
            "/blocks/0/elements/0/value",
        ),
        ([{"type": "actions", "elements": [button()] * 26}], "/blocks/0/elements"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "/blocks/0"),
        ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}], "/blocks/0"),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "/blocks/0"),
    ],
)
async def test_block_kit_limits_on_messages(
    client: AsyncWebClient, blocks: list[dict[str, Any]], pointer: str
) -> None:
    messages = await refused(
        client.chat_postMessage(channel="C0FAKE001", text="t", blocks=blocks), "invalid_blocks"
    )
    assert messages and all(m.startswith("[ERROR] ") for m in messages)
    assert any(f"[json-pointer:{pointer}" in m for m in messages), messages


async def test_limits_hold_on_update_and_ephemeral_too(client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0FAKE001", text="t", blocks=[section("a")])
    too_long = [section("x" * 3001)]
    await refused(
        client.chat_update(channel="C0FAKE001", ts=posted["ts"], text="t", blocks=too_long),
        "invalid_blocks",
    )
    await refused(
        client.chat_postEphemeral(channel="C0FAKE001", user="U1", text="t", blocks=too_long),
        "invalid_blocks",
    )
    assert (
        await client.chat_postMessage(channel="C0FAKE001", text="t", blocks=[section("x" * 3000)])
    )["ok"]


# -- views ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("view", "pointer"),
    [
        (modal(title={"type": "plain_text", "text": "t" * 25}), "/view/title/text"),
        (modal(submit={"type": "plain_text", "text": "s" * 25}), "/view/submit/text"),
        (modal(close={"type": "plain_text", "text": "c" * 25}), "/view/close/text"),
        (modal(private_metadata="m" * 3001), "/view/private_metadata"),
        (modal([section("x")] * 101), "/view/blocks"),
        (modal([file_input(16)]), "/view/blocks/0/element/max_files"),
        (modal([file_input(0)]), "/view/blocks/0/element/max_files"),
        (
            modal(
                [
                    {
                        "type": "input",
                        "label": {"type": "plain_text", "text": "Prompt"},
                        "element": {
                            "type": "plain_text_input",
                            "action_id": "p",
                            "max_length": 3001,
                        },
                    }
                ]
            ),
            "/view/blocks/0/element/max_length",
        ),
        ({**modal([file_input(1)]), "submit": None}, "/view/submit"),
    ],
)
async def test_modal_limits(
    fake: FakeSlack, client: AsyncWebClient, view: dict[str, Any], pointer: str
) -> None:
    view = {k: v for k, v in view.items() if v is not None}
    messages = await refused(
        client.views_open(trigger_id=fake.issue_trigger(), view=view), "invalid_arguments"
    )
    assert any(f"[json-pointer:{pointer}" in m for m in messages), messages


async def test_a_valid_modal_opens_and_file_input_takes_up_to_10(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    opened = await client.views_open(trigger_id=fake.issue_trigger(), view=modal([file_input(10)]))
    assert opened["ok"]


async def test_home_tab_takes_100_blocks(client: AsyncWebClient) -> None:
    home = {"type": "home", "blocks": [section("x")] * 100}
    assert (await client.views_publish(user_id="U1", view=home))["ok"]
    home["blocks"] = [section("x")] * 101
    await refused(client.views_publish(user_id="U1", view=home), "invalid_arguments")


async def test_views_update_is_checked(fake: FakeSlack, client: AsyncWebClient) -> None:
    opened = await client.views_open(trigger_id=fake.issue_trigger(), view=modal())
    await refused(
        client.views_update(view_id=opened["view"]["id"], view=modal(private_metadata="m" * 3001)),
        "invalid_arguments",
    )


# -- trigger_id -----------------------------------------------------------------------------


async def test_a_trigger_id_works_once(fake: FakeSlack, client: AsyncWebClient) -> None:
    trigger = fake.issue_trigger()
    assert (await client.views_open(trigger_id=trigger, view=modal()))["ok"]
    await refused(client.views_open(trigger_id=trigger, view=modal()), "exchanged_trigger_id")


async def test_a_trigger_id_slack_never_issued_is_invalid(client: AsyncWebClient) -> None:
    made_up = "1111111111.2222222222.0123456789abcdef0123456789abcdef"  # well-formed, never sent
    await refused(client.views_open(trigger_id=made_up, view=modal()), "invalid_trigger_id")
    assert (await client.views_open(trigger_id=new_trigger_id(), view=modal()))["ok"]


async def test_a_trigger_id_expires_after_3_seconds(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    trigger, fresh = fake.issue_trigger(), new_trigger_id()
    CLOCK.advance(3.01)
    await refused(client.views_open(trigger_id=trigger, view=modal()), "expired_trigger_id")
    await refused(client.views_open(trigger_id=fresh, view=modal()), "expired_trigger_id")
    assert (await client.views_open(trigger_id=fake.issue_trigger(), view=modal()))["ok"]


async def test_a_slow_call_before_views_open_expires_the_trigger(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.slow("users.info", 3.5)  # the lookup takes 3.5 s of Slack time
    trigger = fake.issue_trigger()
    await client.users_info(user="U0USER001")
    await refused(client.views_open(trigger_id=trigger, view=modal()), "expired_trigger_id")
    # the other order works: the modal first, then the lookup
    trigger = fake.issue_trigger()
    assert (await client.views_open(trigger_id=trigger, view=modal()))["ok"]
    await client.users_info(user="U0USER001")


# -- membership -----------------------------------------------------------------------------


async def test_not_in_channel_unless_member_or_chat_write_public(fake: FakeSlack) -> None:
    fake.add_channel("C0OUTSIDE", "random", is_member=False)
    fake.add_channel("G0PRIVATE", "secret", is_member=False, is_private=True)
    fake.add_channel("C0JOINED", "joined", is_member=True)
    client = AsyncWebClient(token=TOKEN, base_url=fake.api_base)
    await refused(client.chat_postMessage(channel="C0OUTSIDE", text="t"), "not_in_channel")
    assert (await client.chat_postMessage(channel="C0JOINED", text="t"))["ok"]
    assert (await client.chat_postMessage(channel="D0DM00001", text="t"))["ok"]
    upload = client.files_upload_v2(channel="C0OUTSIDE", content=b"png", filename="a.png")
    await refused(upload, "not_in_channel")
    fake.scopes += ",chat:write.public"
    assert (await client.chat_postMessage(channel="C0OUTSIDE", text="t"))["ok"]
    # uploads still need the app in the channel
    upload = client.files_upload_v2(channel="C0OUTSIDE", content=b"png", filename="a.png")
    await refused(upload, "not_in_channel")
    await refused(client.chat_postMessage(channel="G0PRIVATE", text="t"), "not_in_channel")
    info = await client.conversations_info(channel="C0OUTSIDE")
    assert info["channel"]["is_member"] is False


async def test_default_membership_is_configurable() -> None:
    async with FakeSlack(token=TOKEN, default_member=False) as fake:
        client = AsyncWebClient(token=TOKEN, base_url=fake.api_base)
        await refused(client.chat_postMessage(channel="C0ANY0001", text="t"), "not_in_channel")
        assert (await client.conversations_info(channel="C0ANY0001"))["channel"][
            "is_member"
        ] is False


# -- response_url ---------------------------------------------------------------------------


async def test_response_url_works_5_times(fake: FakeSlack) -> None:
    url = fake.response_url()
    async with aiohttp.ClientSession() as http:
        for _ in range(5):
            async with http.post(url, json={"text": "hi"}) as r:
                assert r.status == 200
        async with http.post(url, json={"text": "hi"}) as r:
            assert r.status == 404 and await r.text() == "expired_url"


async def test_response_url_expires_after_30_minutes(fake: FakeSlack) -> None:
    url = fake.response_url()
    CLOCK.advance(30 * 60 + 1)
    async with aiohttp.ClientSession() as http, http.post(url, json={"text": "hi"}) as r:
        assert r.status == 404


async def test_response_url_bodies_are_checked_like_messages(fake: FakeSlack) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(fake.response_url(), json={"blocks": [section("x" * 3001)]}) as r,
    ):
        body = await r.json()
    assert body["ok"] is False and body["error"] == "invalid_blocks"
    assert body["response_metadata"]["messages"]
