"""The admin dashboard over HTTP: only admin sessions, only the caller's community, every value
through the one limit language (a bad one: the sentence, nothing stored)."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import QuotaExceeded
from core.types import Identity
from tests.web.conftest import ALICE, MALLORY, Web, make_job


async def admin(webapp: Web) -> dict[str, str]:
    await webapp.login(ALICE, "dashboard", admin=True)
    return {"X-CSRF-Token": await webapp.csrf("/dashboard")}


async def test_the_daily_json_is_this_communitys_ledger(webapp: Web) -> None:
    for prompt in ("one", "two --n 3"):  # two jobs, four images
        await make_job(webapp.service, ALICE, prompt)
    await make_job(webapp.service, MALLORY, "elsewhere")
    await admin(webapp)
    days = (await (await webapp.client.get("/api/dashboard/daily")).json())["days"]
    assert len(days) == 30 and days[0]["day"] < days[-1]["day"]
    [ours] = [
        r
        for r in await webapp.service.daily_spend(Identity.operator(), None, by="community")
        if r.group == ALICE.community_scope
    ]
    assert (ours.jobs, ours.images) == (2, 4)
    assert days[-1] == {
        "day": ours.day.isoformat(),
        "cost_micros": ours.cost_micros,
        "jobs": 2,
        "images": 4,
    }
    assert sum(d["images"] for d in days) == 4  # the other community's image is not here


async def test_a_limit_set_on_the_dashboard_is_enforced(webapp: Web) -> None:
    headers = await admin(webapp)
    answer = await webapp.client.post(
        "/api/dashboard/limits",
        json={"key": "user_daily_images", "value": "1"},
        headers=headers,
    )
    assert answer.status == 200 and (await answer.json()) == {"ok": True}
    await make_job(webapp.service, ALICE)
    with pytest.raises(QuotaExceeded):
        await make_job(webapp.service, ALICE)
    await make_job(webapp.service, MALLORY)  # another community is not affected
    lifted = await webapp.client.post(
        "/api/dashboard/limits",
        json={"key": "user_daily_images", "value": "unlimited"},
        headers=headers,
    )
    assert lifted.status == 200
    await make_job(webapp.service, ALICE)


@pytest.mark.parametrize(
    "body",
    [
        {"key": "user_daily_images", "value": "inf"},
        {"key": "user_daily_images", "value": "1e30"},
        {"key": "user_daily_usd", "value": "1e309"},
        {"key": "user_daily_images", "value": "-1"},
        {"key": "user_daily_images", "value": "2.5"},
        {"key": "user_daily_images", "value": "abc"},
        {"key": "user_daily_images", "value": "\u202e5"},
        {"key": "no_such_limit", "value": "5"},
        {"key": "cooldown_s", "value": "5"},
        {"key": "user_daily_images"},
        {"key": ["user_daily_images"], "value": "5"},
        {"key": "user_daily_images", "value": 5},
    ],
)
async def test_bad_limits_are_refused_with_the_sentence(webapp: Web, body: dict[str, Any]) -> None:
    headers = await admin(webapp)
    answer = await webapp.client.post("/api/dashboard/limits", json=body, headers=headers)
    assert answer.status == 400
    data = await answer.json()
    assert data["ok"] is False and data["error"] and "Traceback" not in data["error"]
    for _ in range(3):
        await make_job(webapp.service, ALICE)  # nothing was stored


async def test_unreadable_bodies_are_400(webapp: Web) -> None:
    headers = await admin(webapp)
    for raw, kind in (
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"key": "' + b"x" * 5000 + b'"}', "application/json"),
        (b"key=user_daily_images&value=1", "application/x-www-form-urlencoded"),
        (b"\xff\xfe", "application/json"),
    ):
        answer = await webapp.client.post(
            "/api/dashboard/limits", data=raw, headers={**headers, "Content-Type": kind}
        )
        assert answer.status in (400, 403), (raw[:20], answer.status)


async def test_members_cannot_use_the_admin_endpoints(webapp: Web) -> None:
    await webapp.login(ALICE, "gallery")
    csrf = await webapp.csrf()
    for method, path in (("GET", "/dashboard"), ("GET", "/api/dashboard/daily")):
        assert (await webapp.client.request(method, path)).status == 403
    answer = await webapp.client.post(
        "/api/dashboard/limits",
        json={"key": "user_daily_images", "value": "0"},
        headers={"X-CSRF-Token": csrf},
    )
    assert answer.status == 403
    await make_job(webapp.service, ALICE)  # still allowed: nothing was stored


async def test_a_dm_admin_link_opens_no_dashboard(webapp: Web) -> None:
    dm = ALICE.__class__("discord", "111", community_id=None, channel_id="5")
    await webapp.login(dm, "dashboard", admin=True)
    assert (await webapp.client.get("/dashboard")).status == 403
