"""The rate limiter's Redis failure policy, explicit: fail open to the in-process limiter (counted
and logged), or fail closed with a 503. Never a 500, never a hang: the primary's own short timeout
bounds every attempt, and after a failure the primary is skipped for `retry_s` before it is probed
again, so an outage does not add a timeout to every request. When Redis answers again, shared
limiting resumes with the next admission."""

from __future__ import annotations

import asyncio
from collections import deque
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
        # Redis leases not known to be released (an admission whose answer was lost, a release that
        # failed): released in the background once Redis answers again
        self._unsure: deque[tuple[str, LimitConfig, str]] = deque(maxlen=10_000)
        self._flushing: asyncio.Task[None] | None = None

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

    def _recovered(self, now: float) -> None:
        if self._down_until is not None:
            log.info("rate_limiter_recovered")
            self._down_until = None
        if self._unsure and (self._flushing is None or self._flushing.done()):
            self._flushing = asyncio.create_task(self._flush(now))

    async def _flush(self, now: float) -> None:
        """Release the unsure leases in the background (the request that found Redis back never waits)."""
        while self._unsure:
            subject, config, lease_id = self._unsure.popleft()
            try:
                await self._primary.settle(subject, config, lease_id, 0, None, now)
            except ServiceUnavailable:
                self._unsure.appendleft((subject, config, lease_id))
                return

    def _remember(self, subject: str, config: LimitConfig, exc: ServiceUnavailable) -> None:
        lease_id = exc.details.get("lease_id")
        if isinstance(lease_id, str):
            self._unsure.append((subject, config, lease_id))

    async def drain(self) -> None:
        """Wait for the release of unsure leases, if one is running (shutdown, tests)."""
        if self._flushing is not None:
            await self._flushing

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
                self._remember(subject, config, exc)
            else:
                self._recovered(now)
                return decision
        self._degraded()
        decision = await self._fallback.admit(subject, config, tokens_estimate, now)
        if decision.lease_id is None:
            return decision
        return Decision(allowed=decision.allowed, statuses=decision.statuses, lease_id=LOCAL + decision.lease_id)

    async def settle(self, subject: str, config: LimitConfig, lease_id: str, tokens_estimate: int,
                     actual_tokens: int | None, now: float) -> bool:
        """A lost Redis raises ServiceUnavailable at once (the caller may retry); the lease is also
        queued for release when Redis answers again, and expires on its own (its TTL) at the latest."""
        if lease_id.startswith(LOCAL):
            return await self._fallback.settle(subject, config, lease_id[len(LOCAL):], tokens_estimate,
                                               actual_tokens, now)
        if not self._usable():
            self._on_degraded()
            self._unsure.append((subject, config, lease_id))
            raise ServiceUnavailable("Rate limiter unavailable", reason="redis")
        try:
            settled = await self._primary.settle(subject, config, lease_id, tokens_estimate, actual_tokens, now)
        except ServiceUnavailable as exc:
            self._lost("settle", exc)
            self._on_degraded()
            self._unsure.append((subject, config, lease_id))
            raise
        self._recovered(now)
        return settled

    async def peek(self, subject: str, config: LimitConfig, now: float) -> Decision:
        """The shared windows; the local ones only while Redis is lost."""
        try:
            return await self._primary.peek(subject, config, now)
        except ServiceUnavailable:
            return await self._fallback.peek(subject, config, now)

    async def concurrency(self, subject: str, now: float) -> int:
        local = await self._fallback.concurrency(subject, now)
        try:
            return local + await self._primary.concurrency(subject, now)
        except ServiceUnavailable:
            return local
