"""Capacity diagnostics (#1734 concurrency gate, #1735 provider timing). Public, as the spec documents
them: they show load figures, never keys, users or addresses. Like the seed, they answer 200 with a
degraded body instead of failing."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Controller, get

from adapters.http.bundles.diagnostics import DiagnosticsBundle
from domain.timing import SLOW_S, VERY_SLOW_S

log = structlog.get_logger(__name__)


class DiagnosticsController(Controller):
    path = "/api/diagnostics"
    tags = ["diagnostics"]
    opt = {"auth": "public"}

    @get("/concurrency", operation_id="diagnostics_concurrency")
    async def concurrency(self, diagnostics_services: DiagnosticsBundle) -> dict[str, Any]:
        gate = diagnostics_services.gate
        if gate is None:
            return {"error": "concurrency gate disabled (CONCURRENCY_LIMIT=0)", "status": "unknown",
                    "concurrency_limit": 0, "queue_size_limit": 0}
        s = gate.stats()
        return {
            "active_requests": s.active_requests, "queued_requests": s.queued_requests,
            "concurrency_limit": s.concurrency_limit, "queue_size_limit": s.queue_size_limit,
            "queue_timeout_seconds": s.queue_timeout_seconds, "utilization_percent": s.utilization_percent,
            "queue_utilization_percent": s.queue_utilization_percent, "status": s.status,
            "available_slots": max(s.concurrency_limit - s.active_requests, 0),
            "available_queue_slots": max(s.queue_size_limit - s.queued_requests, 0),
            "rejected": {"queue_full": s.rejected_queue_full, "queue_timeout": s.rejected_queue_timeout},
        }

    @get("/provider-timing", operation_id="diagnostics_provider_timing")
    async def provider_timing(self, diagnostics_services: DiagnosticsBundle) -> dict[str, Any]:
        try:
            timings = await diagnostics_services.summarize_provider_timings()
        except Exception as exc:
            log.warning("provider_timing_unavailable", error=str(exc))
            return {"metrics_available": False, "error": type(exc).__name__,
                    "note": "Provider timing metrics are exposed via Prometheus at /metrics endpoint"}
        slow: dict[str, dict[str, int]] = {}
        for t in timings:
            counts = {k: v for k, v in (("slow", t.slow), ("very_slow", t.very_slow)) if v > 0}
            if counts:
                slow[t.key] = counts
        return {
            "metrics_available": True,
            "slow_request_counts": slow,
            "note": "Use Prometheus/Grafana for detailed timing histograms. Query: provider_response_duration_seconds",
            "thresholds": {"slow": f"{SLOW_S:g}-{VERY_SLOW_S:g} seconds", "very_slow": f">{VERY_SLOW_S:g} seconds"},
            "providers": {t.key: {"count": t.count, "errors": t.errors, "mean_seconds": round(t.mean_s, 4),
                                  "p50_seconds": round(t.p50_s, 4), "p95_seconds": round(t.p95_s, 4),
                                  "max_seconds": round(t.max_s, 4)} for t in timings},
        }
