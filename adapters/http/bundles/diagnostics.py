"""Capacity diagnostics: the concurrency gate's figures and provider timings."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency

from adapters.http.concurrency_gate import ConcurrencyGate
from domain.services.provider_timing import SummarizeProviderTimings


@dataclass(frozen=True, slots=True)
class DiagnosticsServices:
    summarize_provider_timings: SummarizeProviderTimings
    gate: ConcurrencyGate | None  # None: CONCURRENCY_LIMIT=0


# what a handler writes to receive it (`diagnostics_services: DiagnosticsBundle`)
DiagnosticsBundle = NamedDependency[DiagnosticsServices]
