"""Nothing acts on an unverified Slack request (HTTP mode).

Slack's rule (https://api.slack.com/authentication/verifying-requests-from-slack): a request is
Slack's when ``X-Slack-Signature`` is ``v0=`` + HMAC-SHA256(signing secret,
``v0:{X-Slack-Request-Timestamp}:{raw body}``) and the timestamp is within five minutes. Each
request below must answer 401 (not verified) or 400 (verified, but the body cannot be read), with
no Web API call recorded by the fake, no job or any other row in the database, no call to the
gateway, one warning line and no traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack_requests import FORM, JSON, slash_command
from tests.slack.conftest import SECRET, Harness


def row_counts(harness: Harness) -> dict[str, int]:
    """Rows in every table of the harness's SQLite database (alembic's own table excluded)."""
    path = harness.adapter.settings.database.url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def now() -> str:
    return str(int(time.time()))


def forged_command() -> bytes:
    """A slash command naming a real-looking user and channel: a reply would go to them."""
    data = slash_command("a fox", response_url="http://127.0.0.1:9/hooks/x").data
    return urlencode(data).encode()


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes
    headers: dict[str, str]
    status: int


def _signed(name: str, body: bytes, content_type: str = FORM) -> Case:
    ts = now()
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(body, ts),
    }
    return Case(name, body, headers, 400)


def _unsigned(name: str, body: bytes, **headers: str) -> Case:
    return Case(name, body, {"Content-Type": FORM, **headers}, 401)


def cases() -> list[Case]:
    cmd = forged_command()
    ts = now()
    good = sign(cmd, ts)
    stale = str(int(time.time()) - 6 * 60)
    future = str(int(time.time()) + 6 * 60)
    not_json = b"payload=" + quote("{not-json").encode()
    return [
        _unsigned("no headers at all", cmd),
        _unsigned("no timestamp", cmd, **{"X-Slack-Signature": good}),
        _unsigned(
            "non-numeric timestamp",
            cmd,
            **{"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=junk"},
        ),
        _unsigned(
            "float timestamp",
            cmd,
            **{"X-Slack-Request-Timestamp": f"{ts}.5", "X-Slack-Signature": sign(cmd, f"{ts}.5")},
        ),
        _unsigned(
            "negative timestamp",
            cmd,
            **{"X-Slack-Request-Timestamp": "-" + ts, "X-Slack-Signature": sign(cmd, "-" + ts)},
        ),
        _unsigned(
            "23-digit timestamp",
            cmd,
            **{"X-Slack-Request-Timestamp": "9" * 23, "X-Slack-Signature": sign(cmd, "9" * 23)},
        ),
        _unsigned(
            "stale timestamp",
            cmd,
            **{"X-Slack-Request-Timestamp": stale, "X-Slack-Signature": sign(cmd, stale)},
        ),
        _unsigned(
            "future timestamp",
            cmd,
            **{"X-Slack-Request-Timestamp": future, "X-Slack-Signature": sign(cmd, future)},
        ),
        _unsigned("no signature", cmd, **{"X-Slack-Request-Timestamp": ts}),
        _unsigned(
            "junk signature",
            cmd,
            **{"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=junk"},
        ),
        _unsigned(
            "wrong secret",
            cmd,
            **{"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sign(cmd, ts, "other-secret")},
        ),
        _unsigned(
            "signature of another body",
            cmd + b"&x=1",
            **{"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": good},
        ),
        _unsigned(
            "signature for another timestamp",
            cmd,
            **{"X-Slack-Request-Timestamp": str(int(ts) - 1), "X-Slack-Signature": good},
        ),
        _unsigned(
            "unsigned broken payload",
            not_json,
            **{"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=00"},
        ),
        _unsigned(
            "unsigned non-UTF-8 body",
            b"text=\xff\xfe",
            **{"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=00"},
        ),
        _signed("payload=%7Bnot-json", not_json),
        _signed("non-UTF-8 body", b"command=/imagine&text=\xff\xfe\xfd"),
        _signed("a JSON list", b'[{"type": "event_callback"}]', JSON),
        _signed("a JSON string", b'"event_callback"', JSON),
        _signed("an empty body", b""),
        _signed("a payload that is a JSON list", b"payload=" + quote("[1, 2]").encode()),
        _signed("two payload fields", b"payload=%7B%7D&payload=%7B%7D"),
        _signed("deeply nested JSON", b"[" * 100_000 + b"]" * 100_000, JSON),
        _signed("a body over 1 MiB", b"text=" + b"a" * (1024 * 1024 + 1)),
    ]


@pytest.mark.parametrize("name", [c.name for c in cases()])
async def test_unverified_or_unreadable_request_does_nothing(
    harness: Harness, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    # built now, not at collection: the timestamps are relative to the moment of sending
    (case,) = [c for c in cases() if c.name == name]
    before_rows = row_counts(harness)
    before_calls = len(harness.fake.calls)
    caplog.set_level(logging.INFO)
    async with harness.session.post(harness.url, data=case.body, headers=case.headers) as resp:
        status = resp.status
        await resp.read()
    await harness.settle()

    assert status == case.status
    assert harness.fake.calls[before_calls:] == []  # no users.info, no reply of any kind
    assert harness.fake.messages == [] and harness.fake.responses == []
    assert harness.gateway.calls == []
    assert row_counts(harness) == before_rows
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(loud) == 1 and loud[0].name == "pixelsmith.slack", [r.getMessage() for r in loud]
    assert "refused a Slack request" in loud[0].getMessage()
    assert all(r.exc_info is None for r in caplog.records)
    assert SECRET not in caplog.text and "v0=" not in caplog.text


async def test_a_verified_request_still_works(harness: Harness) -> None:
    """The same path with a good signature: Bolt dispatches it and the job runs."""
    body = urlencode(slash_command("a fox", response_url=harness.fake.response_url()).data).encode()
    ts = now()
    assert sign(body, ts) == SignatureVerifier(SECRET).generate_signature(
        timestamp=ts, body=body.decode()
    )
    headers = {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(body, ts),
    }
    async with harness.session.post(harness.url, data=body, headers=headers) as resp:
        assert resp.status == 200
    await harness.wait(harness.controls)
    assert len(harness.gateway.calls_to("/v1/images/generations")) == 1


def test_at_least_fifteen_cases() -> None:
    assert len(cases()) >= 15
    assert json.dumps([c.name for c in cases()])  # names are unique test ids
    assert len({c.name for c in cases()}) == len(cases())
