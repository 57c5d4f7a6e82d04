"""Virtual platform time for the fakes: deadlines hold without any test measuring real time."""

from __future__ import annotations


class VirtualClock:
    """Starts at 0 and moves only when a test says so (``advance``, or a fake's ``slow``)."""

    def __init__(self) -> None:
        self._now = 0.0
        self.triggers: dict[str, float] = {}  # Slack trigger_id -> when it was issued

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def issue_trigger(self, trigger_id: str) -> str:
        self.triggers[trigger_id] = self._now
        return trigger_id
