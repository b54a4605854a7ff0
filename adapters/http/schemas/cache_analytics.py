"""Wire shapes of the cache analytics routes (#1661, #1662): the seed's keys; money as JSON numbers."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import QueryParameter

CacheDays = Annotated[int, QueryParameter(ge=1, le=90, description="Days back from now, 1 to 90")]


class TopCachedModelOut(msgspec.Struct, kw_only=True):
    model_name: str
    provider: str | None
    total_requests: int
    cache_hits: int
    cache_hit_rate_percent: float
    savings_usd: float


class CacheAnalyticsOut(msgspec.Struct, kw_only=True):
    period_days: int
    start_date: str
    end_date: str
    total_requests: int
    cache_hits: int
    cache_misses: int
    cache_hit_rate_percent: float
    total_savings_usd: float
    estimated_monthly_savings_usd: float
    top_cached_models: list[TopCachedModelOut]
    cache_enabled: bool
    system_enabled: bool


class CacheSummaryOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Enabled: the figures; a switch off: `message` and zeroes (the seed's two shapes)."""

    cache_enabled: bool
    system_enabled: bool
    total_savings_usd: float
    cache_hit_rate_percent: float
    message: str | None = None
    total_requests: int | None = None
    cache_hits: int | None = None
    estimated_monthly_savings_usd: float | None = None
