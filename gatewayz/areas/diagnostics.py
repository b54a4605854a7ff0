"""Capacity diagnostics: the per-process gate and provider timings."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.http.area import Area
from adapters.http.bundles.diagnostics import DiagnosticsServices
from adapters.http.controllers.diagnostics import DiagnosticsController
from domain.services.provider_timing import SummarizeProviderTimings


class DiagnosticsArea(containers.DeclarativeContainer):
    provider_timings = providers.Dependency()
    gate = providers.Dependency()

    summarize_provider_timings = providers.Singleton(SummarizeProviderTimings, provider_timings)
    bundle = providers.Singleton(DiagnosticsServices, summarize_provider_timings, gate)


HTTP = Area("diagnostics", [DiagnosticsController])
