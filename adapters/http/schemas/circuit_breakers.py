"""Wire shapes of the circuit breaker endpoints (#1708-#1711), as the seed answered them."""

from __future__ import annotations

import math

import msgspec

from domain.breaker import BreakerReport, BreakerStatus


class BreakerOut(msgspec.Struct, kw_only=True):
    provider: str
    state: str
    failure_count: int
    success_count: int
    failure_rate: float
    recent_requests: int
    opened_at: float | None            # epoch seconds
    seconds_until_retry: int           # rounded up: a client waiting this long will be let through
    last_failure_time: float | None    # epoch seconds
    total_failures: int
    total_successes: int

    @classmethod
    def of(cls, r: BreakerReport) -> BreakerOut:
        return cls(provider=r.provider, state=r.status.value, failure_count=r.failure_count,
                   success_count=r.success_count, failure_rate=round(r.failure_rate, 4),
                   recent_requests=r.recent_requests, opened_at=r.opened_at,
                   seconds_until_retry=math.ceil(r.seconds_until_retry), last_failure_time=r.last_failure_at,
                   total_failures=r.total_failures, total_successes=r.total_successes)


class BreakersOut(msgspec.Struct, kw_only=True):
    circuit_breakers: dict[str, BreakerOut]
    total_count: int
    open_count: int
    half_open_count: int
    closed_count: int

    @classmethod
    def of(cls, reports: list[BreakerReport]) -> BreakersOut:
        def count(status: BreakerStatus) -> int:
            return sum(1 for r in reports if r.status is status)
        return cls(circuit_breakers={r.provider: BreakerOut.of(r) for r in reports}, total_count=len(reports),
                   open_count=count(BreakerStatus.OPEN), half_open_count=count(BreakerStatus.HALF_OPEN),
                   closed_count=count(BreakerStatus.CLOSED))


class BreakerResetOut(msgspec.Struct, kw_only=True):
    success: bool
    message: str
    state: BreakerOut


class BreakersResetOut(msgspec.Struct, kw_only=True):
    success: bool
    message: str
    reset_count: int
    states: dict[str, BreakerOut]
