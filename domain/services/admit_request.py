"""AdmitRequest: step 3 of the pipeline. Counts the request against every limit of its subject (the
key, or the client's hashed address when anonymous) and takes a concurrency lease, in one limiter
round trip; `settle` returns the lease and corrects the token windows with the actual usage.

A lease must never leak: both calls run the limiter in a shielded task, so a caller cancelled
mid-call (a client that disconnects) still completes the release, and an admission whose caller was
cancelled before it could see the lease releases it as soon as it lands."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from domain.errors import RateLimited, ServiceUnavailable
from domain.inference import Caller, InferenceRequest
from domain.limits import (
    ANONYMOUS_LIMITS,
    Admission,
    Decision,
    LimitConfig,
    Scope,
    headers_for,
    ip_subject,
    key_subject,
    limit_message,
    retry_after_header,
    user_subject,
)
from ports.clock import Clock
from ports.limits import LimitConfigRepository, RateLimiter

RELEASE_RETRY_S = (0.2, 1.0, 5.0)  # background retries of a release the limiter could not take


class AdmitRequest:
    def __init__(self, limiter: RateLimiter, configs: LimitConfigRepository, clock: Clock, *,
                 defaults: LimitConfig | None = None, anonymous: LimitConfig = ANONYMOUS_LIMITS,
                 ip_salt: bytes = b"", default_output_tokens: int = 1024) -> None:
        self._limiter = limiter
        self._configs = configs
        self._clock = clock
        self._defaults = defaults or LimitConfig()
        self._anonymous = anonymous
        self._salt = ip_salt
        self._default_output = default_output_tokens
        self._background: set[asyncio.Task[Any]] = set()

    async def __call__(self, caller: Caller, request: InferenceRequest) -> Admission:
        """Raise RateLimited (429) when any scope is exhausted; ServiceUnavailable (503) when the
        limiter is lost and the policy is fail-closed."""
        subject, config, anonymous = await self._limits_of(caller)
        tokens = request.prompt_tokens_estimate + (
            request.max_tokens if request.max_tokens is not None else self._default_output)
        decision = await self._admit(subject, config, tokens)
        admission = Admission(subject=subject, config=config, tokens_estimate=tokens, decision=decision,
                              anonymous=anonymous)
        if not decision.allowed:
            raise refusal(admission)
        return admission

    async def settle(self, admission: Admission, actual_tokens: int | None) -> None:
        """Release the lease and correct the token windows (None: keep the estimate). Idempotent.
        Never raises for a lost limiter: one attempt is awaited, retries go on in the background,
        and a lease that still cannot be returned expires on its own (its TTL)."""
        if admission.settled or admission.lease_id is None:
            return
        admission.settled = True
        task = self._spawn(self._release(admission.subject, admission.config, admission.lease_id,
                                         admission.tokens_estimate, actual_tokens))
        with contextlib.suppress(ServiceUnavailable):
            await asyncio.shield(task)

    async def drain(self) -> None:
        """Wait for releases still running in the background (shutdown, tests)."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def _limits_of(self, caller: Caller) -> tuple[str, LimitConfig, bool]:
        if caller.api_key_id is not None:
            try:
                overrides = await self._configs.get(caller.api_key_id)
            except ServiceUnavailable:
                overrides = None  # database lost and nothing cached: the defaults still protect
            return key_subject(caller.api_key_id), self._defaults.with_overrides(overrides), False
        if caller.user_id is not None:
            return user_subject(caller.user_id), self._defaults, False
        return ip_subject(self._salt, caller.client_ip), self._anonymous, True

    async def _admit(self, subject: str, config: LimitConfig, tokens: int) -> Decision:
        task = self._spawn(self._limiter.admit(subject, config, tokens, self._now()))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(lambda t: self._release_orphan(t, subject, config, tokens))
            raise
        except ServiceUnavailable as exc:
            self._release_unsure(exc, subject, config, tokens)
            raise

    def _release_orphan(self, task: asyncio.Task[Decision], subject: str, config: LimitConfig, tokens: int) -> None:
        """The caller left before the admission's answer: return whatever lease it took."""
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, ServiceUnavailable):
            self._release_unsure(exc, subject, config, tokens)
        elif exc is None and (lease_id := task.result().lease_id) is not None:
            self._spawn(self._release(subject, config, lease_id, tokens, None))

    def _release_unsure(self, exc: ServiceUnavailable, subject: str, config: LimitConfig, tokens: int) -> None:
        """An admission whose answer was lost may still have taken its lease: return it (harmless if not)."""
        lease_id = exc.details.get("lease_id")
        if isinstance(lease_id, str):
            self._spawn(self._release(subject, config, lease_id, tokens, None))

    async def _release(self, subject: str, config: LimitConfig, lease_id: str, estimate: int,
                       actual: int | None) -> None:
        try:
            await self._limiter.settle(subject, config, lease_id, estimate, actual, self._now())
        except ServiceUnavailable:
            self._spawn(self._retry_release(subject, config, lease_id, estimate, actual))
            raise

    async def _retry_release(self, subject: str, config: LimitConfig, lease_id: str, estimate: int,
                             actual: int | None) -> None:
        """Settlement is idempotent, so a retry after an attempt whose answer was lost is harmless."""
        for delay in RELEASE_RETRY_S:
            await asyncio.sleep(delay)
            try:
                await self._limiter.settle(subject, config, lease_id, estimate, actual, self._now())
                return
            except ServiceUnavailable:
                continue

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a lost limiter during a background release is expected

    def _now(self) -> float:
        return self._clock.now().timestamp()


def refusal(admission: Admission) -> RateLimited:
    """The 429: the seed's messages and codes, Retry-After, and the headers showing what is left."""
    decision = admission.decision
    scope = decision.scope or Scope.REQUESTS_PER_MINUTE
    limit = decision.limit or 0
    if admission.anonymous:
        code = "anonymous_daily_limit" if scope is Scope.REQUESTS_PER_DAY else "rate_limit_exceeded"
        message = "Rate limit exceeded"
    else:
        code, message = "rate_limit_exceeded", limit_message(scope, limit)
    return RateLimited(message, retry_after=retry_after_header(decision.retry_after_s), code=code,
                       scope=scope.value, limit=limit, headers=headers_for(decision))
