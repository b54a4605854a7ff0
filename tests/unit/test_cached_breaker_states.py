"""The dispatch loop's local copy of breaker states: fresh enough, and never behind its own outcomes."""

from __future__ import annotations

from adapters.cache.breakers import CachedBreakerStates
from adapters.memory.breakers import MemoryBreakerStore
from adapters.memory.clock import FixedClock
from domain.breaker import BreakerPolicy, BreakerStatus


class Counting(MemoryBreakerStore):
    reads = 0

    async def states(self, providers):  # type: ignore[no-untyped-def]
        self.reads += 1
        return await super().states(providers)


async def test_states_are_read_once_per_ttl_and_own_outcomes_show_at_once() -> None:
    inner = Counting(FixedClock(), BreakerPolicy())
    cached = CachedBreakerStates(inner, ttl_s=60)
    await cached.states(["a", "b"])
    await cached.states(["a", "b"])
    assert inner.reads == 1
    for _ in range(5):
        await cached.record("a", False)
    assert (await cached.states(["a", "b"]))["a"].status is BreakerStatus.OPEN and inner.reads == 1


async def test_another_process_change_is_seen_after_the_ttl_and_resets_drop_the_copy() -> None:
    inner = Counting(FixedClock(), BreakerPolicy())
    cached = CachedBreakerStates(inner, ttl_s=0)
    await cached.states(["a"])
    for _ in range(5):
        await inner.record("a", False)  # through the shared store, not this copy
    assert (await cached.states(["a"]))["a"].status is BreakerStatus.OPEN
    await cached.reset("a")
    assert (await cached.states(["a"]))["a"].status is BreakerStatus.CLOSED
