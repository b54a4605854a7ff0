"""Breaker monitoring (#1708 list, #1709 one): every catalog provider, seen or not, as of now."""

from __future__ import annotations

from collections.abc import Callable

from domain.breaker import BreakerPolicy, BreakerReport, BreakerState, report
from ports.breakers import BreakerStore
from ports.clock import Clock


class ListBreakers:
    """Catalog providers never seen read as closed; providers known only to the store (say, dropped
    from the catalog while their breaker was open) are listed too, so nothing open hides."""

    def __init__(self, store: BreakerStore, providers: Callable[[], list[str]], clock: Clock,
                 policy: BreakerPolicy) -> None:
        self._store = store
        self._providers = providers
        self._clock = clock
        self._policy = policy

    async def __call__(self) -> list[BreakerReport]:
        known = await self._store.all()
        now = self._clock.now().timestamp()
        names = sorted(set(self._providers()) | set(known))
        return [report(known.get(p) or BreakerState(provider=p), now, self._policy) for p in names]


class ShowBreaker:
    """Any name answers (closed when never seen): reading creates nothing, so there is no 404."""

    def __init__(self, store: BreakerStore, clock: Clock, policy: BreakerPolicy) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy

    async def __call__(self, provider: str) -> BreakerReport:
        state = (await self._store.states([provider]))[provider]
        return report(state, self._clock.now().timestamp(), self._policy)
