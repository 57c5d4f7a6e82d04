"""Tenancy: every power stays inside its own community (SQLite and PostgreSQL).

The precedence rule as a table: the operator bound (config + the operator's overrides) caps
everything; a community's default and member override only restrict:
effective = min(operator bound, community value). Then every cross-community attack of the
trust-boundaries issue, at the service level (real gateway fake, real store).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.errors import Forbidden, QuotaExceeded
from core.service import ImageService
from core.store import EffectiveLimits, Store
from core.types import Identity
from tests.conftest import make_settings
from tests.fakes.gateway import FakeGateway

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
ALICE_A = Identity("discord", "111", "A")
ALICE_B = Identity("discord", "111", "B")
BOB_A = Identity("discord", "222", "A")
ADMIN_A = Identity("discord", "900", "A", is_admin=True)
ADMIN_B = Identity("discord", "901", "B", is_admin=True)  # an admin of B only
MEMBER_A = Identity("discord", "902", "A")  # not an admin
OPERATOR = Identity.operator()
PROMPT = "a red fox sitting in fresh snow"

UNSET = object()

# config user_daily_images, operator override, community default, member override, expected
PRECEDENCE: list[tuple[Any, Any, Any, Any, int | None]] = [
    (None, UNSET, UNSET, UNSET, None),  # nothing anywhere: unlimited
    (5, UNSET, UNSET, UNSET, 5),  # the config
    (5, 8, UNSET, UNSET, 8),  # the operator may raise the config
    (5, 2, UNSET, UNSET, 2),  # ... or lower it
    (5, None, UNSET, UNSET, None),  # ... or lift it
    (5, UNSET, 3, UNSET, 3),  # a community may lower it for its members
    (5, UNSET, 9, UNSET, 5),  # ... never raise it
    (5, UNSET, None, UNSET, 5),  # "unlimited" from a community is still the bound
    (5, UNSET, UNSET, 2, 2),  # a member override lowers
    (5, UNSET, UNSET, None, 5),  # ... "unlimited" does not lift the bound
    (5, UNSET, 3, 4, 4),  # within the community, the member's own wins over the default
    (5, UNSET, 3, 9, 5),  # ... but never above the bound
    (None, UNSET, 3, UNSET, 3),  # unlimited operator: the community's value holds
    (None, UNSET, UNSET, 1, 1),
    (5, 10, 7, UNSET, 7),  # operator raised, community lowered
    (5, 2, 7, 9, 2),  # the bound wins over everything the community says
]


async def _set(store: Store, scope: str, value: Any) -> None:
    if value is not UNSET:
        await store.set_override(scope, {"user_daily_images": value})


@pytest.mark.parametrize(("config", "operator", "community", "member", "expected"), PRECEDENCE)
async def test_precedence_table(
    store: Store, config: Any, operator: Any, community: Any, member: Any, expected: int | None
) -> None:
    await _set(store, ALICE_A.user_scope, operator)
    members = ALICE_A.members_scope
    assert members is not None
    await _set(store, members, community)
    await _set(store, ALICE_A.member_scope, member)
    base = EffectiveLimits(user_daily_images=config)
    effective = await store.effective_limits_of(ALICE_A, base)
    assert effective.user_daily_images == expected
    status = await store.quota_status(ALICE_A, base, now=NOW)
    daily = status.get("user_daily_images")
    assert daily is not None and daily.limit == expected
    # and the reservation enforces exactly that number
    allowed = 0
    for i in range(12):
        try:
            await store.begin_job(
                idem_key=f"k{i}", identity=ALICE_A, request={"prompt": "p"}, model="m",
                images=1, worst_cost_micros=1, limits=base, now=NOW,
            )  # fmt: skip
            allowed += 1
        except QuotaExceeded:
            break
    assert allowed == (12 if expected is None else expected)
    # the same user in another community is bound by the operator only
    other = await store.effective_limits_of(ALICE_B, base)
    assert other.user_daily_images == (config if operator is UNSET else operator)
    assert await store.check(now=NOW) == []


async def test_a_community_grant_raises_the_community_value_never_the_bound(store: Store) -> None:
    members = ALICE_A.members_scope
    assert members is not None
    await store.set_override(members, {"user_daily_images": 2})
    base = EffectiveLimits(user_daily_images=3)
    assert await store.grant(ALICE_A.member_scope, 5, "images", "day", now=NOW) == 5
    status = await store.quota_status(ALICE_A, base, now=NOW)
    daily = status.get("user_daily_images")
    assert daily is not None and daily.remaining == 3  # min(3, 2 + 5)
    # taking back more than was given stops at zero, no error
    assert await store.grant(ALICE_A.member_scope, -9, "images", "day", now=NOW) == -5
    status = await store.quota_status(ALICE_A, base, now=NOW)
    daily = status.get("user_daily_images")
    assert daily is not None and daily.remaining == 2
    assert await store.check(now=NOW) == []


# -- the attacks, through the service -----------------------------------------------------------


@pytest.fixture
async def svc(db_url: str, tmp_path: Path) -> AsyncIterator[ImageService]:
    async with FakeGateway() as gateway:
        settings = make_settings(
            tmp_path, gateway.base_url, database={"url": db_url}, quota={"user_daily_images": 3}
        )
        service = await ImageService.create(settings)
        try:
            yield service
        finally:
            await service.close()


async def run(svc: ImageService, who: Identity) -> Any:
    return await svc.run(svc.build(PROMPT, who))


async def test_an_admin_of_b_cannot_lift_alices_limit_in_a(svc: ImageService) -> None:
    # the attack: B's admin sets "unlimited" for a user; before, that was a global user scope
    await svc.admin_set_limits(ADMIN_B, "111", {"user_daily_images": None})
    await svc.admin_set_limits(ADMIN_B, None, {"user_daily_images": None})
    for _ in range(3):
        await run(svc, ALICE_A)
    with pytest.raises(QuotaExceeded):
        await run(svc, ALICE_A)
    with pytest.raises(QuotaExceeded):  # nor in B itself: the operator's 3 a day bound her
        await run(svc, ALICE_B)
    assert await svc.store.check() == []


async def test_a_ban_in_b_does_not_reach_a(svc: ImageService) -> None:
    assert await svc.admin_ban(ADMIN_B, "111", "spam") is True
    with pytest.raises(QuotaExceeded) as refused:
        await run(svc, ALICE_B)
    assert refused.value.key == "quota.banned"
    assert (await run(svc, ALICE_A)).images  # Alice still generates in A
    assert await svc.admin_unban(ADMIN_A, "111") is False  # A's admin sees no ban of theirs
    assert await svc.admin_unban(ADMIN_B, "111") is True


async def test_reports_show_only_the_callers_community(svc: ImageService) -> None:
    await run(svc, ALICE_A)
    await run(svc, BOB_A)
    await run(svc, ALICE_B)
    groups_b = {r.group for r in await svc.usage(ADMIN_B, None, "user")}
    assert groups_b == {ALICE_B.user_scope}
    assert {r.group for r in await svc.usage(ADMIN_B, None, "community")} == {"community:discord:B"}
    assert {r.group for r in await svc.daily_spend(ADMIN_B)} == {"community:discord:B"}
    assert {r.group for r in await svc.usage(OPERATOR, None, "community")} == {
        "community:discord:A",
        "community:discord:B",
    }
    # a member's history is theirs in this community only
    assert [j.community_scope for j in await svc.history(ALICE_B)] == ["community:discord:B"]
    assert len(await svc.history(ALICE_A)) == 1
    # from a DM, a user sees their own jobs of every community (their own data, nobody else's)
    assert len(await svc.history(Identity("discord", "111", None))) == 2


async def test_no_admin_power_without_being_an_admin_or_outside_a_community(
    svc: ImageService,
) -> None:
    dm_admin = Identity("discord", "903", None, is_admin=True)
    for caller in (MEMBER_A, dm_admin):
        with pytest.raises(Forbidden):
            await svc.admin_set_limits(caller, "111", {"user_daily_images": 100})
        with pytest.raises(Forbidden):
            await svc.admin_ban(caller, "111")
        with pytest.raises(Forbidden):
            await svc.usage(caller)
        with pytest.raises(Forbidden):
            await svc.audit(caller)
    # a community admin cannot name a scope: only a user id of its own community
    for forged in (
        "user:discord:111",
        "community:discord:A",
        "member:discord:A:111",
        "*",
        "",
        "x" * 65,
    ):
        with pytest.raises(Forbidden):
            await svc.admin_set_limits(ADMIN_B, forged, {"user_daily_images": 0})
        with pytest.raises(Forbidden):
            await svc.admin_grant(ADMIN_B, forged, 5)
    assert await svc.audit(OPERATOR) == []  # nothing was written


async def test_grants_stay_in_their_community(svc: ImageService) -> None:
    await svc.admin_set_limits(ADMIN_A, None, {"user_daily_images": 1})
    await svc.admin_set_limits(ADMIN_B, None, {"user_daily_images": 1})
    await svc.admin_grant(ADMIN_B, "111", 100, "images", "day")
    await run(svc, ALICE_B)
    await run(svc, ALICE_B)  # B's grant lifts B's own limit (within the operator's 3)
    in_a = (await svc.quota_status(ALICE_A)).get("user_daily_images")
    assert in_a is not None and in_a.limit == 1 and in_a.remaining == 1  # B's use is not A's
    await run(svc, ALICE_A)
    with pytest.raises(QuotaExceeded):  # ... not A's
        await run(svc, ALICE_A)
    assert await svc.store.check() == []


async def test_job_for_answers_only_inside_the_callers_community(svc: ImageService) -> None:
    made = await run(svc, ALICE_A)
    assert made.public_id and len(made.public_id) <= 32 and not made.public_id.isdigit()
    found = await svc.job_for(BOB_A, made.public_id)
    assert found is not None and found.id == made.job_id
    assert await svc.job_for(ALICE_B, made.public_id) is None  # another community
    assert await svc.job_for(Identity("slack", "111", "A"), made.public_id) is None
    for bad in (str(made.job_id), "1", "9" * 23, "x" * 33, "", "../etc", "a b c d e f g h i j k"):
        assert await svc.job_for(BOB_A, bad) is None
    dm = Identity("discord", "111", None)
    mine = await run(svc, dm)
    assert (await svc.job_for(dm, mine.public_id)) is not None
    assert await svc.job_for(Identity("discord", "222", None), mine.public_id) is None
    assert await svc.job_for(BOB_A, mine.public_id) is None


async def test_every_admin_action_is_audited_in_its_community(svc: ImageService) -> None:
    await svc.admin_set_limits(ADMIN_A, "111", {"user_daily_images": 2})
    await svc.admin_set_limits(ADMIN_A, "111", {"user_daily_images": 1})
    await svc.admin_grant(ADMIN_A, "111", 4, "images", "day")
    await svc.admin_ban(ADMIN_A, "222", "spam")
    await svc.admin_unban(ADMIN_A, "222")
    await svc.admin_ban(ADMIN_B, "111")
    entries = await svc.audit(ADMIN_A, limit=10)
    assert [e.action for e in entries] == ["unban", "ban", "grant", "limits", "limits"]
    assert {e.community_scope for e in entries} == {"community:discord:A"}
    assert {e.actor for e in entries} == {ADMIN_A.user_scope}
    limits = entries[3]
    assert limits.target == "member:discord:A:111"
    assert limits.before == {"user_daily_images": 2} and limits.after == {"user_daily_images": 1}
    assert entries[2].before["granted"] == 0 and entries[2].after["granted"] == 4
    assert [e.action for e in await svc.audit(ADMIN_B)] == ["ban"]
    assert len(await svc.audit(OPERATOR, limit=100)) == 6
    await svc.admin_set_limits(OPERATOR, "user:discord:111", {"user_daily_images": 9})
    newest = (await svc.audit(OPERATOR, limit=1))[0]
    assert newest.actor == "operator" and newest.community_scope is None
