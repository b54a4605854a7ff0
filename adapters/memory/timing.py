"""Rolling per-provider timing statistics, in process (each process reports what it observed)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from domain.timing import ProviderTiming, percentile, severity


@dataclass
class _Series:
    samples: deque[tuple[float, bool]]
    slow: int = 0
    very_slow: int = 0


class MemoryProviderTimings:
    """The last `window` calls per (provider, model) for the percentiles; slow counts since start.
    `observe` is O(1) with no await, so the dispatch loop can call it inline."""

    def __init__(self, *, window: int = 500, max_series: int = 2_000) -> None:
        self._window = window
        self._max = max_series
        self._series: dict[tuple[str, str | None], _Series] = {}

    def observe(self, provider: str, seconds: float, ok: bool, *, model: str | None = None) -> None:
        key = (provider, model)
        series = self._series.get(key)
        if series is None:
            if len(self._series) >= self._max:
                return  # bounded: an unbounded model label must not grow the heap
            series = self._series[key] = _Series(deque(maxlen=self._window))
        series.samples.append((seconds, ok))
        level = severity(seconds)
        if level == "slow":
            series.slow += 1
        elif level == "very_slow":
            series.very_slow += 1

    def snapshot(self) -> list[ProviderTiming]:
        out = []
        for (provider, model), series in list(self._series.items()):
            durations = sorted(s for s, _ in series.samples)
            count = len(durations)
            out.append(ProviderTiming(
                provider=provider, model=model, count=count, errors=sum(1 for _, ok in series.samples if not ok),
                mean_s=sum(durations) / count if count else 0.0, p50_s=percentile(durations, 0.5),
                p95_s=percentile(durations, 0.95), max_s=durations[-1] if durations else 0.0,
                slow=series.slow, very_slow=series.very_slow,
            ))
        return out
