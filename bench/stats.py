"""The arithmetic of the benchmark: percentiles, differences, stalls, growth. Pure functions, no I/O."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks (numpy's default).

    Linear interpolation keeps p50 of an even-sized sample at the midpoint of the two middle values
    and makes p99 of a few thousand samples stable against a single outlier's exact rank."""
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    lo = math.floor(rank)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


@dataclass(frozen=True, slots=True)
class Summary:
    count: int
    mean: float
    p50: float
    p90: float
    p99: float
    max: float

    def as_dict(self, digits: int = 3) -> dict[str, float | int]:
        return {"count": self.count, "mean": round(self.mean, digits), "p50": round(self.p50, digits),
                "p90": round(self.p90, digits), "p99": round(self.p99, digits), "max": round(self.max, digits)}


def summarize(samples: Sequence[float]) -> Summary:
    if not samples:
        raise ValueError("summary of no samples")
    return Summary(count=len(samples), mean=sum(samples) / len(samples), p50=percentile(samples, 50),
                   p90=percentile(samples, 90), p99=percentile(samples, 99), max=max(samples))


def added(through: Sequence[float], direct: Sequence[float], q: float) -> float:
    """What the gateway adds at percentile q: percentile(through gateway) - percentile(direct).

    Requests are not paired one to one (each path has its own noise), so the difference is taken
    between the two distributions' percentiles, the usual definition of added latency."""
    return percentile(through, q) - percentile(direct, q)


def gaps(arrivals: Sequence[float]) -> list[float]:
    """Time between consecutive chunk arrivals (same unit as the arrivals)."""
    return [b - a for a, b in itertools.pairwise(arrivals)]


def stalls(arrivals: Sequence[float], pacing: float, factor: float = 2.0) -> int:
    """How many gaps between consecutive chunks exceed factor x the upstream pacing.

    The wait for the first chunk is time-to-first-token, not a stall: pass arrivals from the first
    chunk on."""
    limit = pacing * factor
    return sum(1 for gap in gaps(arrivals) if gap > limit)


def growth_pct(before: float, after: float) -> float:
    """Relative growth from before to after, in percent."""
    if before <= 0:
        raise ValueError("growth from a non-positive base")
    return (after - before) / before * 100


def best_under(levels: Iterable[tuple[float, float]], p99_limit: float) -> float | None:
    """The highest throughput among (throughput, p99) levels whose p99 is under the limit."""
    fitting = [rps for rps, p99 in levels if p99 < p99_limit]
    return max(fitting) if fitting else None


def max_clean_level(results: Iterable[tuple[int, int]]) -> int:
    """Largest level N, in ascending order, with zero stalls at N and every level below (0 if none).

    `results` holds (level, stalls_or_failures) pairs; a level with any counts as unclean, and so
    does everything above it (a clean level above a stalled one is luck, not capacity)."""
    best = 0
    for level, bad in sorted(results):
        if bad:
            break
        best = level
    return best
