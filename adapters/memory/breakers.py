"""In-process breakers: the single-process twin of the Redis store, running the domain rules."""

from __future__ import annotations

from domain.breaker import BreakerPolicy, BreakerState, effective, on_outcome, reset
from ports.clock import Clock


class MemoryBreakerStore:
    """Atomic by construction: no await between reading and writing a state."""

    def __init__(self, clock: Clock, policy: BreakerPolicy | None = None) -> None:
        self._clock = clock
        self._policy = policy or BreakerPolicy()
        self._states: dict[str, BreakerState] = {}

    def _now(self) -> float:
        return self._clock.now().timestamp()

    async def states(self, providers: list[str]) -> dict[str, BreakerState]:
        now = self._now()
        return {p: effective(self._states.get(p) or BreakerState(provider=p), now, self._policy) for p in providers}

    async def record(self, provider: str, success: bool) -> BreakerState:
        state = self._states.get(provider) or BreakerState(provider=provider)
        self._states[provider] = state = on_outcome(state, success, self._now(), self._policy)
        return state

    async def reset(self, provider: str) -> BreakerState:
        self._states[provider] = state = reset(provider)
        return state

    async def reset_all(self) -> list[str]:
        providers = sorted(self._states)
        for provider in providers:
            self._states[provider] = reset(provider)
        return providers

    async def all(self) -> dict[str, BreakerState]:
        return await self.states(sorted(self._states))
