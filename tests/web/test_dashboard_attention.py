"""The dashboard's jobs that need attention, its bans with Unban, and the ledger as CSV, over
HTTP on SQLite and PostgreSQL: only the caller's community, Unban through the audited service
call, CSV cells that no spreadsheet runs as formulas."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Any

import pytest

from core.errors import PixelsmithError
from core.types import Identity, JobState
from tests.fakes.gateway import Behavior, FakeGateway, Fault
from tests.store.conftest import db_url  # noqa: F401  (SQLite and PostgreSQL)
from tests.test_costs import usage
from tests.web.conftest import ALICE, BOB, MALLORY, Web, make_job

ADMIN = replace(ALICE, is_admin=True)


async def dashboard(webapp: Web) -> tuple[str, dict[str, str]]:
    await webapp.login(ALICE, "dashboard", admin=True)
    html = await (await webapp.client.get("/dashboard")).text()
    return html, {"X-CSRF-Token": await webapp.csrf("/dashboard")}


async def dropped(webapp: Web, gateway: FakeGateway, who: Identity, prompt: str) -> str:
    """A job whose connection drops after it was sent: outcome unknown, charged at worst."""
    gateway.script(Behavior(fault=Fault.DROP))
    with pytest.raises(PixelsmithError):
        await make_job(webapp.service, who, prompt)
    [job] = [j for j in await webapp.service.history(who, limit=20) if j.prompt == prompt]
    assert job.state == JobState.UNKNOWN_CHARGED
    return job.public_id


async def test_jobs_that_need_attention_are_this_communitys_unknown_and_capped_ones(
    web_factory: Any,
    gateway: FakeGateway,
    db_url: str,  # noqa: F811
) -> None:
    webapp: Web = await web_factory(database={"url": db_url})
    fine = await make_job(webapp.service, ALICE, "a fine picture")
    unknown = await dropped(webapp, gateway, ALICE, "a dropped picture")
    gateway.script(Behavior(usage_override=usage(10**18)))
    capped = await make_job(webapp.service, BOB, "an absurdly priced picture --q low")
    elsewhere = await dropped(webapp, gateway, MALLORY, "another community's drop")
    html, _ = await dashboard(webapp)
    table = html.split('id="attention"')[1].split("</table>")[0]
    assert f'data-job="{unknown}"' in table and f'data-job="{capped}"' in table
    assert fine not in table and elsewhere not in table
    assert "Outcome unknown" in table and "Cost capped" in table
    assert table.index(capped) < table.index(unknown)  # newest first


async def test_nothing_to_look_at_says_so(webapp: Web) -> None:
    await make_job(webapp.service, ALICE, "all fine")
    html, _ = await dashboard(webapp)
    assert 'id="attention"' not in html and "No job needs attention." in html
    assert "Nobody is banned in this community." in html


async def test_bans_of_this_community_are_listed_and_unban_is_audited(
    web_factory: Any,
    db_url: str,  # noqa: F811
) -> None:
    webapp: Web = await web_factory(database={"url": db_url})
    service = webapp.service
    await service.admin_ban(ADMIN, "222", "spam")
    await service.admin_ban(replace(MALLORY, is_admin=True), "444", "elsewhere")
    await service.admin_ban(Identity.operator(), "user:discord:555", "everywhere")
    html, headers = await dashboard(webapp)
    bans = html.split('id="bans"')[1].split("</table>")[0]
    assert 'data-member="222"' in bans and "spam" in bans
    assert "444" not in bans and "555" not in bans
    answer = await webapp.client.post(
        "/api/dashboard/unban", json={"member": "222"}, headers=headers
    )
    assert answer.status == 200 and (await answer.json())["ok"] is True
    assert await service.admin_bans(ADMIN) == []
    [entry, *_] = await service.audit(ADMIN)
    assert (entry.action, entry.target, entry.actor) == (
        "unban",
        "member:discord:900:222",
        ALICE.user_scope,
    )
    assert entry.before == {"reason": "spam"}
    # the other community's ban is untouched, and cannot be lifted from here
    other = await service.admin_bans(replace(MALLORY, is_admin=True))
    assert [b.target for b in other] == ["444"]
    for target in ("444", "member:discord:777:444", "user:discord:555", "*"):
        await webapp.client.post("/api/dashboard/unban", json={"member": target}, headers=headers)
    assert [b.target for b in await service.admin_bans(replace(MALLORY, is_admin=True))] == ["444"]
    assert len(await service.store.bans()) == 2
    page = await (await webapp.client.get("/dashboard")).text()
    assert "Nobody is banned in this community." in page


async def test_the_ledger_csv_is_this_communitys_rows(
    web_factory: Any,
    gateway: FakeGateway,
    db_url: str,  # noqa: F811
) -> None:
    webapp: Web = await web_factory(
        database={"url": db_url},
        quota={"user_daily_usd": 50, "user_daily_images": 40, "community_monthly_usd": 500},
        # (the ledger has rows for limited buckets only)
    )
    ours = [
        await make_job(webapp.service, ALICE, "one"),
        await make_job(webapp.service, BOB, "two"),
    ]
    theirs = await make_job(webapp.service, MALLORY, "three")
    await dashboard(webapp)
    answer = await webapp.client.get("/dashboard/ledger.csv")
    assert answer.status == 200 and answer.content_type == "text/csv"
    assert "pixelsmith-ledger.csv" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await answer.text())))
    assert {r["job"] for r in rows} == set(ours) and theirs not in {r["job"] for r in rows}
    assert {r["member"] for r in rows} == {"111", "222"}
    jobs = {j.public_id: j for j in await webapp.service.history(ALICE, limit=5)}
    jobs |= {j.public_id: j for j in await webapp.service.history(BOB, limit=5)}
    for public_id in ours:
        mine = [r for r in rows if r["job"] == public_id]
        kinds = {r["kind"] for r in mine}
        assert {"reserve", "release", "capture"} <= kinds, kinds
        # each bucket's capture in micro-USD is what the job cost (the ledger and the job agree)
        captured = {
            int(r["amount"]) for r in mine if r["kind"] == "capture" and r["unit"] == "micro_usd"
        }
        assert captured == {jobs[public_id].cost_micros}


async def test_ledger_cells_cannot_become_formulas(web_factory: Any) -> None:
    webapp: Web = await web_factory(quota={"user_daily_images": 40})
    hostile = Identity("discord", "=HYPERLINK(1)", community_id="900", channel_id="5001")
    await make_job(webapp.service, hostile, "a trap")
    await dashboard(webapp)
    text = await (await webapp.client.get("/dashboard/ledger.csv")).text()
    members = {r["member"] for r in csv.DictReader(io.StringIO(text))}
    assert members == {"'=HYPERLINK(1)"}
    assert ",=HYPERLINK" not in text


async def test_members_and_other_communities_get_403_for_the_new_parts(webapp: Web) -> None:
    await webapp.login(ALICE, "gallery")  # a member's session, not an admin's
    assert (await webapp.client.get("/dashboard/ledger.csv")).status == 403
