"""Logging set-up: text or JSON lines, with every configured secret redacted.

Redaction is a handler filter, so a secret that slips into any log call (ours or a library's)
is replaced before it is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import Any

from core.config import Settings

_TOKEN_PATTERNS = re.compile(
    r"(sk-[A-Za-z0-9_\-]{8,}|xox[abposr]-[A-Za-z0-9\-]{8,}|xapp-[A-Za-z0-9\-]{8,}"
    r"|Bearer\s+[A-Za-z0-9._\-]{8,}|Bot\s+[A-Za-z0-9._\-]{20,})"
)


# Secrets learnt while running (communities' own gateway keys, once opened): every filter
# redacts them too.
_LEARNT: set[str] = set()
MIN_SECRET = 6


def redact_also(secret: str) -> None:
    """Redact ``secret`` from every log line from now on (all filters of this process)."""
    if len(secret) >= MIN_SECRET:
        _LEARNT.add(secret)


class RedactingFilter(logging.Filter):
    """Replaces known secrets and anything shaped like a token with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        for secret in sorted(_LEARNT, key=len, reverse=True):
            text = text.replace(secret, "***")
        return _TOKEN_PATTERNS.sub("***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = self.redact(message)
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            data.update(extra)
        return json.dumps(data, ensure_ascii=False, default=str)


def setup_logging(settings: Settings, stream: Any = None) -> RedactingFilter:
    """Configure the root logger once; returns the redaction filter (tests add secrets to it)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    redactor = RedactingFilter(settings.secrets())
    handler.addFilter(redactor)
    if settings.logging.format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_pixelsmith", False):
            root.removeHandler(old)
    handler._pixelsmith = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(settings.logging.level)
    for noisy in ("httpx2", "httpcore2", "openai", "discord.gateway", "slack_sdk", "PIL"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return redactor
