"""Usage charts: PNGs for data and for no data, and ``pixelsmith usage --chart FILE.png``."""

from __future__ import annotations

import argparse
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bots.cli_admin import add_admin_commands
from core.charts import MAX_GROUPS, _series, chart_title, spend_chart_png
from core.config import Settings
from core.service import ImageService, OfflineProvider
from core.store import QuotaSettings, Store
from core.types import DailySpend, Identity

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
QUOTA = QuotaSettings()


def check_png(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format == "PNG"
        width, height = image.size
    assert 600 <= width <= 2000 and 300 <= height <= 1500
    return width, height


def rows(days: int = 5, groups: int = 3) -> list[DailySpend]:
    start = date(2026, 11, 1)
    return [
        DailySpend(
            day=start + timedelta(days=d),
            group=f"community:discord:{g}",
            jobs=1,
            cost_micros=(g + 1) * 120_000 * (d % 3 + 1),
        )
        for d in range(days)
        for g in range(groups)
        if (d + g) % 4 != 3  # some gaps
    ]


async def test_chart_with_data() -> None:
    png = await spend_chart_png(
        rows(), title=chart_title("community", date(2026, 11, 1)), by="community"
    )
    check_png(png)


async def test_chart_without_data_says_no_spend() -> None:
    empty = await spend_chart_png([], title=chart_title("model", None), by="model")
    check_png(empty)
    # an empty chart is not the same picture as a chart with bars
    assert empty != await spend_chart_png(rows(1, 1), title=chart_title("model", None), by="model")


async def test_single_day_many_groups_and_chinese() -> None:
    many = [DailySpend(date(2026, 11, 3), f"model-{i}", 1, 1_000 * (i + 1)) for i in range(20)]
    check_png(
        await spend_chart_png(many, title=chart_title("model", None, "zh"), by="model", locale="zh")
    )


def test_series_fills_gaps_and_lumps_small_groups() -> None:
    data = [
        DailySpend(date(2026, 11, 1), "a", 1, 2_000_000),
        DailySpend(date(2026, 11, 4), "b", 1, 500_000),
    ]
    days, series = _series(data, "other")
    assert days == [date(2026, 11, d) for d in (1, 2, 3, 4)]
    assert series == {"a": [2.0, 0.0, 0.0, 0.0], "b": [0.0, 0.0, 0.0, 0.5]}
    many = [DailySpend(date(2026, 11, 1), f"g{i:02}", 1, 1_000 * (i + 1)) for i in range(12)]
    _, lumped = _series(many, "other")
    assert len(lumped) == MAX_GROUPS and "other" in lumped
    assert sum(v[0] for v in lumped.values()) == pytest.approx(
        sum(r.cost_micros for r in many) / 1e6
    )


def test_titles() -> None:
    assert chart_title("community", date(2026, 11, 1)) == (
        "Daily spend by community since 2026-11-01"
    )
    assert chart_title("model", None) == "Daily spend by model"


# -- the CLI ----------------------------------------------------------------------------------


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(f"sqlite:///{tmp_path / 'charts.db'}")
    try:
        yield s
    finally:
        await s.close()


async def charged_job(store: Store, key: str, community: str, day: int, cost: int) -> None:
    from core.types import JobState

    identity = Identity("discord", "42", community)
    now = datetime(2026, 11, day, 12, tzinfo=UTC)
    claim = await store.begin_job(
        idem_key=key,
        identity=identity,
        request={"prompt": "a fox"},
        model="gpt-image-2",
        images=1,
        worst_cost_micros=cost,
        limits=await store.effective_limits(QUOTA, identity),
        now=now,
    )
    await store.mark_submitted(claim.job.id, now=now)
    await store.settle(
        claim.job.id, state=JobState.SUCCEEDED, cost_micros=cost, images_delivered=1, now=now
    )


async def usage_cli(store: Store, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="pixelsmith")
    add_admin_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["usage", *argv])
    out, err = io.StringIO(), io.StringIO()
    service = ImageService(Settings(quota=QUOTA), store=store, provider=OfflineProvider())
    code = await args.admin_handler(args, service=service, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


async def test_usage_chart_cli_writes_the_file(store: Store, tmp_path: Path) -> None:
    for i, (community, day) in enumerate([("G1", 1), ("G2", 1), ("G1", 3)]):
        await charged_job(store, f"k{i}", community, day, 40_000 * (i + 1))
    assert len(await store.daily_spend(None, "community")) == 3
    target = tmp_path / "spend.png"
    code, out, err = await usage_cli(store, "--by", "community", "--chart", str(target))
    assert (code, err) == (0, "")
    assert out == f"{target}\n"
    check_png(target.read_bytes())


async def test_usage_chart_cli_without_spend(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "empty.png"
    code, out, _ = await usage_cli(store, "--since", "2026-11-01", "--chart", str(target))
    assert code == 0 and out == f"{target}\n"
    check_png(target.read_bytes())


async def test_usage_chart_cli_unwritable_path(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "spend.png"
    code, out, err = await usage_cli(store, "--chart", str(target))
    assert code == 2 and out == ""
    assert err.startswith("Cannot write the chart to ") and str(target) in err
