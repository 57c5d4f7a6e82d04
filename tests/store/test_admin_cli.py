"""The admin CLI handlers: show, set, grant, ban/unban, usage (table, CSV, --check), history."""

from __future__ import annotations

import argparse
import csv
import io

import pytest
from sqlalchemy import update

from bots.cli_admin import add_admin_commands
from core.config import Settings
from core.errors import QuotaExceeded
from core.service import ImageService, OfflineProvider
from core.store import QuotaSettings, Store, effective_limits
from core.store.statements import BUCKET
from core.types import Identity, JobState

QUOTA = QuotaSettings(user_daily_images=5, community_monthly_usd=10)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pixelsmith")
    add_admin_commands(p.add_subparsers(dest="command"))
    return p


async def cli(store: Store, *argv: str) -> tuple[int, str, str]:
    args = parser().parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    service = ImageService(Settings(quota=QUOTA), store=store, provider=OfflineProvider())
    code = await args.admin_handler(args, service=service, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


async def job(
    store: Store, key: str, user: str = "42", community: str | None = "G", cost: int = 20_000
) -> None:
    identity = Identity("discord", user, community)
    claim = await store.begin_job(
        idem_key=key,
        identity=identity,
        request={"prompt": f"a fox {key}"},
        model="gpt-image-1",
        images=1,
        worst_cost_micros=cost,
        limits=await store.effective_limits(QUOTA, identity),
    )
    await store.mark_submitted(claim.job.id)
    await store.settle(claim.job.id, state=JobState.SUCCEEDED, cost_micros=cost, images_delivered=1)


async def test_show_grant_ban_unban(store: Store) -> None:
    await job(store, "k1")
    code, out, _ = await cli(store, "quota", "show", "discord:42", "--community", "G")
    assert code == 0
    assert "user_daily_images" in out and "community_monthly_usd" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines()[3:]}
    assert lines["user_daily_images"][1:4] == ["5", "1", "0"]  # max, used, reserved
    code, out, _ = await cli(store, "quota", "grant", "discord:42", "3", "--period", "day")
    assert code == 0 and "granted 3 images to user:discord:42" in out
    status = await store.quota_status(
        Identity("discord", "42"), effective_limits(QUOTA, Identity("discord", "42"))
    )
    assert status.get("user_daily_images").remaining == 5 + 3 - 1  # type: ignore[union-attr]
    code, out, _ = await cli(store, "quota", "ban", "discord:42", "--reason", "spam")
    assert code == 0 and "banned" in out
    _, out, _ = await cli(store, "quota", "show", "discord:42")
    assert "BANNED: spam" in out
    with pytest.raises(QuotaExceeded) as exc:
        await job(store, "k2")
    assert exc.value.key == "quota.banned"
    code, out, _ = await cli(store, "quota", "unban", "discord:42")
    assert code == 0 and "no longer banned" in out
    await job(store, "k3")
    assert await store.check() == []


async def test_set_overrides_win_over_config(store: Store) -> None:
    code, out, _ = await cli(store, "quota", "set", "discord:42", "--daily-images", "1")
    assert code == 0 and "user_daily_images=1" in out
    await job(store, "s1")
    with pytest.raises(QuotaExceeded) as exc:
        await job(store, "s2")
    assert exc.value.params["limit"] == "user_daily_images"
    code, _, _ = await cli(
        store, "quota", "set", "--community", "discord:G", "--budget-usd", "0.05"
    )
    assert code == 0
    await job(store, "s3", user="7")
    with pytest.raises(QuotaExceeded) as exc:
        await job(store, "s4", user="8")
    assert exc.value.params["limit"] == "community_monthly_usd"
    assert exc.value.params["remaining"] == pytest.approx(0.01)  # 0.05 - 2 x 0.02
    code, out, _ = await cli(store, "quota", "set", "discord:42", "--clear")
    assert code == 0 and "removed" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["quota", "show", "discord:"],
        ["quota", "grant", "discord:42", "lots"],
        ["quota", "set", "discord:42"],
        ["quota", "set", "discord:42", "--daily-images", "-3"],
        ["quota", "set", "discord:42", "--budget-usd", "5"],
        ["quota", "set", "discord:42", "--community", "G", "--daily-images", "1"],
        ["usage", "--since", "yesterday"],
    ],
)
async def test_wrong_input_is_one_friendly_line(store: Store, argv: list[str]) -> None:
    code, out, err = await cli(store, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


async def test_usage_table_csv_and_check(store: Store) -> None:
    await job(store, "u1", user="1", cost=10_000)
    await job(store, "u2", user="2", cost=30_000)
    await job(store, "u3", user="2", cost=30_000)
    code, out, _ = await cli(store, "usage", "--by", "user")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["user", "jobs", "images", "cost"]
    assert lines[2].split() == ["user:discord:2", "2", "2", "$0.0600"]
    assert lines[-1].split() == ["total", "3", "3", "$0.0700"]
    code, out, _ = await cli(store, "usage", "--by", "model", "--csv", "--since", "2000-01-01")
    assert list(csv.reader(io.StringIO(out))) == [
        ["model", "jobs", "images", "cost_usd"],
        ["gpt-image-1", "3", "3", "0.070000"],
    ]
    code, out, _ = await cli(store, "usage", "--check")
    assert code == 0 and out.startswith("ok")
    with store.engine.begin() as conn:  # tamper with a counter behind the ledger's back
        conn.execute(update(BUCKET).values(spent=BUCKET.c.spent + 1))
    code, out, _ = await cli(store, "usage", "--check")
    assert code == 1 and "difference" in out and "spent" in out


async def test_history(store: Store) -> None:
    code, out, _ = await cli(store, "history", "discord:42")
    assert code == 0 and "no jobs" in out
    for i in range(3):
        await job(store, f"h{i}")
    code, out, _ = await cli(store, "history", "discord:42", "--limit", "2")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["job", "time", "state", "cost"]
    assert len(lines) == 4 and "a fox h2" in lines[2] and "SUCCEEDED" in lines[2]


async def test_audit_shows_every_community_to_the_operator_or_one(store: Store) -> None:
    """``pixelsmith audit``: the operator sees every community's admin actions (and its own);
    ``--community`` narrows to one (a Discord server, a Slack Grid org), nothing of another."""
    service = ImageService(Settings(quota=QUOTA), store=store, provider=OfflineProvider())
    guild_admin = Identity("discord", "1", "A", is_admin=True)
    org_admin = Identity("slack", "W0ADMIN01", "T0GRID001", is_admin=True, org_id="E0ORG0001")
    await service.admin_set_limits(guild_admin, "42", {"user_daily_images": 2})
    await service.admin_ban(org_admin, "W0BOB0001", "spam")
    code, _, _ = await cli(store, "quota", "set", "discord:42", "--daily-images", "3")
    assert code == 0

    def rows(text: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(text), delimiter="\t"))

    code, out, _ = await cli(store, "audit")
    assert code == 0
    everything = rows(out)
    assert {r["community"] for r in everything} == {
        "community:discord:A",
        "community:slack:E0ORG0001",
        "-",
    }
    code, out, _ = await cli(store, "audit", "--community", "discord:A")
    (only_a,) = rows(out)
    assert only_a["action"] == "limits" and only_a["target"] == "member:discord:A:42"
    assert '"user_daily_images": 2' in only_a["after"]
    code, out, _ = await cli(store, "audit", "--community", "slack:E0ORG0001")
    (only_org,) = rows(out)
    assert only_org["action"] == "ban" and only_org["target"] == "member:slack:E0ORG0001:W0BOB0001"
    code, out, _ = await cli(store, "audit", "--community", "slack:T0GRID001")
    assert rows(out) == []  # the workspace is not the community in a Grid
