"""Load shedding: how full the per-process concurrency gate is, in the words of #1734."""

from __future__ import annotations

import msgspec


class GateStats(msgspec.Struct, frozen=True, kw_only=True):
    active_requests: int
    queued_requests: int
    concurrency_limit: int
    queue_size_limit: int
    queue_timeout_seconds: float
    rejected_queue_full: int = 0
    rejected_queue_timeout: int = 0

    @property
    def utilization_percent(self) -> float:
        return round(self.active_requests / self.concurrency_limit * 100, 2) if self.concurrency_limit else 0.0

    @property
    def queue_utilization_percent(self) -> float:
        return round(self.queued_requests / self.queue_size_limit * 100, 2) if self.queue_size_limit else 0.0

    @property
    def status(self) -> str:
        """critical at >= 90 % of slots or >= 80 % of the queue; warning at 70 % / 60 %."""
        slots, queue = self.utilization_percent, self.queue_utilization_percent
        if slots >= 90 or queue >= 80:
            return "critical"
        if slots >= 70 or queue >= 60:
            return "warning"
        return "healthy"
