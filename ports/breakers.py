"""Circuit breaker state, shared by every gateway process."""

from __future__ import annotations

from typing import Protocol

from domain.breaker import BreakerState


class BreakerStore(Protocol):
    async def states(self, providers: list[str]) -> dict[str, BreakerState]:
        """Current state of each provider (closed when never seen), in one round trip."""
        ...

    async def record(self, provider: str, success: bool) -> BreakerState:
        """Apply one outcome atomically; returns the new state."""
        ...

    async def reset(self, provider: str) -> BreakerState: ...

    async def reset_all(self) -> list[str]:
        """Close every breaker; returns the providers that were reset."""
        ...

    async def all(self) -> dict[str, BreakerState]:
        """Every provider with recorded state."""
        ...
