"""Manual breaker resets (#1710 one, #1711 all): an admin's word that providers have recovered."""

from __future__ import annotations

from collections.abc import Callable

from domain import not_found
from domain.breaker import BreakerPolicy, BreakerReport, BreakerStatus, report
from ports.breakers import BreakerStore
from ports.clock import Clock
from ports.telemetry import InferenceMetrics


class ResetBreaker:
    """Only providers the gateway knows (catalog or store) can be reset: 404 otherwise, as the spec."""

    def __init__(self, store: BreakerStore, providers: Callable[[], list[str]], clock: Clock,
                 policy: BreakerPolicy, metrics: InferenceMetrics) -> None:
        self._store = store
        self._providers = providers
        self._clock = clock
        self._policy = policy
        self._metrics = metrics

    async def __call__(self, provider: str) -> BreakerReport:
        if provider not in self._providers() and provider not in await self._store.all():
            raise not_found.breaker(provider)
        state = await self._store.reset(provider)
        self._metrics.breaker_state(provider=provider, state=BreakerStatus.CLOSED.value)
        return report(state, self._clock.now().timestamp(), self._policy)


class ResetAllBreakers:
    """Closes every breaker the store knows; returns every provider's state afterwards."""

    def __init__(self, store: BreakerStore, providers: Callable[[], list[str]], clock: Clock,
                 policy: BreakerPolicy, metrics: InferenceMetrics) -> None:
        self._store = store
        self._providers = providers
        self._clock = clock
        self._policy = policy
        self._metrics = metrics

    async def __call__(self) -> list[BreakerReport]:
        reset = await self._store.reset_all()
        names = sorted(set(self._providers()) | set(reset))
        states = await self._store.states(names)
        now = self._clock.now().timestamp()
        for provider in names:
            self._metrics.breaker_state(provider=provider, state=BreakerStatus.CLOSED.value)
        return [report(states[p], now, self._policy) for p in names]
