"""Public tokens-per-second figures (#1706 gated and windowed, #1707 all time and open)."""

from __future__ import annotations

from domain.errors import Forbidden
from domain.throughput import NOT_PUBLISHED, WINDOWS, InvalidTimeRange, TimeRange, allowed_pairs, exposition
from ports.chat_history import ThroughputStore
from ports.clock import Clock


class TokensPerSecond:
    def __init__(self, store: ThroughputStore, clock: Clock) -> None:
        self._store = store  # usage_pairs comes through the 60-second cache (adapters/cache/throughput.py)
        self._clock = clock

    async def windowed(self, time: str, model_id: int, provider: str) -> str:
        try:
            window = WINDOWS[TimeRange(time)]
        except ValueError:
            raise InvalidTimeRange() from None
        if (model_id, provider) not in allowed_pairs(await self._store.usage_pairs()):
            raise Forbidden(NOT_PUBLISHED)
        now = self._clock.now()
        figure = await self._store.throughput(model_id, provider, since=now - window)
        return exposition(figure, generated=now, time_range=time, gated=True)

    async def all_time(self, model_id: int, provider: str) -> str:
        figure = await self._store.throughput(model_id, provider, since=None)
        return exposition(figure, generated=self._clock.now(), time_range="all", gated=False)
