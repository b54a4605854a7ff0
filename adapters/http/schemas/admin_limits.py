"""Wire shapes of POST /admin/limit (#1624) and POST /admin/clear-rate-limit-cache (#1627)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from domain.limits import KeyLimits, LimitConfig

Limit = Annotated[int, msgspec.Meta(ge=1)]


class RateLimitsIn(msgspec.Struct, kw_only=True):
    """The seed's RateLimitConfig. Every scope given is stored as given; a minute or day scope left
    out is derived from its hourly one when that is given (minute = hour // 60, day = hour x 24, as the
    seed showed), else keeps the gateway default. `concurrency_limit` is the seed's table column,
    accepted as an extension."""

    requests_per_minute: Limit | None = None
    requests_per_hour: Limit | None = None
    requests_per_day: Limit | None = None
    tokens_per_minute: Limit | None = None
    tokens_per_hour: Limit | None = None
    tokens_per_day: Limit | None = None
    concurrency_limit: Limit | None = None

    def to_domain(self) -> KeyLimits:
        return KeyLimits(requests_per_minute=self.requests_per_minute, requests_per_hour=self.requests_per_hour,
                         requests_per_day=self.requests_per_day, tokens_per_minute=self.tokens_per_minute,
                         tokens_per_hour=self.tokens_per_hour, tokens_per_day=self.tokens_per_day,
                         concurrent_requests=self.concurrency_limit)


class SetRateLimitIn(msgspec.Struct, kw_only=True):
    api_key: str
    rate_limits: RateLimitsIn


class RateLimitsOut(msgspec.Struct, kw_only=True):
    """The key's effective limits; null = that scope is not enforced."""

    requests_per_minute: int | None
    requests_per_hour: int | None
    requests_per_day: int | None
    tokens_per_minute: int | None
    tokens_per_hour: int | None
    tokens_per_day: int | None
    concurrency_limit: int | None

    @classmethod
    def of(cls, c: LimitConfig) -> RateLimitsOut:
        return cls(requests_per_minute=c.requests_per_minute, requests_per_hour=c.requests_per_hour,
                   requests_per_day=c.requests_per_day, tokens_per_minute=c.tokens_per_minute,
                   tokens_per_hour=c.tokens_per_hour, tokens_per_day=c.tokens_per_day,
                   concurrency_limit=c.concurrent_requests)


class SetRateLimitOut(msgspec.Struct, kw_only=True):
    status: str
    message: str
    rate_limits: RateLimitsOut


class ClearRateLimitCacheOut(msgspec.Struct, kw_only=True):
    status: str
    message: str
    timestamp: str
