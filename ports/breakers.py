"""Circuit breaker state, shared by every gateway process."""

from __future__ import annotations

from typing import Protocol

from domain.breaker import BreakerState


class BreakerStore(Protocol):
    """Applies domain/breaker.py's rules at the store's clock. Every state returned is the effective
    one (an open breaker past its cool-down reads as half-open). Adapters that lose their backend
    raise `ServiceUnavailable(reason=...)`; callers on the request path fail open."""

    async def states(self, providers: list[str]) -> dict[str, BreakerState]:
        """Current state of each provider (closed when never seen), in one round trip."""
        ...

    async def record(self, provider: str, success: bool) -> BreakerState:
        """Apply one outcome atomically; returns the new state."""
        ...

    async def reset(self, provider: str) -> BreakerState:
        """Close the breaker and zero its counters (the provider stays known)."""
        ...

    async def reset_all(self) -> list[str]:
        """Close every known breaker; returns the providers that were reset."""
        ...

    async def all(self) -> dict[str, BreakerState]:
        """Every provider with recorded state (including reset ones)."""
        ...
