"""/imagine-admin key on Slack: the real slack_bolt against FakeSlack (a trigger id works once
within about 3 s; modal title <= 24, placeholder <= 150; enforced) and the real SDK against
FakeGateway (unknown keys answer 401). Only the workspace's admins get the form; its submit is
checked again and validated before the ack (errors shown in the modal); the key is never
echoed; the workspace's jobs then go out with its own key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from core.sealed import fingerprint
from core.types import Identity
from tests.conftest import TEST_KEY
from tests.fakes.slack import View
from tests.fakes.slack_requests import slash_command, text_input_value, view_submission
from tests.slack.conftest import ADMIN_ID, Harness, _close

OWN = "sk-workspace-own-key-9f8e7d6c5b4a"
GENERATIONS = "/v1/images/generations"


@pytest.fixture
async def keyed(harness_factory: Callable[..., Any]) -> AsyncIterator[Harness]:
    h: Harness = await harness_factory(web={"secret_key": "k" * 40}, byok={"enabled": True})
    h.gateway.api_key = TEST_KEY
    h.gateway.other_keys.add(OWN)
    try:
        yield h
    finally:
        await _close(harness_factory)


async def admin_says(h: Harness, text: str, user_id: str = ADMIN_ID) -> str:
    before = len(h.ephemerals())
    await h.send(
        slash_command(
            text, command="/imagine-admin", response_url=h.fake.response_url(), user_id=user_id
        )
    )
    said = await h.wait(lambda: h.ephemerals()[before:])
    return str(said[0].text or "")


async def open_form(h: Harness) -> View:
    before = len(h.fake.views)
    await h.send(
        slash_command(
            "key set",
            command="/imagine-admin",
            response_url=h.fake.response_url(),
            user_id=ADMIN_ID,
        )
    )
    opened: list[View] = await h.wait(
        lambda: [v for v in h.fake.views[before:] if v.kind == "open"]
    )
    return opened[0]


def filled(key: str, url: str | None = None) -> dict[str, dict[str, Any]]:
    return {
        "key_block": {"key": text_input_value(key)},
        "base_url_block": {"base_url": text_input_value(url)},
    }


async def submit(
    h: Harness, view: View, key: str, url: str | None = None, user: str = ADMIN_ID
) -> Any:
    return await h.send(
        view_submission(
            "community_key",
            filled(key, url),
            view_id=view.view_id,
            private_metadata=view.view["private_metadata"],
            user_id=user,
        )
    )


async def test_an_admin_sets_the_key_in_a_modal_and_the_workspaces_jobs_use_it(
    keyed: Harness,
) -> None:
    h = keyed
    view = await open_form(h)
    assert [b.get("block_id") for b in view.view["blocks"] if b["type"] == "input"] == [
        "key_block",
        "base_url_block",
    ]
    before = len(h.ephemerals())
    reply = await submit(h, view, OWN)
    assert reply.status == 200 and not reply.text  # an empty ack closes the modal
    saved = await h.wait(lambda: h.ephemerals()[before:])
    assert fingerprint(OWN) in (saved[0].text or "") and OWN not in (saved[0].text or "")

    await h.send(slash_command("a lighthouse", response_url=h.fake.response_url()))
    await h.wait(lambda: h.gateway.calls_to(GENERATIONS))
    await h.settle()
    assert h.gateway.calls_to(GENERATIONS)[-1].key_last4 == OWN[-4:]

    assert fingerprint(OWN) in await admin_says(h, "key show")
    assert "accepts" in await admin_says(h, "key test")
    assert "bot's key again" in await admin_says(h, "key remove")
    assert not [m for m in h.fake.messages if OWN in json.dumps(m.blocks) + (m.text or "")]


async def test_a_bad_key_or_gateway_is_shown_in_the_modal_and_nothing_is_saved(
    keyed: Harness,
) -> None:
    h = keyed
    view = await open_form(h)
    for key, url, block in (
        ("a sentence, not a key", None, "key_block"),
        (OWN, "http://169.254.169.254/latest", "base_url_block"),
    ):
        reply = await submit(h, view, key, url)
        answer = reply.json()
        assert answer["response_action"] == "errors" and block in answer["errors"]
        assert key not in json.dumps(answer)
    assert await h.service.community_keys(Identity.operator()) == []


async def test_members_get_no_form_and_their_submit_saves_nothing(keyed: Harness) -> None:
    h = keyed
    member = "U0MEMBER1"
    denied = await admin_says(h, "key set", user_id=member)
    assert "admin" in denied.lower()
    assert not [v for v in h.fake.views if v.kind == "open"]
    view = await open_form(h)  # the admin's form, submitted by somebody else
    reply = await submit(h, view, OWN, user=member)
    assert reply.json()["response_action"] == "errors"
    assert await h.service.community_keys(Identity.operator()) == []
    for action in ("show", "test", "remove"):
        assert "admin" in (await admin_says(h, f"key {action}", user_id=member)).lower()


async def test_without_byok_the_form_does_not_open(harness: Harness) -> None:
    said = await admin_says(harness, "key set")
    assert "has not enabled it" in said
    assert not [v for v in harness.fake.views if v.kind == "open"]
