"""Unexpected errors (bugs): logged once with their traceback, under a short incident id.

Contract for every adapter's last-resort handler: call :func:`incident_text` with the exception
and the user's locale; it logs the exception (traceback included) on the ``pixelsmith.incident``
logger the first time that exception object is seen, and returns the "something went wrong"
sentence naming the incident id, so the person can quote the id and the operator can find the
traceback. An exception that core already reported (the service reports a provider bug before
settling the job) keeps its first id and is not logged again.

Redaction happens where every log record is written (:class:`core.logs.RedactingFilter`, which
formats the traceback before redacting). Long-running processes (``pixelsmith run``) log
incidents with everything else; one-shot commands write them to :func:`incident_log_path`
(their terminal gets one line, never a traceback).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from pathlib import Path

from core import messages

log = logging.getLogger("pixelsmith.incident")

# Crockford's base32 without I, L, O, U: easy to read aloud and to type back.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_LENGTH = 8
_ATTR = "_pixelsmith_incident"


def new_incident_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(ID_LENGTH))


def report(exc: BaseException, where: str) -> str:
    """Log ``exc`` with its traceback under a new incident id (once per exception); the id."""
    known = getattr(exc, _ATTR, None)
    if isinstance(known, str):
        return known
    incident = new_incident_id()
    with contextlib.suppress(AttributeError):  # a type with __slots__ may be logged twice
        setattr(exc, _ATTR, incident)
    log.error(
        "incident %s: unexpected %s in %s",
        incident,
        type(exc).__name__,
        where,
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"fields": {"incident": incident, "where": where}},
    )
    return incident


def incident_text(exc: BaseException, locale: str | None, where: str) -> str:
    """Report ``exc`` (see :func:`report`) and return the user's sentence with the incident id.

    When incidents go to a file (one-shot commands), a second line says which file.
    """
    incident = report(exc, where)
    sentence = messages.text("error.incident", locale, incident=incident)
    path = incident_file()
    if path is not None:
        sentence += "\n" + messages.text("error.incident_log", locale, incident=incident, path=path)
    return sentence


def incident_file() -> Path | None:
    """The file incidents are written to, or None when they go with the other log records."""
    for handler in log.handlers:
        if getattr(handler, "_pixelsmith", False) and isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename)
    return None


def incident_log_path() -> Path:
    """Where one-shot commands write incidents: ``$XDG_STATE_HOME/pixelsmith/incidents.log``."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "pixelsmith" / "incidents.log"


def log_incidents_to_file(redactor: logging.Filter, path: Path | None = None) -> Path | None:
    """One-shot commands: incidents go to a file (redacted), not to the terminal.

    Returns the file, or None when it cannot be opened (then incidents stay on stderr, which
    is still better than losing the traceback).
    """
    target = path or incident_log_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(target.parent, os.W_OK) or (
        target.exists() and not os.access(target, os.W_OK)
    ):
        return None
    # opened on the first incident only: a command that goes well leaves no file behind
    handler = logging.FileHandler(target, encoding="utf-8", delay=True)
    handler.addFilter(redactor)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for old in list(log.handlers):
        if getattr(old, "_pixelsmith", False):
            log.removeHandler(old)
            old.close()
    handler._pixelsmith = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.propagate = False
    return target


def log_incidents_with_everything() -> None:
    """Long-running processes: incidents go wherever the other log records go."""
    for old in list(log.handlers):
        if getattr(old, "_pixelsmith", False):
            log.removeHandler(old)
            old.close()
    log.propagate = True
