"""Inference telemetry that records every call, so unit tests assert on what was measured."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


class RecordingInferenceMetrics:
    """Each list holds one dict of keyword arguments per call, in call order."""

    def __init__(self) -> None:
        self.completions: list[dict[str, Any]] = []
        self.first_chunks: list[dict[str, Any]] = []
        self.failovers: list[dict[str, Any]] = []
        self.breaker_states: list[dict[str, Any]] = []

    def completed(self, *, provider: str, model: str, success: bool, seconds: float,
                  prompt_tokens: int, completion_tokens: int, cost: Decimal | None) -> None:
        self.completions.append({"provider": provider, "model": model, "success": success, "seconds": seconds,
                                 "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                 "cost": cost})

    def first_chunk(self, *, provider: str, model: str, seconds: float) -> None:
        self.first_chunks.append({"provider": provider, "model": model, "seconds": seconds})

    def failover(self, *, from_provider: str, reason: str) -> None:
        self.failovers.append({"from_provider": from_provider, "reason": reason})

    def breaker_state(self, *, provider: str, state: str) -> None:
        self.breaker_states.append({"provider": provider, "state": state})


class RecordingSettlementMetrics:
    """Settlement metrics as lists, for unit tests."""

    def __init__(self) -> None:
        self.windows: list[float] = []
        self.drains: list[dict[str, int]] = []
        self.expired: list[Decimal] = []
        self.dropped_count = 0

    def settle_window(self, seconds: float) -> None:
        self.windows.append(seconds)

    def drained(self, *, settlements: int, expiries: int, claimed: int) -> None:
        self.drains.append({"settlements": settlements, "expiries": expiries, "claimed": claimed})

    def hold_expired(self, amount: Decimal) -> None:
        self.expired.append(amount)

    def dropped(self, count: int) -> None:
        self.dropped_count += count
