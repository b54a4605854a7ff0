"""Dispatch: the offer loop. Try routes in failover order, record breaker outcomes, and fail over
only before the first chunk reaches the client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec

from domain.breaker import BreakerPolicy, BreakerState
from domain.catalog import Offer, Provider
from domain.errors import RateLimited, ServiceUnavailable, UpstreamFailed, UpstreamRejected, UpstreamTimeout
from domain.inference import Chunk, Completion, InferenceRequest
from domain.routing import Route, failover_order
from domain.upstream import UpstreamError
from ports.breakers import BreakerStore
from ports.clock import Clock
from ports.telemetry import InferenceMetrics
from ports.timing import ProviderTimings
from ports.upstream import Upstream


class Served(msgspec.Struct, kw_only=True):
    provider: Provider
    offer: Offer
    completion: Completion
    upstream_s: float  # waiting on providers, failed attempts included
    failed_attempts: int = 0


class OpenedStream(msgspec.Struct, kw_only=True):
    """A stream whose first chunk has arrived: from here on there is no failover."""

    provider: Provider
    offer: Offer
    first: Chunk
    rest: AsyncIterator[Chunk]
    ttfb_s: float  # the serving provider's time to its first chunk
    failed_attempts: int = 0
    waited_s: float = 0.0  # on providers that failed before this one served

    @property
    def upstream_s(self) -> float:
        return self.waited_s + self.ttfb_s


class Dispatch:
    def __init__(self, upstream: Upstream, breakers: BreakerStore, metrics: InferenceMetrics, clock: Clock,
                 policy: BreakerPolicy, timings: ProviderTimings) -> None:
        self._timings = timings
        self._upstream = upstream
        self._breakers = breakers
        self._metrics = metrics
        self._clock = clock
        self._policy = policy

    async def infer(self, routes: list[Route], request: InferenceRequest) -> Served:
        errors: list[UpstreamError] = []
        waited = 0.0
        for provider, offer in await self._order(routes):
            started = self._clock.monotonic()
            try:
                completion = await self._upstream.infer(provider, offer, request)
            except UpstreamError as exc:
                waited += self._timed(provider, request, started, ok=False)
                self._failed(provider, exc, errors)
                await self._record(provider.slug, exc)
                continue
            took = self._timed(provider, request, started, ok=True)
            await self._record(provider.slug, None)
            return Served(provider=provider, offer=offer, completion=completion,
                          upstream_s=waited + took, failed_attempts=len(errors))
        raise exhausted(errors)

    async def open_stream(self, routes: list[Route], request: InferenceRequest) -> OpenedStream:
        errors: list[UpstreamError] = []
        waited = 0.0
        for provider, offer in await self._order(routes):
            started = self._clock.monotonic()
            chunks = self._upstream.infer_stream(provider, offer, request).__aiter__()
            try:
                first = await anext(chunks)
            except StopAsyncIteration:
                waited += self._timed(provider, request, started, ok=False)
                exc = UpstreamError("Upstream returned an empty stream", status=502, provider=provider.slug)
                self._failed(provider, exc, errors)
                await self._record(provider.slug, exc)
                continue
            except UpstreamError as exc:
                waited += self._timed(provider, request, started, ok=False)
                self._failed(provider, exc, errors)
                await self._record(provider.slug, exc)
                continue
            took = self._timed(provider, request, started, ok=True)
            await self._record(provider.slug, None)
            return OpenedStream(provider=provider, offer=offer, first=first, rest=chunks,
                                ttfb_s=took, failed_attempts=len(errors), waited_s=waited)
        raise exhausted(errors)

    def _timed(self, provider: Provider, request: InferenceRequest, started: float, *, ok: bool) -> float:
        """Seconds this attempt waited on the provider (time to answer, or to first chunk)."""
        took = self._clock.monotonic() - started
        self._timings.observe(provider.slug, took, ok, model=request.model)
        return took

    async def record_midstream_failure(self, provider: str, exc: UpstreamError) -> None:
        await self._record(provider, exc)

    async def _order(self, routes: list[Route]) -> list[Route]:
        try:
            states = await self._breakers.states([p.slug for p, _ in routes])
        except ServiceUnavailable:
            states = {}  # breaker store unreachable: try the offers in catalog order
        return failover_order(routes, states, self._clock.now().timestamp(), self._policy)

    def _failed(self, provider: Provider, exc: UpstreamError, errors: list[UpstreamError]) -> None:
        if not exc.fails_over:
            raise UpstreamRejected(exc.message, status=exc.status or 400, provider=provider.slug)
        errors.append(exc)
        reason = "timeout" if exc.timeout else str(exc.status or "connection")
        self._metrics.failover(from_provider=provider.slug, reason=reason)

    async def _record(self, provider: str, exc: UpstreamError | None) -> None:
        if exc is not None and not exc.counts_against_provider:
            return
        try:
            state: BreakerState = await self._breakers.record(provider, exc is None)
        except ServiceUnavailable:
            return  # losing breaker bookkeeping must not fail a request
        self._metrics.breaker_state(provider=provider, state=state.status.value)


def exhausted(errors: list[UpstreamError]) -> Exception:
    """The outcome when no offer served: 429 if the last said so, 504 if all timed out, else 502."""
    attempts = [{"provider": e.provider, "status": e.status, "error": e.message} for e in errors]
    if errors and errors[-1].status == 429:
        retry = errors[-1].retry_after
        return RateLimited("Upstream rate limit exceeded", retry_after=int(retry) if retry and retry.isdigit() else 1,
                           code="upstream_rate_limited", headers={"X-RateLimit-Scope": "upstream"})
    if errors and all(e.timeout for e in errors):
        return UpstreamTimeout("Request timed out", attempts=attempts)
    return UpstreamFailed("All providers failed", attempts=attempts)
