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
