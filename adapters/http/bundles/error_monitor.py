"""Error monitoring: reads from the log store, stored patterns and fixes, the scan loop's state."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency

from domain.services.error_monitor import FixQueries, ListPatterns, MonitorControl, ReadErrors, ScanErrors
from domain.services.generate_fix import GenerateFix


@dataclass(frozen=True, slots=True)
class ErrorMonitorServices:
    read_errors: ReadErrors
    scan_errors: ScanErrors
    monitor: MonitorControl
    list_patterns: ListPatterns
    generate_fix: GenerateFix
    fixes: FixQueries


# what a handler writes to receive it (`error_monitor_services: ErrorMonitorBundle`)
ErrorMonitorBundle = NamedDependency[ErrorMonitorServices]
