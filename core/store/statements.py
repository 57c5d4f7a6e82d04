"""The tables as SQLAlchemy Core handles, the money statements compiled once per dialect, and
how a job row becomes a :class:`~core.types.JobView`.

The money statements (claim, reserve, submit, finish, ledger rows) are built with SQLAlchemy
Core here and compiled once when the store opens; :class:`~core.store.engine.Tx` runs them on
the DBAPI cursor with named parameters. Their raw parameters are what the DBAPI takes: JSON as
text, times through :func:`core.store.clock.bind_time`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Dialect, RowMapping, Table, bindparam, or_, select, update
from sqlalchemy.dialects import sqlite

from core.store.clock import utc
from core.store.tables import metadata
from core.types import Identity, JobState, JobView

JOB: Table = metadata.tables["job"]
BUCKET: Table = metadata.tables["quota_bucket"]
LEDGER: Table = metadata.tables["ledger_entry"]
GRANT: Table = metadata.tables["quota_grant"]
BAN: Table = metadata.tables["ban"]
USER_STATE: Table = metadata.tables["user_state"]
SETTING: Table = metadata.tables["setting"]
OVERRIDE: Table = metadata.tables["quota_override"]

AUDIT: Table = metadata.tables["audit_entry"]
PREFERENCE: Table = metadata.tables["member_preference"]
USED_TOKEN: Table = metadata.tables["used_token"]
INTERACTION: Table = metadata.tables["interaction"]
INSTALL: Table = metadata.tables["platform_install"]
OAUTH_STATE: Table = metadata.tables["oauth_state"]
COMMUNITY_KEY: Table = metadata.tables["community_key"]

JOB_COLUMNS = tuple(c.name for c in JOB.c)

# the scopes begin_job reads overrides and bans of (see core.store.policy for the tiers)
OVERRIDE_SCOPES = ("community", "user", "any_community", "members", "member")
BAN_SCOPES = ("community", "user", "member")
NO_SCOPE = "-"  # stands for a scope the identity does not have (matches no row)


def scopes_of(identity: Identity) -> dict[str, str]:
    """Every scope of ``identity`` by tier name (:data:`NO_SCOPE` where it has none)."""
    return {
        "community": identity.community_scope or NO_SCOPE,
        "user": identity.user_scope,
        "any_community": identity.any_community_scope,
        "members": identity.members_scope or NO_SCOPE,
        "member": identity.member_scope,
    }


def insert_for(dialect_name: str) -> Any:
    """The dialect's INSERT with ``ON CONFLICT`` support."""
    if dialect_name == "postgresql":
        # imported for a PostgreSQL URL only: SQLite processes never load this dialect
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    return sqlite.insert


def from_json(value: Any) -> Any:
    """A JSON column's value: text on SQLite's raw path, already decoded elsewhere."""
    return json.loads(value) if isinstance(value, str) else value


def job_view(row: Mapping[str, Any] | RowMapping) -> JobView:
    request = from_json(row["request"]) or {}
    return JobView(
        id=row["id"],
        idem_key=row["idem_key"],
        state=JobState(row["state"]),
        user_scope=row["user_scope"],
        community_scope=row["community_scope"],
        model=row["model"],
        prompt=str(request.get("prompt", "")),
        cost_micros=row["cost_micros"],
        worst_cost_micros=row["worst_cost_micros"],
        images_requested=row["images_requested"],
        images_delivered=row["images_delivered"],
        error=row["error"],
        result=from_json(row["result"]),
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
        request=request,
        notified=bool(row["notified"]),
        public_id=row["public_id"],
        cost_capped=bool(row["cost_capped"]),
        key_ref=row.get("key_ref"),
    )


def job_view_of_tuple(row: Any) -> JobView:
    """A job row from the raw cursor (columns in table order)."""
    return job_view(dict(zip(JOB_COLUMNS, row, strict=True)))


def _money_statements(ins: Any) -> dict[str, Any]:
    b = BUCKET.c
    claim = ins(JOB).values(
        idem_key=bindparam("idem_key"),
        public_id=bindparam("public_id"),
        platform=bindparam("platform"),
        user_scope=bindparam("user_scope"),
        community_scope=bindparam("community_scope"),
        model=bindparam("model"),
        request=bindparam("request"),
        state=JobState.RESERVED.value,
        worst_cost_micros=bindparam("worst"),
        cost_micros=0,
        images_requested=bindparam("images"),
        images_delivered=0,
        lease_until=bindparam("lease_until"),
        attempts=0,
        notified=False,
        cost_capped=False,
        key_ref=bindparam("key_ref"),
        created_at=bindparam("now"),
        updated_at=bindparam("now2"),
    )
    upsert = ins(BUCKET).values(
        scope=bindparam("scope"),
        period=bindparam("period"),
        unit=bindparam("unit"),
        limit=bindparam("lim"),
        granted=0,
        reserved=bindparam("amount"),
        spent=0,
    )
    ex = upsert.excluded
    cool = ins(USER_STATE).values(scope=bindparam("scope"), last_job_at=bindparam("now"))
    override_scopes: list[Any] = [bindparam(f"o{i}") for i in range(len(OVERRIDE_SCOPES))]
    ban_scopes: list[Any] = [bindparam(f"b{i}") for i in range(len(BAN_SCOPES))]
    return {
        "claim": claim.on_conflict_do_nothing(index_elements=["idem_key"]).returning(
            JOB.c.id, JOB.c.created_at
        ),
        "job_by_key": select(JOB).where(JOB.c.idem_key == bindparam("key")),
        "job_by_id": select(JOB).where(JOB.c.id == bindparam("jid")),
        "overrides": select(OVERRIDE.c.scope, OVERRIDE.c.limits).where(
            or_(*(OVERRIDE.c.scope == s for s in override_scopes))
        ),
        "bans": select(BAN.c.scope).where(or_(*(BAN.c.scope == s for s in ban_scopes))),
        "cooldown": cool.on_conflict_do_update(
            index_elements=["scope"],
            set_={"last_job_at": cool.excluded.last_job_at},
            where=or_(
                USER_STATE.c.last_job_at.is_(None),
                USER_STATE.c.last_job_at <= bindparam("threshold"),
            ),
        ).returning(USER_STATE.c.scope),
        "last_job": select(USER_STATE.c.last_job_at).where(
            USER_STATE.c.scope == bindparam("scope")
        ),
        "reserve": upsert.on_conflict_do_update(
            index_elements=["scope", "period", "unit"],
            set_={"limit": ex["limit"], "reserved": b.reserved + ex.reserved},
            where=(b.reserved + b.spent + ex.reserved <= ex["limit"] + b.granted),
        ).returning(b.id, b.reserved, b.spent, b.granted),
        "bucket": select(b.reserved, b.spent, b.granted).where(
            b.scope == bindparam("scope"),
            b.period == bindparam("period"),
            b.unit == bindparam("unit"),
        ),
        "ledger": LEDGER.insert().values(
            job_id=bindparam("job_id"),
            bucket_id=bindparam("bucket_id"),
            scope=bindparam("scope"),
            period=bindparam("period"),
            unit=bindparam("unit"),
            kind=bindparam("kind"),
            amount=bindparam("amount"),
            created_at=bindparam("now"),
        ),
        "refuse": update(JOB)
        .where(JOB.c.id == bindparam("jid"))
        .values(
            state=JobState.RELEASED.value,
            error=bindparam("error"),
            result=bindparam("result"),
            lease_until=None,
            notified=True,
        )
        .returning(*JOB.c),
        "submit": update(JOB)
        .where(JOB.c.id == bindparam("jid"), JOB.c.state == JobState.RESERVED.value)
        .values(
            state=JobState.SUBMITTED.value,
            lease_until=bindparam("lease_until"),
            attempts=JOB.c.attempts + 1,
            updated_at=bindparam("now"),
        )
        .returning(*JOB.c),
        "finish": update(JOB)
        .where(
            JOB.c.id == bindparam("jid"),
            or_(JOB.c.state == bindparam("from1"), JOB.c.state == bindparam("from2")),
        )
        .values(
            state=bindparam("new"),
            cost_micros=bindparam("cost"),
            images_delivered=bindparam("images"),
            error=bindparam("error"),
            result=bindparam("result"),
            lease_until=None,
            notified=bindparam("notified"),
            cost_capped=bindparam("capped"),
            updated_at=bindparam("now"),
        )
        .returning(*JOB.c),
        "reserves_of": select(
            LEDGER.c.bucket_id, LEDGER.c.scope, LEDGER.c.period, LEDGER.c.unit, LEDGER.c.amount
        )
        .where(LEDGER.c.job_id == bindparam("jid"), LEDGER.c.kind == "reserve")
        .order_by(LEDGER.c.scope, LEDGER.c.period, LEDGER.c.unit),
        "bucket_move": update(BUCKET)
        .where(b.id == bindparam("bid"))
        .values(reserved=b.reserved - bindparam("rel"), spent=b.spent + bindparam("cap")),
    }


class Statements:
    """The money statements compiled for one dialect, plus the Core statements admin reuses."""

    def __init__(self, dialect: Dialect) -> None:
        self.insert = insert_for(dialect.name)
        target = sqlite.dialect(paramstyle="named") if dialect.name == "sqlite" else dialect
        self.compiled: dict[str, tuple[str, dict[str, Any]]] = {}
        for name, stmt in _money_statements(self.insert).items():
            compiled = stmt.compile(dialect=target)
            self.compiled[name] = (str(compiled), dict(compiled.params))
        self.overrides_of = select(OVERRIDE.c.scope, OVERRIDE.c.limits).where(
            OVERRIDE.c.scope.in_(bindparam("scopes", expanding=True))
        )
        self.bans_of = select(BAN.c.scope, BAN.c.reason).where(
            BAN.c.scope.in_(bindparam("scopes", expanding=True))
        )
        self.job_by_id = select(JOB).where(JOB.c.id == bindparam("id"))
        self.job_by_key = select(JOB).where(JOB.c.idem_key == bindparam("key"))
        self.job_by_public = select(JOB).where(JOB.c.public_id == bindparam("pid"))

    def bind(self, name: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        text, defaults = self.compiled[name]
        return text, {**defaults, **params}
