"""Quota buckets: which counters a job reserves on, the reservation itself, the cooldown, what a
settle captures, and the quota status a user is shown.

A bucket is one counter ``(scope, period, unit)``. A reservation is a conditional upsert
(``... WHERE reserved + spent + amount <= limit + granted``), so two concurrent jobs can never
both take the last unit. Buckets are always touched in sorted (scope, period, unit) order, so
PostgreSQL never deadlocks.

Only limited buckets are reserved on, so a limit set in the middle of a period (by an admin, the
CLI or the config) finds jobs of that period its bucket never saw. Before a reservation,
:func:`carry` moves them in: one ``carry`` ledger row per such job (its images or cost, as the
quota status counts them) added to ``spent``, so a new limit counts the use already made in its
period, also after it was lifted and set again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select, update

from core.store.clock import (
    bind_time,
    day_period,
    day_start,
    month_period,
    month_start,
    next_day,
    next_month,
    now_or,
    utc,
)
from core.store.engine import Room, Tx
from core.store.policy import (
    UNSET,
    EffectiveLimits,
    QuotaSettings,
    apply_overrides,
    effective_limits,
    micros_to_usd,
    restrict,
)
from core.store.statements import (
    BAN_SCOPES,
    BUCKET,
    JOB,
    LEDGER,
    OVERRIDE_SCOPES,
    USER_STATE,
    from_json,
    scopes_of,
)
from core.types import CHARGED_STATES, LIVE_STATES, Identity, JobState, LimitStatus, QuotaStatus

Failure = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Tiers:
    """The limits of one identity by tier (see :mod:`core.store.policy`): the operator bound
    (counted on the user's own buckets, across communities) and the community's own value
    (counted on the member's buckets: what the user did in this community)."""

    bound: EffectiveLimits
    local: EffectiveLimits

    @property
    def effective(self) -> EffectiveLimits:
        return self.bound if self.local is UNSET else restrict(self.bound, self.local)


def resolve(limits: EffectiveLimits, overrides: dict[str, dict[str, Any]]) -> Tiers:
    """``limits`` (the config's) with the database overrides of each tier, keyed by the tier
    names of :data:`core.store.statements.OVERRIDE_SCOPES`."""
    if not overrides:  # the common case: nothing set in the database
        return Tiers(limits, UNSET)
    bound = apply_overrides(limits, overrides.get("community") or {})
    bound = apply_overrides(bound, overrides.get("user") or {})
    legacy = apply_overrides(UNSET, overrides.get("any_community") or {})
    local = apply_overrides(UNSET, overrides.get("members") or {})
    local = apply_overrides(local, overrides.get("member") or {})
    if legacy == UNSET:
        return Tiers(bound, UNSET if local == UNSET else local)
    return Tiers(bound, restrict(legacy, local))


@dataclass(frozen=True)
class Spec:
    """One bucket a job reserves on."""

    policy: str
    scope: str
    period: str
    unit: str  # images | micro_usd | jobs
    limit: int
    amount: int
    resets_at: datetime | None
    #: which jobs count on this bucket: (user scope or None for any user, community scope or
    #: None for any, whether only jobs outside any community count)
    jobs: tuple[str | None, str | None, bool] = (None, None, False)


# policy name, scope ("user" | "community"), period ("day" | "month" | "live"), bucket unit,
# EffectiveLimits attribute, what is reserved ("images" | "worst" | "one")
POLICIES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("user_daily_images", "user", "day", "images", "user_daily_images", "images"),
    ("user_monthly_images", "user", "month", "images", "user_monthly_images", "images"),
    ("user_daily_usd", "user", "day", "micro_usd", "user_daily_micros", "worst"),
    ("user_monthly_usd", "user", "month", "micro_usd", "user_monthly_micros", "worst"),
    (
        "community_monthly_usd",
        "community",
        "month",
        "micro_usd",
        "community_monthly_micros",
        "worst",
    ),
    ("user_concurrent_jobs", "user", "live", "jobs", "user_concurrent_jobs", "one"),
)


def all_specs(
    identity: Identity, tiers: Tiers, images: int, worst: int, now: datetime
) -> list[tuple[Spec, bool]]:
    """Every bucket a job of ``identity`` counts on, with whether it is limited: the operator's
    (user or community scope) for each policy, plus the community's own where it set a value
    (the member's scope; the community budget on every member's scope ``member:<p>:<c>:*``)."""
    scopes = {"user": identity.user_scope, "community": identity.community_scope}
    local_scopes = {"user": identity.member_scope, "community": identity.members_scope}
    user, community = identity.user_scope, identity.community_scope
    counted: dict[str, tuple[str | None, str | None, bool]] = {  # whose jobs each scope counts
        "user": (user, None, False),
        "community": (None, community, False),
        "local user": (user, community, community is None),
        "local community": (None, community, False),
    }
    periods = {"day": day_period(now), "month": month_period(now), "live": "live"}
    resets = {"day": next_day(now), "month": next_month(now), "live": None}
    amounts = {"images": images, "worst": worst, "one": 1}
    out = []
    for policy, scope_kind, period, unit, attr, amount in POLICIES:
        scope = scopes[scope_kind]
        if scope is None:
            continue
        at = (periods[period], unit, amounts[amount], resets[period])
        bound = getattr(tiers.bound, attr)
        jobs = counted[scope_kind]
        spec = Spec(policy, scope, at[0], at[1], bound or 0, at[2], at[3], jobs)
        out.append((spec, bound is not None))
        local, local_scope = getattr(tiers.local, attr), local_scopes[scope_kind]
        if local is not None and local_scope is not None:
            jobs = counted[f"local {scope_kind}"]
            out.append((Spec(policy, local_scope, at[0], at[1], local, at[2], at[3], jobs), True))
    return out


def specs(identity: Identity, tiers: Tiers, images: int, worst: int, now: datetime) -> list[Spec]:
    """The buckets a job reserves on, in lock order."""
    found = [s for s, limited in all_specs(identity, tiers, images, worst, now) if limited]
    found.sort(key=lambda s: (s.scope, s.period, s.unit))
    return found


def in_unit(unit: str, amount: int) -> float | int:
    return round(micros_to_usd(amount), 6) if unit == "micro_usd" else amount


def public_unit(unit: str) -> str:
    return "usd" if unit == "micro_usd" else unit


def cooldown(tx: Tx, user: str, cooldown_s: float, now: datetime) -> Failure | None:
    """Start the user's cooldown, or say how long is left."""
    if cooldown_s <= 0:
        return None
    threshold = bind_time(now - timedelta(seconds=cooldown_s), sqlite=tx.sqlite)
    at = bind_time(now, sqlite=tx.sqlite)
    if tx.one("cooldown", {"scope": user, "now": at, "threshold": threshold}):
        return None
    last = tx.one("last_job", {"scope": user})
    assert last is not None
    until = utc(last[0]) + timedelta(seconds=cooldown_s)
    wait = max(0.0, (until - now).total_seconds())
    return (
        "quota.cooldown",
        {"limit": "cooldown", "remaining": round(wait, 3), "unit": "seconds", "resets_at": until},
    )


def _period_start(spec: Spec, now: datetime) -> datetime:
    return day_start(now) if spec.period == day_period(now) else month_start(now)


def unseen(tx: Tx, spec: Spec, now: datetime, *, lock: bool = False) -> list[tuple[int, int]]:
    """The charged jobs of ``spec``'s period that count on its bucket but have no ledger row on
    it (made while it had no limit), with what each counts (images or micro-USD). Cheap when
    there are none: the newest such job already has a row. ``lock`` (a reservation) creates
    the bucket if need be and locks it first, so two processes never carry the same job."""
    if spec.unit == "jobs":  # a concurrency slot is momentary: nothing to carry
        return []
    user, community, dm = spec.jobs
    where = [
        JOB.c.created_at >= _period_start(spec, now),
        JOB.c.state.in_([s.value for s in CHARGED_STATES]),
    ]
    if user is not None:
        where.append(JOB.c.user_scope == user)
    if dm:
        where.append(JOB.c.community_scope.is_(None))
    elif community is not None:
        where.append(JOB.c.community_scope == community)
    elif user is None:
        return []  # a bucket of nobody's jobs
    seen = exists().where(
        LEDGER.c.job_id == JOB.c.id,
        LEDGER.c.scope == spec.scope,
        LEDGER.c.period == spec.period,
        LEDGER.c.unit == spec.unit,
    )
    newest = tx.execute(
        select(JOB.c.id, seen)
        .where(*where)
        .order_by(JOB.c.updated_at.desc(), JOB.c.id.desc())
        .limit(1)
    ).first()
    if newest is None or newest[1]:
        return []
    if lock:
        key = {"scope": spec.scope, "period": spec.period, "unit": spec.unit}
        tx.execute(
            tx.sql.insert(BUCKET)
            .values(**key, limit=spec.limit, granted=0, reserved=0, spent=0)
            .on_conflict_do_nothing(index_elements=["scope", "period", "unit"])
        )
        locked = select(BUCKET.c.id).where(*(BUCKET.c[k] == v for k, v in key.items()))
        tx.execute(locked if tx.sqlite else locked.with_for_update()).scalar_one()
    amount = JOB.c.images_delivered if spec.unit == "images" else JOB.c.cost_micros
    rows = tx.execute(select(JOB.c.id, amount).where(*where, ~seen).order_by(JOB.c.id)).all()
    return [(int(jid), int(n)) for jid, n in rows]


def carry(tx: Tx, spec: Spec, now: datetime) -> None:
    """Count on ``spec``'s bucket the jobs of :func:`unseen`: a ``carry`` ledger row each (also
    for 0, so the job is seen), their sum added to ``spent``."""
    missing = unseen(tx, spec, now, lock=True)
    if not missing:
        return
    key = {"scope": spec.scope, "period": spec.period, "unit": spec.unit}
    where = (BUCKET.c[k] == v for k, v in key.items())
    bucket_id = tx.execute(select(BUCKET.c.id).where(*where)).scalar_one()
    rows = [
        {**key, "job_id": jid, "bucket_id": bucket_id, "kind": "carry", "amount": n}
        for jid, n in missing
    ]
    tx.conn.execute(LEDGER.insert().values(created_at=now), rows)  # executemany
    total = sum(n for _, n in missing)
    if total:
        tx.execute(
            update(BUCKET).where(BUCKET.c.id == bucket_id).values(spent=BUCKET.c.spent + total)
        )


def reserve(
    tx: Tx, wanted: list[Spec], now: datetime | None = None
) -> tuple[Failure | None, list[tuple[int, Spec]]]:
    """Reserve on every bucket of ``wanted`` (in order); stop at the first that is full. With
    ``now``, each bucket first carries the period's jobs it has not seen (:func:`carry`)."""
    entries: list[tuple[int, Spec]] = []
    for spec in wanted:
        if now is not None:
            carry(tx, spec, now)
        key = {"scope": spec.scope, "period": spec.period, "unit": spec.unit}
        row = tx.one("reserve", {**key, "lim": spec.limit, "amount": spec.amount})
        if row is not None and row[1] + row[2] <= spec.limit + row[3]:
            entries.append((row[0], spec))
            continue
        if row is not None:  # freshly inserted and already over: nothing was there before
            left = spec.limit
        else:
            reserved, spent, granted = tx.one("bucket", key)
            left = spec.limit + granted - reserved - spent
        params = {
            "limit": spec.policy,
            "remaining": in_unit(spec.unit, max(0, left)),
            "unit": public_unit(spec.unit),
            "resets_at": spec.resets_at,
        }
        return ("quota.exceeded", params), []
    return None, entries


def capture(
    unit: str, is_community: bool, state: JobState, cost: int, images: int, charge_user: bool
) -> int:
    """What a settle moves into a bucket's ``spent``."""
    if state == JobState.RELEASED or unit == "jobs":
        return 0
    if unit == "micro_usd":
        return cost if (is_community or charge_user) else 0
    if unit == "images":
        return images if (charge_user and state == JobState.SUCCEEDED) else 0
    return 0


def read_tiers(tx: Tx, identity: Identity, limits: EffectiveLimits, now: datetime) -> Tiers:
    """The tiers of ``identity`` from the database overrides (and the member's grants)."""
    scopes = scopes_of(identity)
    names = {scope: name for name, scope in scopes.items()}
    params = {f"o{i}": scopes[name] for i, name in enumerate(OVERRIDE_SCOPES)}
    overrides = {names[s]: from_json(v) for s, v in tx.all("overrides", params)}
    return resolve(limits, overrides)


def banned(tx: Tx, identity: Identity) -> bool:
    scopes = scopes_of(identity)
    return tx.one("bans", {f"b{i}": scopes[n] for i, n in enumerate(BAN_SCOPES)}) is not None


class QuotaRoom(Room):
    """Limits in force and what is left of them."""

    async def effective_limits(
        self, settings: QuotaSettings, identity: Identity
    ) -> EffectiveLimits:
        """The limits in force for ``identity``: the config and the operator's overrides,
        lowered by its community's settings (grants not included)."""
        base = effective_limits(settings, identity)
        return await self._call(self._effective_sync, identity, base, now_or(None))

    async def effective_limits_of(
        self, identity: Identity, limits: EffectiveLimits, now: datetime | None = None
    ) -> EffectiveLimits:
        """``limits`` (the config's for ``identity``) with every tier's overrides applied."""
        return await self._call(self._effective_sync, identity, limits, now_or(now))

    def _effective_sync(
        self, identity: Identity, limits: EffectiveLimits, now: datetime
    ) -> EffectiveLimits:
        with self._db.transaction(write=False) as tx:
            return read_tiers(tx, identity, limits, now).effective

    async def quota_status(
        self, identity: Identity, limits: EffectiveLimits, now: datetime | None = None
    ) -> QuotaStatus:
        """Every limit for ``identity`` (DB overrides applied): used, reserved, remaining, reset.

        For an unlimited limit, ``used`` is still reported (from the jobs of the period).
        """
        return await self._call(self._quota_status_sync, identity, limits, now_or(now))

    def _quota_status_sync(
        self, identity: Identity, limits: EffectiveLimits, now: datetime
    ) -> QuotaStatus:
        user, community = identity.user_scope, identity.community_scope
        with self._db.transaction(write=False) as tx:
            tiers = read_tiers(tx, identity, limits, now)
            wanted = all_specs(identity, tiers, 0, 0, now)
            scopes = sorted({spec.scope for spec, _ in wanted})
            buckets = {
                (r.scope, r.period, r.unit): r
                for r in tx.execute(
                    select(BUCKET).where(
                        BUCKET.c.scope.in_(scopes),
                        BUCKET.c.period.in_([day_period(now), month_period(now), "live"]),
                    )
                )
            }
            ban = tx.execute(
                self._db.sql.bans_of,
                {"scopes": [s for s in (user, community, identity.member_scope) if s]},
            ).first()
            last = tx.execute(
                select(USER_STATE.c.last_job_at).where(USER_STATE.c.scope == user)
            ).scalar()
            used_jobs = _used_from_jobs(tx, user, community, now)
            # what each limited bucket's next reservation carries in (see carry())
            carried = {
                (spec.scope, spec.period, spec.unit): sum(n for _, n in unseen(tx, spec, now))
                for spec, limited in wanted
                if limited
            }
        shown: dict[str, LimitStatus] = {}
        for spec, limited in wanted:
            bucket = buckets.get((spec.scope, spec.period, spec.unit))
            granted = bucket.granted if bucket is not None else 0
            if limited:  # the bucket, and what its next reservation carries (see carry())
                used = carried.get((spec.scope, spec.period, spec.unit), 0)
                if bucket is not None:
                    used, reserved = used + bucket.spent, bucket.reserved
                else:
                    reserved = 0
            else:
                used, reserved = used_jobs.get(spec.policy, 0), 0
            remaining = max(0, spec.limit + granted - used - reserved) if limited else None
            item = LimitStatus(
                name=spec.policy,
                unit=public_unit(spec.unit),
                limit=in_unit(spec.unit, spec.limit) if limited else None,
                used=in_unit(spec.unit, used),
                reserved=in_unit(spec.unit, reserved),
                remaining=None if remaining is None else in_unit(spec.unit, remaining),
                resets_at=spec.resets_at,
                granted=in_unit(spec.unit, granted),
            )
            before = shown.get(spec.policy)
            # the operator's line first; the community's replaces it when it leaves less
            if before is None or _tighter(item, before):
                shown[spec.policy] = item
        items = list(shown.values())
        cooldown_until = None
        cooldown_s = tiers.effective.cooldown_s
        if last is not None and cooldown_s > 0:
            until = utc(last) + timedelta(seconds=cooldown_s)
            cooldown_until = until if until > now else None
        return QuotaStatus(
            user_scope=user,
            community_scope=community,
            limits=tuple(items),
            banned=ban is not None,
            ban_reason=None if ban is None else ban.reason,
            cooldown_until=cooldown_until,
        )


def _tighter(item: LimitStatus, than: LimitStatus) -> bool:
    """Less left, or as much left under a lower limit (unlimited is never tighter)."""
    if item.remaining is None or item.limit is None:
        return False
    if than.remaining is None or than.limit is None:
        return True
    return (item.remaining, item.limit) < (than.remaining, than.limit)


def _used_from_jobs(tx: Tx, user: str, community: str | None, now: datetime) -> dict[str, int]:
    charged = [s.value for s in CHARGED_STATES]
    live = [s.value for s in LIVE_STATES]

    def sums(scope_col: Any, scope: str, since: datetime) -> tuple[int, int]:
        row = tx.execute(
            select(
                func.coalesce(func.sum(JOB.c.images_delivered), 0),
                func.coalesce(func.sum(JOB.c.cost_micros), 0),
            ).where(scope_col == scope, JOB.c.created_at >= since, JOB.c.state.in_(charged))
        ).one()
        return int(row[0]), int(row[1])

    d_images, d_cost = sums(JOB.c.user_scope, user, day_start(now))
    m_images, m_cost = sums(JOB.c.user_scope, user, month_start(now))
    live_jobs = tx.execute(
        select(func.count()).where(JOB.c.user_scope == user, JOB.c.state.in_(live))
    ).scalar_one()
    used = {
        "user_daily_images": d_images,
        "user_monthly_images": m_images,
        "user_daily_usd": d_cost,
        "user_monthly_usd": m_cost,
        "user_concurrent_jobs": int(live_jobs),
    }
    if community is not None:
        used["community_monthly_usd"] = sums(JOB.c.community_scope, community, month_start(now))[1]
    return used
