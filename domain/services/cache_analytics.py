"""CacheAnalytics (#1661 `GET /v1/analytics/cache`, #1662 `.../summary`): what the response cache served
a user and what it saved them, from one GROUP BY over their completed request rows. The figures are
computed whether or not a switch is off (the seed's behaviour); the summary says when one is."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from domain.response_cache import DISABLED_BY_SYSTEM, DISABLED_BY_USER
from ports.catalog import CatalogSource
from ports.clock import Clock
from ports.response_cache import CacheUsage, CacheUsageStore

SUMMARY_DAYS = 30
TOP_MODELS = 10
TOP_MODEL_MIN_REQUESTS = 5


def _rate(hits: int, requests: int) -> float:
    return round(hits / requests * 100, 2) if requests else 0.0


class CacheAnalytics:
    def __init__(self, usage: CacheUsageStore, catalog: CatalogSource, clock: Clock, *, system_enabled: bool) -> None:
        self._usage = usage
        self._catalog = catalog
        self._clock = clock
        self._system = system_enabled

    async def report(self, user_id: int, days: int, *, user_enabled: bool) -> dict[str, Any]:
        """`user_enabled`: the user's `enable_butter_cache` preference (reported, not applied)."""
        end = self._clock.now()
        start = end - timedelta(days=days)
        rows = await self._usage.cache_usage(user_id, start)
        total = sum(r.requests for r in rows)
        hits = sum(r.hits for r in rows)
        savings = sum((r.savings for r in rows), Decimal(0))
        return {
            "period_days": days, "start_date": start.isoformat(), "end_date": end.isoformat(),
            "total_requests": total, "cache_hits": hits, "cache_misses": total - hits,
            "cache_hit_rate_percent": _rate(hits, total),
            "total_savings_usd": round(float(savings), 6),
            "estimated_monthly_savings_usd": round(float(savings * 30 / days), 2),
            "top_cached_models": self._top_models(rows),
            "cache_enabled": user_enabled, "system_enabled": self._system,
        }

    async def summary(self, user_id: int, *, user_enabled: bool) -> dict[str, Any]:
        enabled = user_enabled
        if not enabled or not self._system:
            return {"cache_enabled": enabled, "system_enabled": self._system,
                    "message": DISABLED_BY_USER if not enabled else DISABLED_BY_SYSTEM,
                    "total_savings_usd": 0.0, "cache_hit_rate_percent": 0.0}
        report = await self.report(user_id, SUMMARY_DAYS, user_enabled=True)
        return {"cache_enabled": True, "system_enabled": True, "total_requests": report["total_requests"],
                "cache_hits": report["cache_hits"], "cache_hit_rate_percent": report["cache_hit_rate_percent"],
                "total_savings_usd": report["total_savings_usd"],
                "estimated_monthly_savings_usd": round(report["total_savings_usd"], 2)}  # the seed's formula

    def _top_models(self, rows: list[CacheUsage]) -> list[dict[str, Any]]:
        """Per model (over its providers): at least 5 requests; hit rate desc, requests desc, name; ten."""
        providers = self._catalog.current().providers
        models: dict[str, list[CacheUsage]] = {}
        for r in rows:
            models.setdefault(r.model, []).append(r)
        entries: list[dict[str, Any]] = []
        for model, groups in models.items():
            requests = sum(g.requests for g in groups)
            if requests < TOP_MODEL_MIN_REQUESTS:
                continue
            hits = sum(g.hits for g in groups)
            slug = max(groups, key=lambda g: (g.requests, g.provider or "")).provider
            known = providers.get(slug) if slug is not None else None
            entries.append({"model_name": model, "provider": known.name if known is not None else slug,
                            "total_requests": requests, "cache_hits": hits,
                            "cache_hit_rate_percent": _rate(hits, requests),
                            "savings_usd": round(float(sum((g.savings for g in groups), Decimal(0))), 6)})
        entries.sort(key=lambda e: (-e["cache_hit_rate_percent"], -e["total_requests"], e["model_name"]))
        return entries[:TOP_MODELS]
