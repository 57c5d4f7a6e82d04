"""Bring your own key, through the real ``openai`` SDK against the fake gateway: a community's
jobs go out with its own key (the gateway sees which), are billed to it and reported as paid by
it; a rejected or removed key stops that community's jobs with nothing charged; keys are
sealed, never echoed, and only the community's own admin (or the operator) may change them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
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
from tests.fakes.gateway import Behavior, FakeGateway

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
    assert await svc.rotate_keys(Identity.operator()) == (1, 0)
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


# -- what a security review found: each fixed, each with its case --------------------------


async def test_the_key_stays_with_the_gateway_it_was_set_for(
    settings_factory: Callable[..., Settings], gateway: FakeGateway
) -> None:
    """An empty address means the operator's gateway as it was then: when the operator moves
    to another gateway, the community's key is not sent there; its jobs stop, nothing charged."""
    gateway.other_keys.update({OWN_KEY, TEST_KEY})
    svc = await ImageService.create(byok_settings(settings_factory))
    await svc.admin_set_key(ADMIN, OWN_KEY, "")
    info = await svc.admin_key(ADMIN)
    assert info is not None and info.base_url == gateway.base_url
    await svc.close()
    async with FakeGateway() as moved:
        settings = byok_settings(settings_factory).model_copy(deep=True)
        settings.provider.base_url = moved.base_url
        svc = await ImageService.create(settings)
        try:
            with pytest.raises(KeyProblem) as problem:
                await imagine(svc, MEMBER)
            assert problem.value.key == "byok.gateway_not_allowed"
            assert moved.calls == [] and await svc.history(MEMBER) == []
        finally:
            await svc.close()


async def test_a_gateway_taken_off_the_list_gets_no_more_keys(
    settings_factory: Callable[..., Settings], gateway: FakeGateway
) -> None:
    async with FakeGateway() as other:
        other.api_key = OWN_KEY
        allowed = [gateway.base_url, other.base_url]
        svc = await ImageService.create(byok_settings(settings_factory, allowed_base_urls=allowed))
        await svc.admin_set_key(ADMIN, OWN_KEY, other.base_url)
        await svc.close()
        svc = await ImageService.create(
            byok_settings(settings_factory, allowed_base_urls=[gateway.base_url])
        )
        try:
            with pytest.raises(KeyProblem) as problem:
                await imagine(svc, MEMBER)
            assert problem.value.key == "byok.gateway_not_allowed" and other.calls == []
        finally:
            await svc.close()


async def test_a_job_waiting_for_its_keys_slot_is_not_sent_once_the_key_is_removed(
    settings_factory: Callable[..., Settings], gateway: FakeGateway
) -> None:
    """A removed (or replaced) key is never used for a job that was waiting for its slot: the
    job is released, nothing charged, and its member is told."""
    gateway.other_keys.update({OWN_KEY, TEST_KEY})
    svc = await ImageService.create(
        byok_settings(settings_factory, max_concurrency=1, fallback_to_operator=False)
    )
    try:
        await svc.admin_set_key(ADMIN, OWN_KEY)
        arrived, hold = asyncio.Event(), asyncio.Event()
        gateway.script(Behavior(arrived=arrived, hold=hold))
        first = asyncio.create_task(imagine(svc, MEMBER, "the first"))
        await asyncio.wait_for(arrived.wait(), 10)
        second = asyncio.create_task(imagine(svc, ELSEWHERE_MEMBER, "the second"))
        await _until(lambda: svc.budget_for(_choice(svc)).depth == 1)
        assert await svc.admin_remove_key(ADMIN) == "stopped"
        hold.set()
        assert (await first).cost_micros > 0  # already sent: it completes, and is paid
        with pytest.raises(KeyProblem) as problem:
            await second
        assert problem.value.key == "byok.changed"
        (job,) = await svc.history(ELSEWHERE_MEMBER)
        assert job.state == JobState.RELEASED and job.cost_micros == 0
        assert [c.json["prompt"] for c in gateway.calls_to("/v1/images/generations")] == [
            "the first"
        ]
        assert await svc.check() == []
    finally:
        await svc.close()


ELSEWHERE_MEMBER = Identity("discord", "4", GUILD)


def _choice(svc: ImageService) -> Any:
    from core.keys import KeyChoice, pool_of

    return KeyChoice(pool=pool_of(fingerprint(OWN_KEY)), key_ref=fingerprint(OWN_KEY), api_key="x")


async def _until(condition: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 10)


async def test_rotation_also_reseals_platform_installs(
    settings_factory: Callable[..., Settings],
) -> None:
    from core.sealed import Sealer

    old, new = SECRET, "n" * 40
    svc = await ImageService.create(byok_settings(settings_factory))
    await svc.admin_set_key(ADMIN, OWN_KEY)
    await svc.store.save_install(
        {
            "platform": "slack",
            "key": "T1",
            "group_id": None,
            "details": {},
            "sealed": Sealer([old]).seal('{"bot_token": "xoxb-1"}'),
            "installed_at": datetime.now(UTC),
        }
    )
    await svc.close()
    rotated = settings_factory(web={"secret_key": f"{new},{old}"}, byok={"enabled": True})
    svc = await ImageService.create(rotated)
    try:
        assert await svc.rotate_keys(Identity.operator()) == (1, 1)
        row = await svc.store.find_install("slack", "T1")
        assert row is not None
        assert Sealer([new]).open(row["sealed"]) == '{"bot_token": "xoxb-1"}'
    finally:
        await svc.close()


async def test_a_replaced_keys_client_is_closed_and_an_opened_key_is_redacted_from_logs(
    keyed: ImageService, caplog: pytest.LogCaptureFixture
) -> None:
    from core.logs import RedactingFilter

    await keyed.admin_set_key(ADMIN, OWN_KEY)
    await imagine(keyed, MEMBER)
    assert keyed._own_providers is not None and len(keyed._own_providers) == 1
    await keyed.admin_set_key(ADMIN, "sk-the-replacement-key-00000000")
    assert len(keyed._own_providers) == 0  # the old key's client is gone
    assert OWN_KEY not in RedactingFilter().redact(f"an SDK echoing {OWN_KEY} back")


async def test_closing_an_idle_client_never_fails_the_job_that_trims_it() -> None:
    from core.providers.keyed import KeyedProviders

    class Stub:
        demo = False

        def __init__(self, fail: bool) -> None:
            self.fail, self.closed = fail, False

        async def close(self) -> None:
            self.closed = True
            if self.fail:
                raise OSError("close failed")

    made: list[Stub] = []

    def build(key: str, url: str | None) -> Any:
        made.append(Stub(fail=key == "old"))
        return made[-1]

    providers = KeyedProviders(build, keep=1)
    async with providers.lease("old", None):
        pass
    async with providers.lease("new", None):
        pass  # trimming "old" raises inside close: logged, not raised here
    assert made[0].closed and len(providers) == 1


async def test_the_operator_is_told_when_a_workspace_belongs_to_a_grid_org(
    keyed: ImageService,
) -> None:
    await keyed.store.save_install(
        {
            "platform": "slack",
            "key": "T2",
            "group_id": "E9",
            "details": {},
            "sealed": "x",
            "installed_at": datetime.now(UTC),
        }
    )
    assert await keyed.key_group(Identity.operator(), "community:slack:T2") == (
        "community:slack:E9"
    )
    assert await keyed.key_group(Identity.operator(), "community:discord:901") is None
