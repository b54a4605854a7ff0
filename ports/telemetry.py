"""Inference telemetry (Prometheus in production, a recorder in tests)."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol


class InferenceMetrics(Protocol):
    def completed(self, *, provider: str, model: str, success: bool, seconds: float,
                  prompt_tokens: int, completion_tokens: int, cost: Decimal | None) -> None: ...

    def first_chunk(self, *, provider: str, model: str, seconds: float) -> None: ...

    def failover(self, *, from_provider: str, reason: str) -> None: ...

    def breaker_state(self, *, provider: str, state: str) -> None: ...


class SettlementMetrics(Protocol):
    def settle_window(self, seconds: float) -> None:
        """Time from the upstream's answer to its settlement being durable (the crash window)."""
        ...

    def drained(self, *, settlements: int, expiries: int, claimed: int) -> None:
        """Journal entries written by this process (`claimed`: taken over from another consumer)."""
        ...

    def hold_expired(self, amount: Decimal) -> None:
        """A hold lapsed without a settlement (recorded once, by the process that wrote its event)."""
        ...

    def dropped(self, count: int) -> None:
        """Journal entries that could not be written at all (unreadable, or their user is gone)."""
        ...
