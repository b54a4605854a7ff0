"""The response cache's storage, its metrics, and the request-row figures its analytics read."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

import msgspec


class ResponseCache(Protocol):
    """Opaque bytes under a key, for a while. A failure raises; the caller treats it as a miss."""

    async def get(self, key: str) -> bytes | None: ...

    async def put(self, key: str, value: bytes, ttl_s: float) -> None: ...


class ResponseCacheMetrics(Protocol):
    def looked_up(self, result: str) -> None:
        """One request's cache result: hit, miss, bypass, error (`gatewayz_response_cache_requests_total`)."""
        ...

    def saved(self, amount: Decimal) -> None:
        """What a hit did not charge (`gatewayz_response_cache_savings_usd_total`)."""
        ...


class CacheUsage(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the analytics GROUP BY (model, provider) over a user's completed requests."""

    model: str
    provider: str | None
    requests: int
    hits: int
    savings: Decimal


class CacheUsageStore(Protocol):
    async def cache_usage(self, user_id: int, since: datetime) -> list[CacheUsage]:
        """The user's completed requests created at or after `since`, grouped by model and provider."""
        ...
