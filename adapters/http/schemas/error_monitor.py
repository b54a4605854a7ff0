"""Wire shapes of the error-monitor routes (#1746-#1757): the seed's ErrorPattern and BugFix fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar.params import QueryParameter

from domain.error_monitoring import ErrorPattern, GeneratedFix

Hours = Annotated[int, QueryParameter(ge=1, le=24, description="Hours to look back")]
ErrorLimit = Annotated[int, QueryParameter(ge=1, le=1000, description="Entries to read, at most 1000")]
Interval = Annotated[int, QueryParameter(ge=60, le=3600, description="Seconds between scans")]
ErrorId = Annotated[str, QueryParameter(min_length=1, max_length=400, pattern=r"^[^\x00]*$",
                                        description="A pattern key, else an error type")]


class ErrorPatternOut(msgspec.Struct, kw_only=True):
    id: str
    error_type: str
    message: str
    category: str
    severity: str
    file: str | None
    line: int | None
    function: str | None
    stack_trace: str | None
    timestamp: datetime
    count: int
    last_seen: datetime
    examples: list[str]
    fixable: bool
    suggested_fix: str | None

    @classmethod
    def of(cls, p: ErrorPattern) -> ErrorPatternOut:
        return cls(id=p.key, error_type=p.error_type, message=p.message, category=str(p.category),
                   severity=str(p.severity), file=p.file, line=p.line, function=p.function, stack_trace=p.stack_trace,
                   timestamp=p.first_seen, count=p.count, last_seen=p.last_seen, examples=list(p.examples),
                   fixable=p.fixable, suggested_fix=p.suggested_fix)


class FixOut(msgspec.Struct, kw_only=True):
    id: str
    error_pattern_id: str
    error_message: str
    error_category: str
    analysis: str
    proposed_fix: str
    code_changes: dict[str, str]
    files_affected: list[str]
    severity: str
    generated_at: datetime
    pr_url: str | None
    status: str
    pr_number: int | None
    branch: str | None
    error: str | None
    model: str | None
    input_tokens: int | None
    output_tokens: int | None

    @classmethod
    def of(cls, f: GeneratedFix) -> FixOut:
        values: dict[str, Any] = {name: getattr(f, name) for name in cls.__struct_fields__}
        values["status"] = str(f.status)
        return cls(**values)


class MonitorOut(msgspec.Struct, kw_only=True):
    enabled: bool
    running: bool
    auto_fix_enabled: bool
    scan_interval: int
    last_scan: datetime | None
    errors_since_last_fix: int
    total_patterns: int


class MonitorStatusOut(msgspec.Struct, kw_only=True):
    status: str
    monitor: MonitorOut


class PatternsOut(msgspec.Struct, kw_only=True):
    total_patterns: int
    patterns: list[ErrorPatternOut]


class FixesOut(msgspec.Struct, kw_only=True):
    total_fixes: int
    fixes: list[FixOut]


class FixDetailOut(msgspec.Struct, kw_only=True):
    fix: FixOut
