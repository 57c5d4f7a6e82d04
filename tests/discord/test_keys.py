"""/pixelsmith-admin key on Discord: the real discord.py against FakeDiscord (which enforces
Discord's modal rules: Label-wrapped text inputs, title <= 45, custom_id <= 100, 1-5
components) and the real SDK against FakeGateway (which answers unknown keys 401). The form
is for the server's admins only, its submit is checked again, the key is never echoed, and
the server's jobs then go out with its own key."""

from __future__ import annotations

from typing import Any

import pytest

from core.sealed import fingerprint
from tests.conftest import TEST_KEY
from tests.discord.conftest import WAIT, SettingsFactory, final, imagine, running_bot
from tests.fakes import discord_payloads as P
from tests.fakes.discord import CallbackEvent, FakeDiscord, MessageEvent
from tests.fakes.gateway import FakeGateway

OWN = "sk-guild-own-key-0a1b2c3d4e5f6789"


@pytest.fixture
def byok(discord_settings: SettingsFactory, gateway: FakeGateway) -> Any:
    gateway.api_key = TEST_KEY
    gateway.other_keys.add(OWN)
    return discord_settings(web={"secret_key": "d" * 40}, byok={"enabled": True})


def key_command(ctx: P.InteractionContext, action: str) -> dict[str, Any]:
    return P.slash_command(
        ctx, "pixelsmith-admin", subcommand="key", options=[P.option("action", action)]
    )


async def answer(fake: FakeDiscord, payload: dict[str, Any]) -> MessageEvent:
    await fake.dispatch("INTERACTION_CREATE", payload)
    msg: MessageEvent = await fake.wait_for_message(final(fake, payload), timeout=WAIT)
    assert msg.ephemeral
    return msg


async def open_form(fake: FakeDiscord, ctx: P.InteractionContext) -> CallbackEvent:
    payload = key_command(ctx, "set")
    await fake.dispatch("INTERACTION_CREATE", payload)
    modal: CallbackEvent = await fake.wait_for_callback(
        lambda c: c.type == 9 and c.interaction_token == payload["token"], timeout=WAIT
    )
    return modal


def fields_of(modal: CallbackEvent) -> list[str]:
    return [label["component"]["custom_id"] for label in modal.data["components"]]


async def test_an_admin_sets_the_servers_key_in_a_form_and_its_jobs_use_it(
    fake: FakeDiscord, byok: Any, gateway: FakeGateway
) -> None:
    admin = fake.context(permissions=P.ADMINISTRATOR)
    async with running_bot(byok):
        modal = await open_form(fake, admin)
        assert fields_of(modal) == ["key", "base_url"]
        payload = P.modal_submit(admin, modal.data["custom_id"], {"key": OWN, "base_url": ""})
        saved = await answer(fake, payload)
        assert fingerprint(OWN) in (saved.content or "") and OWN not in (saved.content or "")
        await imagine(fake, fake.context(), "a lighthouse")
        assert gateway.calls_to("/v1/images/generations")[-1].key_last4 == OWN[-4:]

        shown = await answer(fake, key_command(admin, "show"))
        assert fingerprint(OWN) in (shown.content or "") and OWN not in (shown.content or "")
        tested = await answer(fake, key_command(admin, "test"))
        assert "accepts" in (tested.content or "")
        removed = await answer(fake, key_command(admin, "remove"))
        assert "bot's key again" in (removed.content or "")
        await imagine(fake, fake.context(), "a lighthouse")
        assert gateway.calls_to("/v1/images/generations")[-1].key_last4 == TEST_KEY[-4:]
    assert not [m for m in fake.messages if OWN in (m.content or "")]


async def test_members_get_no_form_and_a_forged_submit_saves_nothing(
    fake: FakeDiscord, byok: Any, gateway: FakeGateway
) -> None:
    member = fake.context()  # no Manage Server
    admin = fake.context(permissions=P.ADMINISTRATOR)
    async with running_bot(byok) as bot:
        denied = await answer(fake, key_command(member, "set"))
        assert "Manage Server" in (denied.content or "")
        assert not [c for c in fake.callbacks if c.type == 9]
        for action in ("show", "test", "remove"):
            assert "Manage Server" in (
                (await answer(fake, key_command(member, action))).content or ""
            )

        modal = await open_form(fake, admin)
        form = modal.data["custom_id"]
        # another member replays the admin's form id; a made-up form id
        other = fake.context(permissions=P.ADMINISTRATOR).with_user(200000000000000002, "bob")
        forged = P.modal_submit(other, form, {"key": OWN, "base_url": ""})
        made_up = P.modal_submit(admin, "px:form:" + "0" * 32, {"key": OWN, "base_url": ""})
        for payload in (forged, made_up):
            refused = await answer(fake, payload)
            assert "no longer valid" in (refused.content or "")
        # the admin lost Manage Server between opening the form and submitting it
        late = await answer(fake, P.modal_submit(member, form, {"key": OWN, "base_url": ""}))
        assert "Manage Server" in (late.content or "")
        assert await bot.service.community_keys(_operator()) == []


async def test_a_bad_key_or_gateway_is_refused_in_words_and_nothing_is_saved(
    fake: FakeDiscord, byok: Any
) -> None:
    admin = fake.context(permissions=P.ADMINISTRATOR)
    async with running_bot(byok) as bot:
        for fields in (
            {"key": "not a key at all, a sentence", "base_url": ""},
            {"key": OWN, "base_url": "http://169.254.169.254/latest"},
        ):
            modal = await open_form(fake, admin)
            reply = await answer(fake, P.modal_submit(admin, modal.data["custom_id"], fields))
            assert "Nothing was saved" in (reply.content or "")
            assert fields["key"] not in (reply.content or "")
        assert await bot.service.community_keys(_operator()) == []


async def test_without_byok_the_form_does_not_open(
    fake: FakeDiscord, discord_settings: SettingsFactory
) -> None:
    admin = fake.context(permissions=P.ADMINISTRATOR)
    async with running_bot(discord_settings()):
        refused = await answer(fake, key_command(admin, "set"))
        assert "has not enabled it" in (refused.content or "")
        assert not [c for c in fake.callbacks if c.type == 9]


def _operator() -> Any:
    from core.types import Identity

    return Identity.operator()
