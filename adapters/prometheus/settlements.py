"""Settlement journal metrics in Prometheus (ports.telemetry.SettlementMetrics)."""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter, Histogram

WINDOW_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5)


class PrometheusSettlementMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.window = Histogram("settlement_window_seconds",
                                "Upstream answer to durable settlement (what a crash there loses)",
                                buckets=WINDOW_BUCKETS, registry=registry)
        self.entries = Counter("settlement_journal_entries_written", "Journal entries written to the database",
                               ["kind", "claimed"], registry=registry)
        self.expired = Counter("holds_expired", "Holds that lapsed without a settlement", registry=registry)
        self.expired_usd = Counter("holds_expired_usd", "USD held by holds that lapsed without a settlement",
                                   registry=registry)
        self.dropped_entries = Counter("settlement_journal_entries_dropped",
                                       "Journal entries that could not be written", registry=registry)
        self._settled = self.entries.labels("settlement", "false")
        self._expiry = self.entries.labels("hold_expired", "false")
        self._claimed = self.entries.labels("any", "true")

    def settle_window(self, seconds: float) -> None:
        self.window.observe(seconds)

    def drained(self, *, settlements: int, expiries: int, claimed: int) -> None:
        self._settled.inc(settlements)
        self._expiry.inc(expiries)
        self._claimed.inc(claimed)

    def hold_expired(self, amount: Decimal) -> None:
        self.expired.inc()
        self.expired_usd.inc(float(amount))  # a metric, not money: the audit event keeps the exact amount

    def dropped(self, count: int) -> None:
        self.dropped_entries.inc(count)
