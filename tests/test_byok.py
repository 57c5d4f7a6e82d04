"""Bring your own key, through the real ``openai`` SDK against the fake gateway: a community's
jobs go out with its own key (the gateway sees which), are billed to it and reported as paid by
it; a rejected or removed key stops that community's jobs with nothing charged; keys are
sealed, never echoed, and only the community's own admin (or the operator) may change them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from prometheus_client import generate_latest

from core import messages
from core.config import Settings
from core.errors import Forbidden, UpstreamError
from core.keys import KeyProblem
from core.metrics import Metrics
from core.sealed import fingerprint
from core.service import ImageService
from core.types import Identity, JobState
from tests.conftest import TEST_KEY
from tests.fakes.gateway import FakeGateway

SECRET = "s" * 40
OWN_KEY = "sk-community-own-key-4f3a9c2e71d0"
GUILD = "901"
ADMIN = Identity("discord", "1", GUILD, is_admin=True)
MEMBER = Identity("discord", "2", GUILD)
ELSEWHERE = Identity("discord", "3", "902")
COMMUNITY = f"community:discord:{GUILD}"


def byok_settings(factory: Callable[..., Settings], **byok: Any) -> Settings:
    return factory(web={"secret_key": SECRET}, byok={"enabled": True, **byok})


@pytest.fixture
async def keyed(
    settings_factory: Callable[..., Settings], gateway: FakeGateway
) -> AsyncIterator[ImageService]:
    gateway.api_key = TEST_KEY
    gateway.other_keys.add(OWN_KEY)
    svc = await ImageService.create(byok_settings(settings_factory))
    try:
        yield svc
    finally:
        await svc.close()


async def imagine(svc: ImageService, who: Identity, prompt: str = "a lighthouse") -> Any:
    return await svc.run(svc.build(prompt, who))


def last4(key: str) -> str:
    return key[-4:]


async def test_a_community_key_serves_and_pays_for_its_jobs_only(
    keyed: ImageService, gateway: FakeGateway
) -> None:
    metrics = Metrics()
    keyed.listeners.append(metrics.on_event)
    shown = await keyed.admin_set_key(ADMIN, OWN_KEY)
    assert shown == fingerprint(OWN_KEY) and OWN_KEY not in shown
    mine = await imagine(keyed, MEMBER)
    theirs = await imagine(keyed, ELSEWHERE)
    sent = [c for c in gateway.calls if c.path.endswith("/images/generations")]
    assert [c.key_last4 for c in sent] == [last4(OWN_KEY), last4(TEST_KEY)]
    assert mine.cost_micros > 0 and theirs.cost_micros > 0
    jobs = await keyed.history(MEMBER) + await keyed.history(ELSEWHERE)
    assert [j.key_ref for j in jobs] == [fingerprint(OWN_KEY), None]
    paid = {r.group: r.cost_micros for r in await keyed.usage(Identity.operator(), by="key")}
    assert paid == {fingerprint(OWN_KEY): mine.cost_micros, "operator": theirs.cost_micros}
    exposed = generate_latest(metrics.registry).decode()
    assert f'community="{COMMUNITY}",model="gpt-image-2",paid_by="community"' in exposed
    assert 'community="community:discord:902",model="gpt-image-2",paid_by="operator"' in exposed


async def test_the_gateway_rejecting_the_own_key_stops_with_the_admins_words_and_no_charge(
    keyed: ImageService, gateway: FakeGateway
) -> None:
    await keyed.admin_set_key(ADMIN, "sk-not-a-key-this-gateway-issued")
    with pytest.raises(UpstreamError) as info:
        await imagine(keyed, MEMBER)
    assert info.value.key == "byok.own_bad_key"
    assert "admin" in messages.render(info.value, "en")
    (job,) = await keyed.history(MEMBER)
    assert job.cost_micros == 0 and job.state == JobState.FAILED_CHARGED
    status = await keyed.quota_status(MEMBER)
    assert all(s.reserved == 0 for s in status.limits)
    assert (await imagine(keyed, ELSEWHERE)).cost_micros > 0  # another community is unaffected


async def test_removing_the_key_falls_back_only_when_the_operator_allows(
    settings_factory: Callable[..., Settings], gateway: FakeGateway
) -> None:
    gateway.api_key = TEST_KEY
    gateway.other_keys.add(OWN_KEY)
    svc = await ImageService.create(byok_settings(settings_factory, fallback_to_operator=False))
    try:
        await svc.admin_set_key(ADMIN, OWN_KEY)
        assert await svc.admin_remove_key(ADMIN) == "stopped"
        before = len(gateway.calls)
        with pytest.raises(KeyProblem) as info:
            await imagine(svc, MEMBER)
        assert info.value.key == "byok.removed"
        assert len(gateway.calls) == before and await svc.history(MEMBER) == []
        assert await svc.admin_remove_key(ADMIN) == "stopped"  # a member admin cannot forget
        assert await svc.admin_remove_key(Identity.operator(), community=COMMUNITY, forget=True)
        await imagine(svc, MEMBER)
        assert gateway.calls[-1].key_last4 == last4(TEST_KEY)
    finally:
        await svc.close()
    svc = await ImageService.create(byok_settings(settings_factory))  # fallback allowed
    try:
        await svc.admin_set_key(ADMIN, OWN_KEY)
        assert await svc.admin_remove_key(ADMIN) == "fallback"
        await imagine(svc, MEMBER)
        assert gateway.calls[-1].key_last4 == last4(TEST_KEY)
        assert await svc.admin_remove_key(ADMIN) == "none"
    finally:
        await svc.close()


async def test_a_key_the_secret_cannot_open_stops_the_job_before_anything_is_reserved(
    settings_factory: Callable[..., Settings], gateway: FakeGateway
) -> None:
    gateway.other_keys.add(OWN_KEY)
    svc = await ImageService.create(byok_settings(settings_factory))
    await svc.admin_set_key(ADMIN, OWN_KEY)
    await svc.close()
    changed = settings_factory(web={"secret_key": "t" * 40}, byok={"enabled": True})
    svc = await ImageService.create(changed)
    try:
        before = len(gateway.calls)
        with pytest.raises(KeyProblem) as info:
            await imagine(svc, MEMBER)
        assert info.value.key == "byok.unsealable"
        assert len(gateway.calls) == before and await svc.history(MEMBER) == []
        (listed,) = await svc.community_keys(Identity.operator())
        assert not listed.opens
    finally:
        await svc.close()


async def test_rotation_reseals_every_key_under_the_new_secret(
    settings_factory: Callable[..., Settings], gateway: FakeGateway
) -> None:
    gateway.other_keys.add(OWN_KEY)
    svc = await ImageService.create(byok_settings(settings_factory))
    await svc.admin_set_key(ADMIN, OWN_KEY)
    await svc.close()
    new = "n" * 40
    svc = await ImageService.create(
        settings_factory(web={"secret_key": f"{new},{SECRET}"}, byok={"enabled": True})
    )
    assert await svc.rotate_keys(Identity.operator()) == 1
    await svc.close()
    svc = await ImageService.create(
        settings_factory(web={"secret_key": new}, byok={"enabled": True})
    )
    try:
        await imagine(svc, MEMBER)
        assert gateway.calls[-1].key_last4 == last4(OWN_KEY)
        with pytest.raises(Forbidden):
            await svc.rotate_keys(ADMIN)
    finally:
        await svc.close()


@pytest.mark.parametrize(
    ("caller", "community"),
    [
        (MEMBER, None),  # not an admin
        (ADMIN, "community:discord:902"),  # an admin naming another community
        (Identity("discord", "1", None, is_admin=True), None),  # no community (a DM)
        (Identity.operator(), None),  # the operator must name the community
        (Identity.operator(), "discord:901"),  # ... as a community scope
    ],
)
async def test_only_the_communitys_own_admin_or_the_operator_may_change_its_key(
    keyed: ImageService, caller: Identity, community: str | None
) -> None:
    with pytest.raises(Forbidden):
        await keyed.admin_set_key(caller, OWN_KEY, community=community)
    with pytest.raises(Forbidden):
        await keyed.admin_remove_key(caller, community=community)
    assert await keyed.community_keys(Identity.operator()) == []


@pytest.mark.parametrize(
    "key", ["", "   ", "short", "sk has spaces in it 1234", "sk-\x00" + "a" * 20, "k" * 301]
)
async def test_a_malformed_key_is_refused_unsaved_and_never_quoted(
    keyed: ImageService, key: str
) -> None:
    with pytest.raises(KeyProblem) as info:
        await keyed.admin_set_key(ADMIN, key)
    assert info.value.key == "byok.bad_key"
    for lang in ("en", "zh-CN"):
        shown = messages.render(info.value, lang)
        assert not key.strip() or key.strip() not in shown
    assert await keyed.community_keys(Identity.operator()) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest",  # cloud metadata: a chat admin must not aim the bot
        "http://127.0.0.1:5432",
        "https://evil.example/v1",
        "ftp://gateway.example/v1",
        "javascript:alert(1)",
    ],
)
async def test_a_chat_admin_may_only_pick_an_allowed_gateway(keyed: ImageService, url: str) -> None:
    with pytest.raises(KeyProblem) as info:
        await keyed.admin_set_key(ADMIN, OWN_KEY, url)
    assert info.value.key == "byok.bad_base_url"
    assert keyed.settings.provider.base_url in messages.render(info.value, "en")
    assert await keyed.community_keys(Identity.operator()) == []


async def test_an_allowed_gateway_is_used_and_the_operator_may_name_any(
    settings_factory: Callable[..., Settings], gateway: FakeGateway
) -> None:
    async with FakeGateway() as other:
        other.api_key = OWN_KEY
        svc = await ImageService.create(
            byok_settings(settings_factory, allowed_base_urls=[other.base_url])
        )
        try:
            await svc.admin_set_key(ADMIN, OWN_KEY, other.base_url + "/")
            await imagine(svc, MEMBER)
            assert [c.key_last4 for c in other.calls] == [last4(OWN_KEY)]
            assert not [c for c in gateway.calls if c.path.endswith("/generations")]
            await svc.admin_set_key(
                Identity.operator(), OWN_KEY, other.base_url, community="community:slack:T9"
            )
            with pytest.raises(KeyProblem):  # a chat admin may not name a gateway not allowed
                await svc.admin_set_key(ADMIN, OWN_KEY, "https://elsewhere.example/v1")
        finally:
            await svc.close()


async def test_the_key_is_sealed_at_rest_and_absent_from_audit_and_logs(
    keyed: ImageService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await keyed.admin_set_key(ADMIN, OWN_KEY)
    await imagine(keyed, MEMBER)
    await keyed.test_key(ADMIN)
    await keyed.admin_remove_key(ADMIN)
    row = [r async for r in _rows(keyed)]
    audit = await keyed.audit(Identity.operator(), limit=10)
    assert {a.action for a in audit} >= {"key_set", "key_removed"}
    everything = repr(row) + repr(audit) + caplog.text
    assert OWN_KEY not in everything and OWN_KEY[4:20] not in everything


async def _rows(svc: ImageService) -> AsyncIterator[Any]:
    from sqlalchemy import text

    def read() -> list[Any]:
        with svc.store.engine.connect() as conn:
            return list(conn.execute(text("SELECT * FROM community_key")))

    import asyncio

    for r in await asyncio.to_thread(read):
        yield r


async def test_testing_a_key_asks_its_gateway_for_free_and_remembers_the_answer(
    keyed: ImageService, gateway: FakeGateway
) -> None:
    assert await keyed.test_key(ADMIN) == "none"
    await keyed.admin_set_key(ADMIN, OWN_KEY)
    assert await keyed.test_key(ADMIN) == "ok"
    await keyed.admin_set_key(ADMIN, "sk-revoked-key-0000000000000")
    assert await keyed.test_key(ADMIN) == "rejected"
    info = await keyed.admin_key(ADMIN)
    assert info is not None and info.check == "rejected"
    assert not [c for c in gateway.calls if "/images/" in c.path]  # nothing billable


async def test_while_byok_is_off_no_admin_can_set_a_key_and_stored_keys_are_unused(
    settings_factory: Callable[..., Settings], gateway: FakeGateway
) -> None:
    gateway.other_keys.update({OWN_KEY, TEST_KEY})
    svc = await ImageService.create(byok_settings(settings_factory))
    await svc.admin_set_key(ADMIN, OWN_KEY)
    await svc.close()
    svc = await ImageService.create(settings_factory(web={"secret_key": SECRET}))
    try:
        with pytest.raises(KeyProblem) as info:
            await svc.admin_set_key(ADMIN, OWN_KEY)
        assert info.value.key == "byok.disabled"
        await imagine(svc, MEMBER)
        assert gateway.calls[-1].key_last4 == last4(TEST_KEY)
    finally:
        await svc.close()
