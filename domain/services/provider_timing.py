"""SummarizeProviderTimings (#1735): which providers are slow enough to hold gateway slots."""

from __future__ import annotations

from domain.timing import ProviderTiming
from ports.timing import ProviderTimings


class SummarizeProviderTimings:
    def __init__(self, timings: ProviderTimings) -> None:
        self._timings = timings

    async def __call__(self) -> list[ProviderTiming]:
        return sorted(self._timings.snapshot(), key=lambda t: t.key)
