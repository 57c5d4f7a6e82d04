"""The dashboard's member tools over HTTP: usage per member, a member's limit, grants, bans, the
audit log and the spend CSV — all as the admin caller, inside the caller's community only."""

from __future__ import annotations

import csv
import io

import pytest

from core.errors import QuotaExceeded
from tests.web.conftest import ALICE, BOB, MALLORY, Web, make_job


async def admin(webapp: Web) -> dict[str, str]:
    await webapp.login(ALICE, "dashboard", admin=True)
    return {"X-CSRF-Token": await webapp.csrf("/dashboard")}


async def post(webapp: Web, action: str, headers: dict[str, str], **body: str) -> dict[str, object]:
    answer = await webapp.client.post(f"/api/dashboard/{action}", json=body, headers=headers)
    data: dict[str, object] = await answer.json()
    data["status"] = answer.status
    return data


async def test_members_table_shows_this_communitys_members_only(webapp: Web) -> None:
    for _ in range(2):
        await make_job(webapp.service, BOB, "bob's")
    await make_job(webapp.service, ALICE, "alice's")
    await make_job(webapp.service, MALLORY, "elsewhere")
    await admin(webapp)
    html = await (await webapp.client.get("/dashboard")).text()
    assert 'data-member="222"' in html and 'data-member="111"' in html
    assert 'data-member="333"' not in html


async def test_a_members_limit_binds_that_member_only(webapp: Web) -> None:
    headers = await admin(webapp)
    done = await post(webapp, "limits", headers, member="222", key="user_daily_images", value="1")
    assert done["ok"] is True
    await make_job(webapp.service, BOB)
    with pytest.raises(QuotaExceeded):
        await make_job(webapp.service, BOB)
    await make_job(webapp.service, ALICE)  # the rest of the community is not limited
    bob_elsewhere = BOB.__class__("discord", "222", community_id="777", channel_id="6001")
    await make_job(webapp.service, bob_elsewhere)  # nor Bob in another community


async def test_grants_bans_and_the_audit_log(webapp: Web) -> None:
    headers = await admin(webapp)
    assert (await post(webapp, "limits", headers, key="user_daily_images", value="1"))["ok"]
    await make_job(webapp.service, BOB)
    granted = await post(
        webapp, "grant", headers, member="222", amount="2", unit="images", period="day"
    )
    assert granted["ok"] is True
    await make_job(webapp.service, BOB)  # the grant lifts today's limit for Bob
    bad = await post(
        webapp, "grant", headers, member="222", amount="1e309", unit="images", period="day"
    )
    assert bad["status"] == 400 and bad["error"]
    assert (await post(webapp, "ban", headers, member="222", reason="spam"))["ok"]
    with pytest.raises(QuotaExceeded):
        await make_job(webapp.service, BOB)
    assert (await post(webapp, "unban", headers, member="222"))["ok"]
    await make_job(webapp.service, BOB)
    html = await (await webapp.client.get("/dashboard")).text()
    assert html.count("<tr><td>") >= 4  # limits, grant, ban, unban: one audit row each


async def test_bad_member_ids_are_refused(webapp: Web) -> None:
    headers = await admin(webapp)
    for member in ("member:discord:777:333", "*", "a:b", "x" * 100):
        answer = await post(webapp, "ban", headers, member=member)
        assert answer["status"] == 400, member
    await make_job(webapp.service, MALLORY)  # nobody elsewhere was touched


async def test_the_spend_csv_is_this_communitys(webapp: Web) -> None:
    await make_job(webapp.service, ALICE)
    await make_job(webapp.service, MALLORY)
    await admin(webapp)
    answer = await webapp.client.get("/dashboard/spend.csv")
    assert answer.status == 200 and answer.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO(await answer.text())))
    assert rows[0] == ["day", "member", "jobs", "cost_usd"]
    assert [r[1] for r in rows[1:]] == ["111"]
