"""GET /admin/trial/analytics (#1607): the seed's figures from the trial columns in one statement,
cached 300 s under the seed's key; a cache failure only skips the cache."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from domain.admin import cents, percent
from ports.admin_queries import AdminQueries
from ports.clock import Clock
from ports.result_cache import CacheUnavailable, ResultCache

CACHE_KEY = "trial:analytics:summary"
CACHE_TTL_S = 300


class TrialAnalytics:
    def __init__(self, queries: AdminQueries, cache: ResultCache, clock: Clock) -> None:
        self._q = queries
        self._cache = cache
        self._clock = clock

    async def __call__(self) -> dict[str, Any]:
        try:
            hit = await self._cache.get(CACHE_KEY)
        except CacheUnavailable:
            hit = None
        if hit is not None:
            cached: dict[str, Any] = json.loads(hit)
            return cached
        t = await self._q.trial_analytics(self._clock.now())
        total = int(t["total"])
        allocated, used = t["allocated"], t["credits"]
        analytics = {
            "total_trials": total, "active_trials": t["active"], "expired_trials": t["expired"],
            "converted_trials": t["converted"], "conversion_rate": float(percent(int(t["converted"]), total)),
            "usage_statistics": {
                "total_tokens_used": int(t["tokens"]), "total_requests_used": int(t["requests"]),
                "total_credits_used": float(cents(used)), "total_credits_allocated": float(cents(allocated)),
                "credits_utilization_rate": float(percent(used, allocated)) if allocated else 0.0},
            "average_usage_per_trial": {
                "tokens": float(cents(Decimal(int(t["tokens"])) / total)) if total else 0.0,
                "requests": float(cents(Decimal(int(t["requests"])) / total)) if total else 0.0,
                "credits": float(cents(used / total)) if total else 0.0},
            "trial_status_breakdown": {"active": t["active"], "expired": t["expired"], "converted": t["converted"],
                                       "pending_conversion": t["pending"]},
        }
        try:
            await self._cache.set(CACHE_KEY, json.dumps(analytics).encode(), ttl_s=CACHE_TTL_S)
        except CacheUnavailable:
            pass
        return analytics
