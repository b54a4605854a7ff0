"""Admission limits: scopes, per-key configuration, and the window arithmetic.

The windows are GCRA (generic cell rate algorithm): each scope's whole state is one number, its
theoretical arrival time (TAT). That keeps the shared Redis script O(scopes), lets token scopes take
variable costs and later corrections, and has no calendar bucket edges that let twice the limit
through. A limit of L per period T behaves as a bucket of L that refills at L/T per second.

adapters/redis/scripts/limits.lua mirrors `check` and `adjust` operation for operation (IEEE doubles
on both sides), so the in-process and the Redis limiter reach identical decisions."""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping
from enum import StrEnum

import msgspec

EPSILON = 1e-3  # seconds of float slack: epoch-sized floats drift ~1e-7 per add; a millisecond absorbs it


class Scope(StrEnum):
    REQUESTS_PER_MINUTE = "requests_per_minute"
    REQUESTS_PER_HOUR = "requests_per_hour"
    REQUESTS_PER_DAY = "requests_per_day"
    TOKENS_PER_MINUTE = "tokens_per_minute"
    TOKENS_PER_HOUR = "tokens_per_hour"
    TOKENS_PER_DAY = "tokens_per_day"
    CONCURRENT_REQUESTS = "concurrent_requests"


REQUEST_SCOPES = (Scope.REQUESTS_PER_MINUTE, Scope.REQUESTS_PER_HOUR, Scope.REQUESTS_PER_DAY)
TOKEN_SCOPES = (Scope.TOKENS_PER_MINUTE, Scope.TOKENS_PER_HOUR, Scope.TOKENS_PER_DAY)
RATE_SCOPES = REQUEST_SCOPES + TOKEN_SCOPES  # the order the Lua script uses (ARGV and results)
PERIOD_S: dict[Scope, float] = {
    Scope.REQUESTS_PER_MINUTE: 60.0, Scope.REQUESTS_PER_HOUR: 3600.0, Scope.REQUESTS_PER_DAY: 86400.0,
    Scope.TOKENS_PER_MINUTE: 60.0, Scope.TOKENS_PER_HOUR: 3600.0, Scope.TOKENS_PER_DAY: 86400.0,
}
UNIT: dict[Scope, str] = {
    Scope.REQUESTS_PER_MINUTE: "RPM", Scope.REQUESTS_PER_HOUR: "RPH", Scope.REQUESTS_PER_DAY: "RPD",
    Scope.TOKENS_PER_MINUTE: "TPM", Scope.TOKENS_PER_HOUR: "TPH", Scope.TOKENS_PER_DAY: "TPD",
    Scope.CONCURRENT_REQUESTS: "concurrent requests",
}
CONCURRENCY_RETRY_S = 1.0  # a slot frees when some request ends: there is no exact time to give


class LimitConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Effective limits of one subject; None means the scope is not enforced."""

    requests_per_minute: int | None = 250
    requests_per_hour: int | None = 1_000
    requests_per_day: int | None = 10_000
    tokens_per_minute: int | None = 1_000_000
    tokens_per_hour: int | None = None
    tokens_per_day: int | None = 10_000_000
    concurrent_requests: int | None = 50

    def limit(self, scope: Scope) -> int | None:
        value: int | None = getattr(self, scope.value)
        return value

    def with_overrides(self, overrides: KeyLimits | None) -> LimitConfig:
        """A key's stored values win; its unset (None) columns keep these defaults."""
        if overrides is None:
            return self
        changes = {s.value: v for s in Scope if (v := overrides.limit(s)) is not None}
        return msgspec.structs.replace(self, **changes) if changes else self


DEFAULT_LIMITS = LimitConfig()
ANONYMOUS_LIMITS = LimitConfig(requests_per_minute=10, requests_per_hour=None, requests_per_day=3,
                               tokens_per_minute=None, tokens_per_hour=None, tokens_per_day=None,
                               concurrent_requests=None)


class KeyLimits(msgspec.Struct, frozen=True, kw_only=True):
    """One row of rate_limit_configs: a key's overrides; None = the gateway default."""

    requests_per_minute: int | None = None
    requests_per_hour: int | None = None
    requests_per_day: int | None = None
    tokens_per_minute: int | None = None
    tokens_per_hour: int | None = None
    tokens_per_day: int | None = None
    concurrent_requests: int | None = None

    def limit(self, scope: Scope) -> int | None:
        value: int | None = getattr(self, scope.value)
        return value

    def derived(self) -> KeyLimits:
        """Fill the minute and day scopes from the hourly ones, as the seed did (it stored only the
        hourly values and showed minute = hour // 60, day = hour x 24), so a seed client that sends only
        `requests_per_hour`/`tokens_per_hour` gets the windows it was shown. A given value always wins;
        a missing one is derived only from the same kind's hourly value; with no hourly value it stays
        unset (the gateway default). A derived minute limit is at least 1: a limit of 0 would refuse
        every request (and is not a valid limit)."""
        changes: dict[str, int] = {}
        for minute, hour, day in ((Scope.REQUESTS_PER_MINUTE, Scope.REQUESTS_PER_HOUR, Scope.REQUESTS_PER_DAY),
                                  (Scope.TOKENS_PER_MINUTE, Scope.TOKENS_PER_HOUR, Scope.TOKENS_PER_DAY)):
            hourly = self.limit(hour)
            if hourly is None:
                continue
            if self.limit(minute) is None:
                changes[minute.value] = max(hourly // 60, 1)
            if self.limit(day) is None:
                changes[day.value] = hourly * 24
        return msgspec.structs.replace(self, **changes) if changes else self


class ScopeStatus(msgspec.Struct, frozen=True, kw_only=True):
    """What is left of one scope after the decision: the rate-limit headers come from these."""

    scope: Scope
    limit: int
    remaining: int
    reset_s: float  # until the scope is whole again


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    allowed: bool
    scope: Scope | None = None  # the binding violated scope, when refused
    limit: int | None = None
    retry_after_s: float = 0.0
    statuses: tuple[ScopeStatus, ...] = ()
    lease_id: str | None = None  # the concurrency lease taken, when admitted

    def status(self, scope: Scope) -> ScopeStatus | None:
        return next((s for s in self.statuses if s.scope is scope), None)


class Admission(msgspec.Struct, kw_only=True):
    """An admitted request: what settlement needs, and what the response headers show."""

    subject: str
    config: LimitConfig
    tokens_estimate: int
    decision: Decision
    anonymous: bool = False
    settled: bool = False

    @property
    def lease_id(self) -> str | None:
        return self.decision.lease_id


# ---- GCRA, as pure functions (mirrored by limits.lua) ----

def cost_of(scope: Scope, tokens: int) -> int:
    return tokens if scope in TOKEN_SCOPES else 1


def check(tat: float | None, now: float, limit: int, period: float, cost: float) -> tuple[float, float | None]:
    """-> (wait, new_tat). Refused when wait > EPSILON (new_tat None). The check charges at most one
    whole bucket, so a request larger than the limit passes when the bucket is full and leaves a debt
    (the TAT beyond now + period) that later requests wait out; it is never refused forever."""
    interval = period / limit
    base = max(tat if tat is not None else now, now)
    charge = min(cost, limit) * interval
    wait = base + charge - period - now
    if wait > EPSILON:
        return wait, None
    return wait, base + cost * interval


def adjust(tat: float | None, now: float, limit: int, period: float, delta: float) -> float:
    """Correct a TAT by `delta` units (actual minus estimated tokens); a refund never banks credit."""
    interval = period / limit
    current = tat if tat is not None else now
    if delta >= 0:
        return max(current, now) + delta * interval
    return max(current + delta * interval, now)


def remaining(tat: float | None, now: float, limit: int, period: float) -> tuple[int, float]:
    """-> (units left, seconds until whole) for a TAT."""
    interval = period / limit
    used = max((tat if tat is not None else now) - now, 0.0)
    left = math.floor((period - used) / interval + 0.01)  # a hundredth of a unit absorbs epoch float noise
    return min(max(left, 0), limit), used


def evaluate(config: LimitConfig, tats: Mapping[Scope, float], now: float, tokens: int,
             active: int) -> tuple[Decision, dict[Scope, float]]:
    """Check every configured scope at once; consume all of them or none. -> (decision, new TATs).
    `active` is the number of live concurrency leases before this request."""
    new: dict[Scope, float] = {}
    worst: Scope | None = None
    worst_wait = 0.0
    for scope in RATE_SCOPES:
        limit = config.limit(scope)
        if limit is None:
            continue
        wait, tat = check(tats.get(scope), now, limit, PERIOD_S[scope], cost_of(scope, tokens))
        if tat is None:
            if wait > worst_wait:
                worst, worst_wait = scope, wait
        else:
            new[scope] = tat
    ceiling = config.concurrent_requests
    if ceiling is not None and active >= ceiling and CONCURRENCY_RETRY_S > worst_wait:
        worst, worst_wait = Scope.CONCURRENT_REQUESTS, CONCURRENCY_RETRY_S
    allowed = worst is None
    after = {**tats, **new} if allowed else dict(tats)
    decision = decide(config, allowed=allowed, violated=worst, retry_after_s=worst_wait, tats=after, now=now,
                      active=active + (1 if allowed else 0))
    return decision, (new if allowed else {})


def decide(config: LimitConfig, *, allowed: bool, violated: Scope | None, retry_after_s: float,
           tats: Mapping[Scope, float], now: float, active: int, lease_id: str | None = None) -> Decision:
    """The Decision both adapters return, built from the TATs after the check."""
    statuses = []
    for scope in RATE_SCOPES:
        limit = config.limit(scope)
        if limit is not None:
            left, reset = remaining(tats.get(scope), now, limit, PERIOD_S[scope])
            statuses.append(ScopeStatus(scope=scope, limit=limit, remaining=left, reset_s=reset))
    if config.concurrent_requests is not None:
        statuses.append(ScopeStatus(scope=Scope.CONCURRENT_REQUESTS, limit=config.concurrent_requests,
                                    remaining=max(config.concurrent_requests - active, 0), reset_s=0.0))
    return Decision(allowed=allowed, scope=None if allowed else violated,
                    limit=None if allowed or violated is None else config.limit(violated),
                    retry_after_s=0.0 if allowed else retry_after_s, statuses=tuple(statuses),
                    lease_id=lease_id if allowed else None)


def corrected(config: LimitConfig, tats: Mapping[Scope, float], now: float, delta: int) -> dict[Scope, float]:
    """New TATs of the token scopes after settling `delta` tokens more (or fewer) than estimated."""
    if delta == 0:
        return {}
    out = {}
    for scope in TOKEN_SCOPES:
        limit = config.limit(scope)
        if limit is not None:
            out[scope] = adjust(tats.get(scope), now, limit, PERIOD_S[scope], delta)
    return out


# ---- subjects: who a limit is counted against ----

def key_subject(api_key_id: int) -> str:
    return f"key:{api_key_id}"


def user_subject(user_id: int) -> str:
    return f"user:{user_id}"


def ip_subject(salt: bytes, ip: str | None) -> str:
    """A salted digest, so neither Redis nor logs hold client addresses."""
    digest = hmac.new(salt, (ip or "unknown").encode(), hashlib.sha256).hexdigest()[:32]
    return f"ip:{digest}"


# ---- what the client is told ----

def limit_message(scope: Scope, limit: int) -> str:
    return f"Rate limit exceeded. Limit: {limit} {UNIT[scope]}"


def retry_after_header(seconds: float) -> int:
    """Whole seconds, at least 1: a client told 0 would retry at once."""
    return max(1, math.ceil(seconds - EPSILON))


def duration(seconds: float) -> str:
    """OpenAI's reset format: "240ms", "1.5s", "6m0s", "1h2m3s"."""
    if seconds < 1:
        return f"{max(math.ceil(seconds * 1000 - 1e-3), 0)}ms"  # a microsecond of epoch float noise
    if seconds < 60:
        return f"{round(seconds, 3):g}s"
    whole = math.ceil(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes}m{secs}s" if hours else f"{minutes}m{secs}s"


def rate_limit_headers(admission: Admission) -> dict[str, str]:
    """The headers every admitted inference response carries."""
    return headers_for(admission.decision)


def headers_for(decision: Decision) -> dict[str, str]:
    """RateLimit-* (IETF draft: the request scope nearest exhaustion) and OpenAI's X-RateLimit-*
    (the per-minute request and token scopes). Also sent with a 429, showing what is left."""
    headers: dict[str, str] = {}
    requests = [s for s in decision.statuses if s.scope in REQUEST_SCOPES]
    if requests:
        tightest = min(requests, key=lambda s: (s.remaining / s.limit, PERIOD_S[s.scope]))
        headers["RateLimit-Limit"] = str(tightest.limit)
        headers["RateLimit-Remaining"] = str(tightest.remaining)
        headers["RateLimit-Reset"] = str(math.ceil(tightest.reset_s - EPSILON) if tightest.reset_s > 0 else 0)
    rpm = decision.status(Scope.REQUESTS_PER_MINUTE)
    if rpm is not None:
        headers["X-RateLimit-Limit-Requests"] = str(rpm.limit)
        headers["X-RateLimit-Remaining-Requests"] = str(rpm.remaining)
        headers["X-RateLimit-Reset-Requests"] = duration(rpm.reset_s)
    tpm = decision.status(Scope.TOKENS_PER_MINUTE)
    if tpm is not None:
        headers["X-RateLimit-Limit-Tokens"] = str(tpm.limit)
        headers["X-RateLimit-Remaining-Tokens"] = str(tpm.remaining)
        headers["X-RateLimit-Reset-Tokens"] = duration(tpm.reset_s)
    return headers
