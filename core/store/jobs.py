"""The job state machine: claim + reserve, submit, settle or release.

* :meth:`JobRoom.begin_job` claims the idempotency key and reserves the worst case on every
  applicable bucket in ONE transaction. A second claim of the same key does nothing and returns
  the first job. A refusal (over quota, banned, cooldown) keeps the job row, RELEASED, with the
  reason, so a duplicate delivery sees the same outcome.
* :meth:`JobRoom.mark_submitted` is committed before the single upstream call.
* :meth:`JobRoom.settle` records what the gateway billed (even above the reservation);
  :meth:`JobRoom.release` returns the reservation only when nothing reached the gateway.

Every transition is a compare-and-set on ``job.state`` with its bucket changes and ledger rows
in the same transaction.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.errors import PixelsmithError, QuotaExceeded
from core.store import buckets
from core.store.clock import bind_time, now_or, utc
from core.store.engine import PRIORITY_CLAIM, PRIORITY_FINISH, PRIORITY_SUBMIT, Room
from core.store.policy import EffectiveLimits
from core.store.statements import job_view, job_view_of_tuple
from core.types import CHARGED_STATES, LIVE_STATES, Identity, JobState, JobView


class JobConflict(PixelsmithError):
    """A transition was asked of a job in the wrong state (or of no job).

    ``params``: ``job_id``, ``state`` (the state found, None if no such job), ``wanted``.
    Raised by :meth:`JobRoom.mark_submitted` when the job was already released (reaped): the
    caller must NOT send the request upstream.
    """

    key = "job.conflict"
    exit_code = 5


@dataclass(frozen=True)
class JobClaim:
    """``new`` is False when the key was already claimed: ``job`` is the first claimant's job."""

    job: JobView
    new: bool


PUBLIC_ID_BYTES = 16  # 22 url-safe characters: 128 random bits
PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{16,32}")


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}


class JobRoom(Room):
    async def begin_job(
        self,
        *,
        idem_key: str,
        identity: Identity,
        request: dict[str, Any],
        model: str,
        images: int,
        worst_cost_micros: int,
        limits: EffectiveLimits,
        lease_s: float = 900,
        key_ref: str | None = None,
        now: datetime | None = None,
    ) -> JobClaim:
        """Claim ``idem_key`` and reserve the worst case on every applicable bucket, atomically.

        Returns ``JobClaim(job, new=True)`` with the job RESERVED (lease ``lease_s``), or
        ``JobClaim(first_job, new=False)`` when the key was claimed before (nothing else done).
        Raises :class:`QuotaExceeded` (``quota.exceeded`` with ``limit``, ``remaining``,
        ``unit``, ``resets_at``; ``quota.banned``; ``quota.cooldown``): nothing is reserved, and
        the job row is kept RELEASED with that error so a duplicate sees the same outcome
        (``claim.job.failure()`` rebuilds the exception). ``limits`` come from
        :func:`core.store.policy.effective_limits`; overrides set with ``quota set`` are applied
        on top here, inside the transaction. ``key_ref``: the fingerprint of the community's own
        gateway key that will serve the job (None: the operator's).
        """
        if images < 0 or worst_cost_micros < 0:
            raise ValueError("images and worst_cost_micros must be >= 0")
        return await self._run(
            PRIORITY_CLAIM,
            self._begin_job_sync,
            idem_key,
            identity,
            request,
            model,
            images,
            worst_cost_micros,
            limits,
            lease_s,
            key_ref,
            now_or(now),
        )

    def _begin_job_sync(
        self,
        idem_key: str,
        identity: Identity,
        request: dict[str, Any],
        model: str,
        images: int,
        worst: int,
        limits: EffectiveLimits,
        lease_s: float,
        key_ref: str | None,
        now: datetime,
    ) -> JobClaim:
        user, community = identity.user_scope, identity.community_scope
        public_id = secrets.token_urlsafe(PUBLIC_ID_BYTES)
        sqlite = self._db.sqlite
        at = bind_time(now, sqlite=sqlite)
        failure: buckets.Failure | None = None
        with self._db.transaction() as tx:
            row = tx.one(
                "claim",
                {
                    "idem_key": idem_key,
                    "public_id": public_id,
                    "platform": identity.platform,
                    "user_scope": user,
                    "community_scope": community,
                    "model": model,
                    "request": json.dumps(request),
                    "worst": worst,
                    "images": images,
                    "lease_until": bind_time(now + timedelta(seconds=lease_s), sqlite=sqlite),
                    "key_ref": key_ref,
                    "now": at,
                    "now2": at,
                },
            )
            if row is None:
                first = tx.one("job_by_key", {"key": idem_key})
                return JobClaim(job_view_of_tuple(first), new=False)
            job_id = row[0]
            tiers = buckets.read_tiers(tx, identity, limits, now)
            if buckets.banned(tx, identity):
                failure = (
                    "quota.banned",
                    {"limit": "ban", "remaining": 0, "unit": None, "resets_at": None},
                )
            else:
                tx.raw("SAVEPOINT reserve")
                failure = buckets.cooldown(tx, user, tiers.effective.cooldown_s, now)
                entries: list[tuple[int, buckets.Spec]] = []
                if failure is None:
                    wanted = buckets.specs(identity, tiers, images, worst, now)
                    failure, entries = buckets.reserve(tx, wanted, now)
                if failure is None:
                    tx.raw("RELEASE SAVEPOINT reserve")
                    if entries:
                        tx.many(
                            "ledger",
                            [
                                {
                                    "job_id": job_id,
                                    "bucket_id": bid,
                                    "scope": s.scope,
                                    "period": s.period,
                                    "unit": s.unit,
                                    "kind": "reserve",
                                    "amount": s.amount,
                                    "now": at,
                                }
                                for bid, s in entries
                            ],
                        )
                else:
                    tx.raw("ROLLBACK TO SAVEPOINT reserve")
                    tx.raw("RELEASE SAVEPOINT reserve")
            if failure is None:
                created = utc(row[1])
                view = JobView(
                    id=job_id,
                    idem_key=idem_key,
                    state=JobState.RESERVED,
                    user_scope=user,
                    community_scope=community,
                    model=model,
                    prompt=str(request.get("prompt", "")),
                    cost_micros=0,
                    worst_cost_micros=worst,
                    images_requested=images,
                    images_delivered=0,
                    error=None,
                    result=None,
                    created_at=created,
                    updated_at=created,
                    request=request,
                    notified=False,
                    public_id=public_id,
                )
                return JobClaim(view, new=True)
            key, params = failure
            tx.one(
                "refuse",
                {
                    "jid": job_id,
                    "error": key,
                    "result": json.dumps({"key": key, "params": _jsonable(params)}),
                },
            )
        raise QuotaExceeded(key, **params)

    async def mark_submitted(
        self, job_id: int, *, lease_s: float = 900, now: datetime | None = None
    ) -> JobView:
        """RESERVED -> SUBMITTED, committed before the upstream call; renews the lease.

        Idempotent on a SUBMITTED job. Raises :class:`JobConflict` in any other state (e.g. the
        reaper released it): then the request must not be sent.
        """
        return await self._run(
            PRIORITY_SUBMIT, self._mark_submitted_sync, job_id, lease_s, now_or(now)
        )

    def _mark_submitted_sync(self, job_id: int, lease_s: float, now: datetime) -> JobView:
        sqlite = self._db.sqlite
        with self._db.transaction() as tx:
            row = tx.one(
                "submit",
                {
                    "jid": job_id,
                    "lease_until": bind_time(now + timedelta(seconds=lease_s), sqlite=sqlite),
                    "now": bind_time(now, sqlite=sqlite),
                },
            )
            if row is None:
                row = tx.one("job_by_id", {"jid": job_id})
        view = None if row is None else job_view_of_tuple(row)
        if view is None or view.state != JobState.SUBMITTED:
            raise JobConflict(
                job_id=job_id, state=None if view is None else view.state.value, wanted="SUBMITTED"
            )
        return view

    async def settle(
        self,
        job_id: int,
        *,
        state: JobState,
        cost_micros: int,
        images_delivered: int,
        error: str | None = None,
        result: dict[str, Any] | None = None,
        charge_user: bool = True,
        cost_capped: bool = False,
        now: datetime | None = None,
    ) -> JobView:
        """SUBMITTED (or RESERVED) -> ``state`` with the real cost the gateway billed.

        ``state`` is SUCCEEDED, FAILED_CHARGED or UNKNOWN_CHARGED. Every reservation is released
        and the actual amounts captured: images = ``images_delivered`` for SUCCEEDED (0
        otherwise), money = ``cost_micros`` (may exceed the reservation: the ledger records what
        was billed). ``charge_user=False`` (a refusal with ``count_refused = false``) captures
        nothing on the user's buckets; the community budget is always charged. A second settle of
        a finished job is a no-op returning it. Raises :class:`JobConflict` for an unknown job.
        ``cost_capped``: the reported usage priced above the sanity bound and ``cost_micros`` is
        the bound; the job is flagged (``check()`` lists it for an admin).
        """
        if state not in CHARGED_STATES:
            raise ValueError(f"settle needs a charged state, not {state}")
        if cost_micros < 0 or images_delivered < 0:
            raise ValueError("cost_micros and images_delivered must be >= 0")
        return await self._run(
            PRIORITY_FINISH,
            self._finish_sync,
            job_id,
            LIVE_STATES,
            JobState(state),
            cost_micros,
            images_delivered,
            error,
            result,
            charge_user,
            True,
            now_or(now),
            cost_capped,
        )

    async def release(self, job_id: int, *, error: str, now: datetime | None = None) -> JobView:
        """RESERVED -> RELEASED: only when it is certain nothing reached the gateway.

        Idempotent on a job already finished (returns it unchanged). Raises
        :class:`JobConflict` on a SUBMITTED job (it may have been billed: settle it instead).
        """
        return await self._run(
            PRIORITY_FINISH,
            self._finish_sync,
            job_id,
            (JobState.RESERVED,),
            JobState.RELEASED,
            0,
            0,
            error,
            None,
            False,
            True,
            now_or(now),
        )

    def _finish_sync(
        self,
        job_id: int,
        from_states: tuple[JobState, ...],
        state: JobState,
        cost: int,
        images: int,
        error: str | None,
        result: dict[str, Any] | None,
        charge_user: bool,
        notified: bool,
        now: datetime,
        cost_capped: bool = False,
    ) -> JobView:
        at = bind_time(now, sqlite=self._db.sqlite)
        with self._db.transaction() as tx:
            row = tx.one(
                "finish",
                {
                    "jid": job_id,
                    "from1": from_states[0].value,
                    "from2": from_states[-1].value,
                    "new": state.value,
                    "cost": cost,
                    "images": images,
                    "error": error,
                    "result": None if result is None else json.dumps(result),
                    "notified": notified,
                    "capped": cost_capped,
                    "now": at,
                },
            )
            if row is None:
                found = tx.one("job_by_id", {"jid": job_id})
                view = None if found is None else job_view_of_tuple(found)
                if view is None or not view.state.terminal:
                    raise JobConflict(
                        job_id=job_id,
                        state=None if view is None else view.state.value,
                        wanted=state.value,
                    )
                return view
            view = job_view_of_tuple(row)
            reserves = tx.all("reserves_of", {"jid": job_id})
            if reserves:
                moves, ledger = [], []
                for bucket_id, scope, period, unit, amount in reserves:
                    is_community = scope == view.community_scope
                    took = buckets.capture(unit, is_community, state, cost, images, charge_user)
                    moves.append({"bid": bucket_id, "rel": amount, "cap": took})
                    base = {
                        "job_id": job_id,
                        "bucket_id": bucket_id,
                        "scope": scope,
                        "period": period,
                        "unit": unit,
                        "now": at,
                    }
                    ledger.append({**base, "kind": "release", "amount": amount})
                    if state != JobState.RELEASED and unit != "jobs":  # a slot is never spent
                        ledger.append({**base, "kind": "capture", "amount": took})
                tx.many("bucket_move", moves)
                tx.many("ledger", ledger)
        return view

    async def get_job(self, job_id: int) -> JobView | None:
        return await self._call(self._get_sync, self._db.sql.job_by_id, {"id": job_id})

    async def get_job_by_public_id(self, public_id: str) -> JobView | None:
        """The job with this public id; None for an unknown or malformed one (never raises)."""
        if not isinstance(public_id, str) or PUBLIC_ID.fullmatch(public_id) is None:
            return None
        return await self._call(self._get_sync, self._db.sql.job_by_public, {"pid": public_id})

    async def get_job_by_key(self, idem_key: str) -> JobView | None:
        return await self._call(self._get_sync, self._db.sql.job_by_key, {"key": idem_key})

    def _get_sync(self, stmt: Any, params: dict[str, Any]) -> JobView | None:
        with self._db.transaction(write=False) as tx:
            row = tx.execute(stmt, params).mappings().first()
            return None if row is None else job_view(row)
