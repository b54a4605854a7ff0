"""Memory twin of an analytics sink: records every delivered batch; can be told to fail."""

from __future__ import annotations

from domain.analytics import AnalyticsEvent
from ports.analytics import DeliveryFailed


class MemoryAnalyticsSink:
    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self.batches: list[list[AnalyticsEvent]] = []
        self.failures: list[DeliveryFailed] = []  # raised, in order, by the next sends

    @property
    def events(self) -> list[AnalyticsEvent]:
        return [e for batch in self.batches for e in batch]

    async def send(self, events: list[AnalyticsEvent]) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.batches.append(list(events))
