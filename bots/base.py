"""The contract between the runner and a platform adapter.

An adapter MUST answer every platform event inside the platform's deadline before doing slow
work, MUST turn every failure into a reply (never a silent "interaction failed"), MUST claim the
platform's own event id as the idempotency key, and MUST NOT talk to the gateway or the database
except through :class:`core.service.ImageService`.
"""

from __future__ import annotations

from typing import Protocol

from core.types import JobView


class PlatformAdapter(Protocol):
    name: str

    async def start(self) -> None:
        """Connect and begin serving; returns once the platform is ready (raises on bad tokens)."""
        ...

    async def stop(self) -> None:
        """Stop taking new events and close connections (in-flight jobs are drained by core)."""
        ...

    async def notify(self, job: JobView, text: str) -> bool:
        """Tell the job's user ``text`` (a reaped job after a restart); False if impossible."""
        ...
