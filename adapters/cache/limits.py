"""The rate limiter's Redis failure policy, explicit: fail open to the in-process limiter (counted
and logged), or fail closed with a 503. Never a 500, never a hang: the primary's own short timeout
bounds every attempt, and after a failure the primary is skipped for `retry_s` before it is probed
again, so an outage does not add a timeout to every request. When Redis answers again, shared
limiting resumes with the next admission."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from domain.errors import ServiceUnavailable
from domain.limits import Decision, LimitConfig
from ports.limits import RateLimiter

log = structlog.get_logger(__name__)
LOCAL = "local:"  # lease ids the fallback issued; their settlement goes back to it


class FailoverRateLimiter:
    def __init__(self, primary: RateLimiter, fallback: RateLimiter, *, fail_closed: bool,
                 on_degraded: Callable[[], None], monotonic: Callable[[], float], retry_s: float = 1.0) -> None:
        self._primary = primary
        self._fallback = fallback
        self._fail_closed = fail_closed
        self._on_degraded = on_degraded
        self._monotonic = monotonic
        self._retry_s = retry_s
        self._down_until: float | None = None  # primary skipped until then

    @property
    def degraded(self) -> bool:
        return self._down_until is not None

    def _usable(self) -> bool:
        return self._down_until is None or self._monotonic() >= self._down_until

    def _lost(self, operation: str, exc: ServiceUnavailable) -> None:
        if self._down_until is None:
            log.warning("rate_limiter_degraded", operation=operation, error=exc.details.get("error"),
                        policy="fail_closed" if self._fail_closed else "fail_open")
        self._down_until = self._monotonic() + self._retry_s

    def _recovered(self) -> None:
        if self._down_until is not None:
            log.info("rate_limiter_recovered")
            self._down_until = None

    def _degraded(self) -> None:
        self._on_degraded()
        if self._fail_closed:
            raise ServiceUnavailable("Rate limiting is temporarily unavailable", reason="rate_limiter",
                                     retry_after=max(1, round(self._retry_s)))

    async def admit(self, subject: str, config: LimitConfig, tokens_estimate: int, now: float) -> Decision:
        if self._usable():
            try:
                decision = await self._primary.admit(subject, config, tokens_estimate, now)
            except ServiceUnavailable as exc:
                self._lost("admit", exc)
            else:
                self._recovered()
                return decision
        self._degraded()
        decision = await self._fallback.admit(subject, config, tokens_estimate, now)
        if decision.lease_id is None:
            return decision
        return Decision(allowed=decision.allowed, statuses=decision.statuses, lease_id=LOCAL + decision.lease_id)

    async def settle(self, subject: str, config: LimitConfig, lease_id: str, tokens_estimate: int,
                     actual_tokens: int | None, now: float) -> bool:
        """Never raises for a lost Redis: the lease then expires on its own (its TTL)."""
        if lease_id.startswith(LOCAL):
            return await self._fallback.settle(subject, config, lease_id[len(LOCAL):], tokens_estimate,
                                               actual_tokens, now)
        try:
            settled = await self._primary.settle(subject, config, lease_id, tokens_estimate, actual_tokens, now)
        except ServiceUnavailable as exc:
            self._lost("settle", exc)
            self._on_degraded()
            return False
        self._recovered()
        return settled

    async def concurrency(self, subject: str, now: float) -> int:
        local = await self._fallback.concurrency(subject, now)
        try:
            return local + await self._primary.concurrency(subject, now)
        except ServiceUnavailable:
            return local
