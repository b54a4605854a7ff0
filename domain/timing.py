"""Provider response-time statistics and the slow-request thresholds diagnostics report (#1735)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec

SLOW_S = 30.0       # 30-45 s: "slow"
VERY_SLOW_S = 45.0  # beyond 45 s: "very_slow"


def severity(seconds: float) -> str | None:
    if seconds > VERY_SLOW_S:
        return "very_slow"
    if seconds >= SLOW_S:
        return "slow"
    return None


class ProviderTiming(msgspec.Struct, frozen=True, kw_only=True):
    provider: str
    model: str | None = None
    count: int = 0          # calls in the rolling window
    errors: int = 0         # failed calls in the rolling window
    mean_s: float = 0.0
    p50_s: float = 0.0
    p95_s: float = 0.0
    max_s: float = 0.0
    slow: int = 0           # since start: calls between SLOW_S and VERY_SLOW_S
    very_slow: int = 0      # since start: calls beyond VERY_SLOW_S

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.model}" if self.model else self.provider


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence (0.0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(math.ceil(q * len(ordered)), 1)
    return ordered[min(rank, len(ordered)) - 1]
