"""A short-lived local copy of breaker states for the dispatch loop.

Reading every offer's breaker from Redis costs a round trip per request; a state a quarter of a
second old is as good for choosing the order of offers (a breaker opens after failures that took
longer than that). Outcomes still go to the shared store at once, and the state it returns
refreshes the copy, so this process sees its own transitions immediately."""

from __future__ import annotations

import time

from domain.breaker import BreakerState
from ports.breakers import BreakerStore


class CachedBreakerStates:
    def __init__(self, inner: BreakerStore, *, ttl_s: float = 0.25) -> None:
        self._inner = inner
        self._ttl = ttl_s
        self._states: dict[str, tuple[float, BreakerState]] = {}

    async def states(self, providers: list[str]) -> dict[str, BreakerState]:
        now = time.monotonic()
        cached = {p: hit[1] for p in providers if (hit := self._states.get(p)) and now - hit[0] < self._ttl}
        if len(cached) == len(providers):
            return cached
        fresh = await self._inner.states(providers)
        for provider, state in fresh.items():
            self._states[provider] = (now, state)
        return fresh

    async def record(self, provider: str, success: bool) -> BreakerState:
        state = await self._inner.record(provider, success)
        self._states[provider] = (time.monotonic(), state)
        return state

    async def reset(self, provider: str) -> BreakerState:
        self._states.pop(provider, None)
        return await self._inner.reset(provider)

    async def reset_all(self) -> list[str]:
        self._states.clear()
        return await self._inner.reset_all()

    async def all(self) -> dict[str, BreakerState]:
        return await self._inner.all()
