"""The store's one time convention: aware UTC in, aware UTC out, on every backend and session
time zone; a naive input is UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy.engine import make_url

from core.store import EffectiveLimits, Store
from core.store.clock import day_period, month_period, next_day, next_month, utc
from core.types import Identity, JobState

NOW = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
EAST = timezone(timedelta(hours=8))


def test_utc_reads_naive_as_utc_and_converts_aware() -> None:
    assert utc(datetime(2026, 1, 2, 3, 4)) == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    assert utc(datetime(2026, 1, 2, 11, 4, tzinfo=EAST)).hour == 3
    assert utc("2026-01-02 03:04:05.000006").tzinfo is UTC
    assert utc(None) is None


def test_periods_are_utc_calendar_days_and_months() -> None:
    east = NOW.astimezone(EAST)  # already 1 January in UTC+8, still 31 December in UTC
    assert day_period(east) == "day:2026-12-31"
    assert month_period(east) == "month:2026-12"
    assert next_day(east) == datetime(2027, 1, 1, tzinfo=UTC)
    assert next_month(east) == datetime(2027, 1, 1, tzinfo=UTC)


async def test_times_come_back_aware_utc_whatever_the_session_zone(db_url: str) -> None:
    url = db_url
    if db_url.startswith("postgresql"):  # a session zone far from UTC must not shift anything
        parsed = make_url(db_url)
        options = parsed.query["options"]
        assert isinstance(options, str)
        url = parsed.update_query_dict(
            {"options": f"{options} -ctimezone=Asia/Shanghai"}
        ).render_as_string(hide_password=False)
    store = await Store.open(url)
    try:
        who = Identity("discord", "1", "G")
        claim = await store.begin_job(
            idem_key="t", identity=who, request={"prompt": "p"}, model="m", images=1,
            worst_cost_micros=1, limits=EffectiveLimits(user_daily_images=5),
            now=NOW.replace(tzinfo=None),  # naive = UTC
        )  # fmt: skip
        assert claim.job.created_at == NOW and claim.job.created_at.tzinfo is UTC
        await store.settle(
            claim.job.id, state=JobState.SUCCEEDED, cost_micros=1, images_delivered=1, now=NOW
        )
        job = await store.get_job(claim.job.id)
        assert job is not None and job.created_at == NOW and job.created_at.tzinfo is UTC
        assert [j.updated_at for j in await store.history(who.user_scope)] == [NOW]
        await store.ban("user:discord:2", now=NOW.astimezone(EAST))
        assert [b[2] for b in await store.bans()] == [NOW]
        status = await store.quota_status(who, EffectiveLimits(user_daily_images=5), now=NOW)
        daily = status.get("user_daily_images")
        assert daily is not None and daily.used == 1 and daily.resets_at == next_day(NOW)
        assert [d.day.isoformat() for d in await store.daily_spend()] == ["2026-12-31"]
        assert await store.check() == []
    finally:
        await store.close()
