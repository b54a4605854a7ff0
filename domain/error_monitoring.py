"""Error monitoring: the seed's classifier (ten categories, five severities, ordered rules, first
match wins), its fixability table, stack-trace details, and the grouping of log entries into
patterns keyed `"{category}:{message[:50]}"`. Pure: no I/O."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

import msgspec

from domain.logs import LogEntry

MAX_EXAMPLES = 5


class ErrorCategory(StrEnum):
    PROVIDER_ERROR = "provider_error"
    DATABASE_ERROR = "database_error"
    RATE_LIMIT_ERROR = "rate_limit_error"
    AUTH_ERROR = "auth_error"
    TIMEOUT_ERROR = "timeout_error"
    VALIDATION_ERROR = "validation_error"
    CACHE_ERROR = "cache_error"
    EXTERNAL_SERVICE_ERROR = "external_service_error"
    INTERNAL_ERROR = "internal_error"
    UNKNOWN = "unknown"


class ErrorSeverity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


SEVERITY_RANK = {ErrorSeverity.CRITICAL: 0, ErrorSeverity.HIGH: 1, ErrorSeverity.MEDIUM: 2, ErrorSeverity.LOW: 3,
                 ErrorSeverity.INFO: 4}

# the seed's suggested fixes (the #1747 table is canonical)
FIX_BACKOFF = "Implement exponential backoff and request queuing"
FIX_PROVIDER_RETRY = "Add retry logic with exponential backoff for provider calls"
FIX_TIMEOUT = "Increase timeout threshold or add connection pooling"
FIX_CACHE = "Implement cache fallback to database queries"
FIX_POOL = "Increase connection pool size or add fallback"
FIX_DB_RETRY = "Add database connection retry logic"
FIX_ROTATE_KEYS = "Rotate API keys and update configuration"
FIX_TOKEN_REFRESH = "Implement token refresh logic"


def _any(text: str, words: Iterable[str]) -> bool:
    return any(w in text for w in words)


def classify(message: str, providers: Iterable[str]) -> tuple[ErrorCategory, ErrorSeverity]:
    """The seed's rules in order, case-insensitive on the message; `providers` are the catalog's
    provider slugs and names."""
    text = message.lower()
    names = [p.lower() for p in providers if p]
    if _any(text, names):
        if _any(text, ("timeout", "503", "504")):
            return ErrorCategory.PROVIDER_ERROR, ErrorSeverity.HIGH
        if _any(text, ("401", "403")):
            return ErrorCategory.AUTH_ERROR, ErrorSeverity.HIGH
        return ErrorCategory.PROVIDER_ERROR, ErrorSeverity.MEDIUM
    if _any(text, ("supabase", "postgresql", "database", "connection pool")):
        return ErrorCategory.DATABASE_ERROR, ErrorSeverity.CRITICAL
    if _any(text, ("rate limit", "429")):
        return ErrorCategory.RATE_LIMIT_ERROR, ErrorSeverity.MEDIUM
    if _any(text, ("unauthorized", "invalid api key", "401")):
        return ErrorCategory.AUTH_ERROR, ErrorSeverity.HIGH
    if _any(text, ("timeout", "deadlineexceeded")):
        return ErrorCategory.TIMEOUT_ERROR, ErrorSeverity.MEDIUM
    if _any(text, ("validation", "invalid")):
        return ErrorCategory.VALIDATION_ERROR, ErrorSeverity.LOW
    if _any(text, ("redis", "cache")):
        return ErrorCategory.CACHE_ERROR, ErrorSeverity.MEDIUM
    if _any(text, ("stripe", "resend", "email", "payment")):
        return ErrorCategory.EXTERNAL_SERVICE_ERROR, ErrorSeverity.HIGH
    return ErrorCategory.INTERNAL_ERROR, ErrorSeverity.MEDIUM


def fixability(category: ErrorCategory, message: str) -> tuple[bool, str | None]:
    text = message.lower()
    if category is ErrorCategory.RATE_LIMIT_ERROR:
        return True, FIX_BACKOFF
    if category is ErrorCategory.TIMEOUT_ERROR:
        return True, FIX_PROVIDER_RETRY if "provider" in text else FIX_TIMEOUT
    if category is ErrorCategory.CACHE_ERROR:
        return True, FIX_CACHE
    if category is ErrorCategory.DATABASE_ERROR:
        return True, FIX_POOL if "pool" in text else FIX_DB_RETRY
    if category is ErrorCategory.AUTH_ERROR:
        return True, FIX_ROTATE_KEYS if ("invalid" in text and "key" in text) else FIX_TOKEN_REFRESH
    return False, None


_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<function>[\w<>.]+)')


def stack_details(stack_trace: str | None) -> tuple[str | None, int | None, str | None]:
    """(file, line, function) of the innermost frame of a Python traceback."""
    if not stack_trace:
        return None, None, None
    frames = list(_FRAME.finditer(stack_trace))
    if not frames:
        return None, None, None
    last = frames[-1]
    return last["file"], int(last["line"]), last["function"]


def pattern_key(category: ErrorCategory, message: str) -> str:
    return f"{category}:{message[:50]}"


class ErrorPattern(msgspec.Struct, kw_only=True, frozen=True):
    key: str
    error_type: str
    message: str
    category: ErrorCategory
    severity: ErrorSeverity
    file: str | None
    line: int | None
    function: str | None
    stack_trace: str | None
    first_seen: datetime
    last_seen: datetime
    count: int = 1
    examples: list[str] = msgspec.field(default_factory=list)  # the most recent first, at most 5
    fixable: bool = False
    suggested_fix: str | None = None


def pattern_of(entry: LogEntry, providers: Iterable[str]) -> ErrorPattern:
    category, severity = classify(entry.message, providers)
    fixable, fix = fixability(category, entry.message)
    file, line, function = stack_details(entry.stack_trace)
    return ErrorPattern(key=pattern_key(category, entry.message), error_type=entry.error_type or "Error",
                        message=entry.message, category=category, severity=severity, file=file, line=line,
                        function=function, stack_trace=entry.stack_trace, first_seen=entry.timestamp,
                        last_seen=entry.timestamp, examples=[entry.message], fixable=fixable, suggested_fix=fix)


def merge(old: ErrorPattern, new: ErrorPattern) -> ErrorPattern:
    """Counts add up; the examples keep the 5 most recent messages."""
    newer, older = (new, old) if new.last_seen >= old.last_seen else (old, new)
    return msgspec.structs.replace(
        old, count=old.count + new.count, first_seen=min(old.first_seen, new.first_seen),
        last_seen=newer.last_seen, examples=[*newer.examples, *older.examples][:MAX_EXAMPLES],
        stack_trace=newer.stack_trace or older.stack_trace, file=newer.file or older.file,
        line=newer.line if newer.file else older.line, function=newer.function or older.function)


def group(entries: Iterable[LogEntry], providers: Iterable[str]) -> list[ErrorPattern]:
    """Patterns in order of first appearance."""
    names = list(providers)
    grouped: dict[str, ErrorPattern] = {}
    for entry in entries:
        pattern = pattern_of(entry, names)
        grouped[pattern.key] = merge(grouped[pattern.key], pattern) if pattern.key in grouped else pattern
    return list(grouped.values())


def by_severity_then_count(patterns: Iterable[ErrorPattern]) -> list[ErrorPattern]:
    """The fix: severity by rank (critical > high > medium > low > info), not by its string."""
    return sorted(patterns, key=lambda p: (SEVERITY_RANK[p.severity], -p.count))


def entry_hash(entry: LogEntry) -> str:
    """What identifies an entry at the scan cursor's timestamp (overlapping scans count it once)."""
    raw = f"{entry.timestamp_ns}\x00{sorted(entry.labels.items())}\x00{entry.message}\x00{entry.stack_trace}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


class MonitorState(msgspec.Struct, kw_only=True, frozen=True):
    """The desired state of the scan loop (every process and restart agrees) and the scan cursor."""

    enabled: bool = False
    interval_s: int = 300
    auto_fix: bool = False
    last_scan: datetime | None = None
    cursor_ns: int | None = None          # the last Loki timestamp scanned
    cursor_hashes: list[str] = msgspec.field(default_factory=list)  # entries already counted at it
    errors_since_last_fix: int = 0


class ScanResult(msgspec.Struct, kw_only=True, frozen=True):
    errors_found: int     # patterns touched
    critical_errors: int  # critical or high among them
    patterns: list[ErrorPattern]


class FixStatus(StrEnum):
    PENDING = "pending"
    TESTING = "testing"   # a draft pull request is open
    MERGED = "merged"
    FAILED = "failed"


class GeneratedFix(msgspec.Struct, kw_only=True, frozen=True):
    """The seed's BugFix fields plus the pull request's number and branch, the failure, the model
    and its token counts."""

    id: str
    error_pattern_id: str
    error_message: str
    error_category: str
    severity: str
    generated_at: datetime
    analysis: str = ""
    proposed_fix: str = ""
    code_changes: dict[str, str] = msgspec.field(default_factory=dict)
    files_affected: list[str] = msgspec.field(default_factory=list)
    pr_url: str | None = None
    status: FixStatus = FixStatus.PENDING
    pr_number: int | None = None
    branch: str | None = None
    error: str | None = None
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
