"""Circuit breakers per provider: closed -> open -> half_open -> closed, as pure rules.

Time is passed in as epoch seconds (wall time, because several processes share one breaker), so the
same functions serve the in-process store, tests with explicit times, and the Redis store, whose Lua
script (adapters/redis/scripts/breaker.lua) mirrors `on_outcome` line for line.

The failure-rate window is approximated by buckets of `bucket_s` seconds: bucket index
`floor(t / bucket_s)`, and the window holds the last `window_s / bucket_s` buckets (the current one
included), so it covers between `window_s - bucket_s` and `window_s` seconds. Bounded state, one
hash field per bucket in Redis.
"""

from __future__ import annotations

import math
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
    bucket_s: float = 10.0            # window resolution
    open_for_s: float = 60.0          # then half-open after this long
    half_open_successes: int = 2      # successes in half-open that close it

    @property
    def buckets(self) -> int:
        """How many buckets the window keeps (the current one included)."""
        return max(1, math.ceil(self.window_s / self.bucket_s))

    def bucket(self, now: float) -> int:
        return math.floor(now / self.bucket_s)


class Bucket(msgspec.Struct, frozen=True, array_like=True):
    index: int        # floor(t / bucket_s)
    requests: int
    failures: int


class BreakerState(msgspec.Struct, frozen=True, kw_only=True):
    provider: str
    status: BreakerStatus = BreakerStatus.CLOSED
    consecutive_failures: int = 0
    consecutive_successes: int = 0    # in half-open: the successes that count towards closing
    opened_at: float | None = None    # epoch seconds; kept through half-open, cleared on close
    last_failure_at: float | None = None
    total_failures: int = 0
    total_successes: int = 0
    window: tuple[Bucket, ...] = ()   # ascending by index

    def allows_traffic(self, now: float, policy: BreakerPolicy) -> bool:
        """Open breakers refuse traffic until their cool-down ends (then they are half-open)."""
        return effective(self, now, policy).status is not BreakerStatus.OPEN

    def window_counts(self, now: float, policy: BreakerPolicy) -> tuple[int, int]:
        """(requests, failures) in the window ending at `now`."""
        return _counts(self.window, policy.bucket(now), policy)

    def failure_rate(self, now: float, policy: BreakerPolicy) -> float:
        requests, failures = self.window_counts(now, policy)
        return failures / requests if requests else 0.0

    def seconds_until_retry(self, now: float, policy: BreakerPolicy) -> float:
        """How long an open breaker still refuses traffic (0 unless open)."""
        if self.status is not BreakerStatus.OPEN or self.opened_at is None:
            return 0.0
        return max(0.0, self.opened_at + policy.open_for_s - now)


def effective(state: BreakerState, now: float, policy: BreakerPolicy) -> BreakerState:
    """The state as of `now`: an open breaker past its cool-down reads as half-open, with no
    half-open successes yet. Stores keep the open record; this view is what callers act on."""
    if (state.status is BreakerStatus.OPEN and state.opened_at is not None
            and now - state.opened_at >= policy.open_for_s):
        return msgspec.structs.replace(state, status=BreakerStatus.HALF_OPEN, consecutive_successes=0)
    return state


def on_outcome(state: BreakerState, success: bool, now: float, policy: BreakerPolicy) -> BreakerState:
    """Apply one request outcome. Closed opens on a failure streak or a failure rate; half-open
    closes after enough successes and reopens on any failure; open stays open (its cool-down is
    not extended by calls made while every provider was open)."""
    s = effective(state, now, policy)
    current = policy.bucket(now)
    window = _add(s.window, current, success, policy)
    if success:
        s = msgspec.structs.replace(
            s, consecutive_successes=s.consecutive_successes + 1, consecutive_failures=0,
            total_successes=s.total_successes + 1, window=window)
        if s.status is BreakerStatus.HALF_OPEN and s.consecutive_successes >= policy.half_open_successes:
            return msgspec.structs.replace(s, status=BreakerStatus.CLOSED, opened_at=None, window=())
        return s
    s = msgspec.structs.replace(
        s, consecutive_failures=s.consecutive_failures + 1, consecutive_successes=0,
        total_failures=s.total_failures + 1, last_failure_at=now, window=window)
    if s.status is BreakerStatus.HALF_OPEN or (s.status is BreakerStatus.CLOSED and _trips(s, current, policy)):
        return msgspec.structs.replace(s, status=BreakerStatus.OPEN, opened_at=now)
    return s


class BreakerReport(msgspec.Struct, frozen=True, kw_only=True):
    """What monitoring sees of one breaker at one instant (the spec's fields, plus totals)."""

    provider: str
    status: BreakerStatus
    failure_count: int            # consecutive failures
    success_count: int            # consecutive successes
    failure_rate: float           # over the window
    recent_requests: int          # in the window
    opened_at: float | None
    seconds_until_retry: float
    last_failure_at: float | None
    total_failures: int
    total_successes: int


def report(state: BreakerState, now: float, policy: BreakerPolicy) -> BreakerReport:
    s = effective(state, now, policy)
    requests, failures = s.window_counts(now, policy)
    return BreakerReport(
        provider=s.provider, status=s.status, failure_count=s.consecutive_failures,
        success_count=s.consecutive_successes, failure_rate=failures / requests if requests else 0.0,
        recent_requests=requests, opened_at=s.opened_at, seconds_until_retry=s.seconds_until_retry(now, policy),
        last_failure_at=s.last_failure_at, total_failures=s.total_failures, total_successes=s.total_successes)


def reset(provider: str) -> BreakerState:
    """A manual reset: closed, every counter back to zero."""
    return BreakerState(provider=provider)


def _trips(state: BreakerState, current: int, policy: BreakerPolicy) -> bool:
    if state.consecutive_failures >= policy.failure_threshold:
        return True
    requests, failures = _counts(state.window, current, policy)
    return requests >= policy.min_requests and failures / requests >= policy.failure_rate


def _counts(window: tuple[Bucket, ...], current: int, policy: BreakerPolicy) -> tuple[int, int]:
    live = [b for b in window if b.index > current - policy.buckets]
    return sum(b.requests for b in live), sum(b.failures for b in live)


def _add(window: tuple[Bucket, ...], current: int, success: bool,
         policy: BreakerPolicy) -> tuple[Bucket, ...]:
    """Count one outcome in the current bucket and drop buckets that left the window."""
    kept = {b.index: b for b in window if b.index > current - policy.buckets}
    old = kept.get(current, Bucket(current, 0, 0))
    kept[current] = Bucket(current, old.requests + 1, old.failures + (0 if success else 1))
    return tuple(kept[i] for i in sorted(kept))
