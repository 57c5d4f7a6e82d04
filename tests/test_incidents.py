"""Unexpected errors: one redacted traceback in the log, the same short incident id shown to the
person (CLI, console; the chat adapters use the same helper)."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bots import cli, console
from core import incidents, messages
from core.config import Settings
from core.logs import RedactingFilter, setup_logging
from core.service import ImageService
from core.types import Identity
from tests.conftest import TEST_KEY
from tests.fakes.gateway import FakeGateway

ID = re.compile(rf"\b[0-9A-HJKMNP-TV-Z]{{{incidents.ID_LENGTH}}}\b")
ME = Identity(platform="cli", user_id="me")


@pytest.fixture(autouse=True)
def incidents_with_everything() -> Iterator[None]:
    incidents.log_incidents_with_everything()
    yield
    incidents.log_incidents_with_everything()


def boom(secret: str = TEST_KEY) -> BaseException:
    def inner() -> None:
        raise KeyError(f"no such thing; the key was {secret}")

    try:
        inner()
    except KeyError as exc:
        return exc
    raise AssertionError("unreachable")


def incident_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "pixelsmith.incident"]


def test_an_incident_is_logged_once_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    exc = boom()
    with caplog.at_level(logging.ERROR, logger="pixelsmith.incident"):
        first = incidents.report(exc, "a test")
        again = incidents.report(exc, "an outer handler")
    assert first == again and ID.fullmatch(first)
    [record] = incident_records(caplog)
    assert first in record.getMessage() and "KeyError" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[1] is exc
    assert incidents.report(boom(), "a test") != first  # every incident its own id


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_the_sentence_names_the_incident(locale: str, caplog: pytest.LogCaptureFixture) -> None:
    exc = boom()
    with caplog.at_level(logging.ERROR, logger="pixelsmith.incident"):
        sentence = incidents.incident_text(exc, locale, "a test")
    assert sentence == messages.text("error.incident", locale, incident=incidents.report(exc, "x"))
    assert ID.search(sentence) and "{" not in sentence and TEST_KEY not in sentence
    assert "\n" not in sentence  # no incident file configured: one sentence
    if locale == "zh":
        assert "事件编号" in sentence and "Something" not in sentence


def test_the_traceback_is_redacted(settings_factory: Callable[..., Settings]) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        setup_logging(settings_factory(), stream=stream)
        incident = incidents.report(boom(), "a test")
    finally:
        for handler in root.handlers[:]:
            if handler not in before[0]:
                root.removeHandler(handler)
        root.setLevel(before[1])
    written = stream.getvalue()
    assert f"incident {incident}" in written and "Traceback (most recent call last)" in written
    assert "in inner" in written  # the frame that raised
    assert TEST_KEY not in written and "***" in written


def test_one_shot_commands_write_incidents_to_a_file(tmp_path: Path) -> None:
    path = incidents.log_incidents_to_file(RedactingFilter([TEST_KEY]), tmp_path / "inc.log")
    assert path == tmp_path / "inc.log" and not path.exists()  # nothing written until needed
    text = incidents.incident_text(boom(), "en", "a test")
    incident = ID.findall(text)[0]
    first, second = text.splitlines()
    assert incident in first and str(path) in second and incident in second
    written = path.read_text(encoding="utf-8")
    assert written.count(f"incident {incident}") == 1 and "Traceback" in written
    assert TEST_KEY not in written


def test_an_unwritable_incident_folder_keeps_incidents_in_the_log(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert incidents.log_incidents_to_file(RedactingFilter(), blocker / "inc.log") is None
    assert incidents.incident_file() is None


def test_cli_shows_the_incident_and_logs_the_traceback_to_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def broken(*args: Any) -> int:
        raise boom()

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(cli, "_dispatch", broken)
    code = cli.main(["imagine", "a fox"])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_UPSTREAM and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in err and TEST_KEY not in err
    [incident] = set(ID.findall(err))
    log_file = tmp_path / "state" / "pixelsmith" / "incidents.log"
    assert str(log_file) in lines[1]
    written = log_file.read_text(encoding="utf-8")
    assert f"incident {incident}: unexpected KeyError in pixelsmith imagine" in written
    assert "Traceback" in written and TEST_KEY not in written


async def test_console_reports_a_bug_and_stays_open(
    service: ImageService, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(identity: Identity) -> Any:
        raise boom()

    service.quota_status = broken  # type: ignore[method-assign]
    out, err = io.StringIO(), io.StringIO()
    with caplog.at_level(logging.ERROR, logger="pixelsmith.incident"):
        going_on = await console.handle_line("/quota", service, ME, tmp_path, out, err)
    assert going_on is True
    [record] = incident_records(caplog)
    [incident] = ID.findall(err.getvalue())
    assert incident in record.getMessage() and "console /quota" in record.getMessage()


async def test_a_provider_bug_is_one_incident_through_service_and_adapter(
    service: ImageService, gateway: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(call: Any, on_progress: Any) -> Any:
        raise boom()

    service.provider.run = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="pixelsmith.incident"):
        with pytest.raises(KeyError) as raised:
            await service.run(service.build("a fox", ME))
        shown = incidents.incident_text(raised.value, "en", "an adapter")
    [record] = incident_records(caplog)  # the service reported it; the adapter reused the id
    assert "the provider" in record.getMessage()
    assert ID.findall(shown)[0] in record.getMessage()
    assert not gateway.calls  # the bug was before any request
