"""Circuit breakers per provider: closed -> open -> half_open -> closed, as pure rules."""

from __future__ import annotations

from enum import StrEnum

import msgspec


class BreakerStatus(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class BreakerPolicy(msgspec.Struct, frozen=True, kw_only=True):
    failure_threshold: int = 5        # consecutive failures that open the breaker
    failure_rate: float = 0.5         # or this share of failures ...
    window_s: float = 60.0            # ... over this window ...
    min_requests: int = 10            # ... with at least this many requests
    open_for_s: float = 60.0          # then half-open after this long
    half_open_successes: int = 2      # successes in half-open that close it


class BreakerState(msgspec.Struct, frozen=True, kw_only=True):
    provider: str
    status: BreakerStatus = BreakerStatus.CLOSED
    consecutive_failures: int = 0
    window_requests: int = 0
    window_failures: int = 0
    opened_at: float | None = None     # epoch seconds
    half_open_successes: int = 0
    total_failures: int = 0
    total_successes: int = 0
    last_failure_at: float | None = None

    def allows_traffic(self, now: float, policy: BreakerPolicy) -> bool:
        """Open breakers refuse traffic until their cool-down ends (then they are half-open)."""
        if self.status is not BreakerStatus.OPEN:
            return True
        return self.opened_at is not None and now - self.opened_at >= policy.open_for_s
