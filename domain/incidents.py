"""Downtime incidents: what a failing health check opens and a passing one resolves, and the pure
rules over the logs captured around them (filters, analysis)."""

from __future__ import annotations

import html
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec

from domain.errors import GatewayError
from domain.notifications import Email

MAX_CAPTURED_LOGS = 10_000
CAPTURE_LEAD_S = 300.0    # logs are captured from 5 minutes before the incident started
CAPTURE_TAIL_S = 300.0    # and, after resolution, up to 5 minutes past its end
READINESS_ENDPOINT = "/health/ready"
UPSTREAM_ENDPOINT = "upstream:providers"


class IncidentStatus(StrEnum):
    ONGOING = "ongoing"
    INVESTIGATING = "investigating"  # compatibility with the seed: nothing sets it
    RESOLVED = "resolved"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class CheckName(StrEnum):
    """What opened an incident."""

    DATABASE = "database"
    REDIS = "redis"
    PROVIDERS = "providers"
    MANUAL = "manual"


class Incident(msgspec.Struct, kw_only=True, frozen=True):
    """One row of downtime_incidents (the seed's columns plus `check` and `capture_due_at`)."""

    id: str
    started_at: datetime
    detected_at: datetime
    check: CheckName
    status: IncidentStatus = IncidentStatus.ONGOING
    severity: Severity = Severity.HIGH
    environment: str = "development"
    ended_at: datetime | None = None
    duration_seconds: int | None = None
    health_endpoint: str | None = None
    error_message: str | None = None
    http_status_code: int | None = None
    response_body: str | None = None
    logs_captured: list[dict[str, Any]] | None = None
    log_count: int = 0
    logs_file_path: str | None = None  # always None: file storage is not built
    resolved_by: str | None = None
    notes: str | None = None
    server_info: dict[str, Any] | None = None
    metrics_snapshot: dict[str, Any] | None = None
    capture_due_at: datetime | None = None  # when the scheduler is to (re)capture this incident's logs


class IncidentFilter(msgspec.Struct, kw_only=True, frozen=True):
    status: IncidentStatus | None = None
    severity: Severity | None = None
    environment: str | None = None


class IncidentCounts(msgspec.Struct, kw_only=True, frozen=True):
    total: int
    ongoing: int
    resolved: int


class IncidentStatistics(msgspec.Struct, kw_only=True, frozen=True):
    total_incidents: int
    total_downtime_seconds: int
    average_duration_seconds: int
    by_severity: dict[str, int]
    by_status: dict[str, int]


class StatisticsRow(msgspec.Struct, kw_only=True, frozen=True):
    """One group of the statistics aggregate: (severity, status) -> count and summed durations."""

    severity: str
    status: str
    count: int
    downtime_seconds: int


def statistics(rows: Iterable[StatisticsRow]) -> IncidentStatistics:
    """The seed's figures: the average divides the summed durations by every incident (ongoing too)."""
    rows = list(rows)
    total = sum(r.count for r in rows)
    downtime = sum(r.downtime_seconds for r in rows)
    by_severity: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    for r in rows:
        by_severity[r.severity] += r.count
        by_status[r.status] += r.count
    return IncidentStatistics(total_incidents=total, total_downtime_seconds=downtime,
                              average_duration_seconds=downtime // total if total else 0,
                              by_severity=dict(by_severity), by_status=dict(by_status))


def duration_seconds(started_at: datetime, ended_at: datetime) -> int:
    """Whole seconds, never negative."""
    return max(0, int((ended_at - started_at).total_seconds()))


def is_incident_id(value: str) -> bool:
    """Ids are UUIDs; anything else names no incident (a 404, never a 422)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def resolver(email: str | None, user_id: int) -> str:
    return f"admin:{email or user_id}"


def filter_logs(logs: Iterable[Mapping[str, Any]], *, level: str | None = None, logger: str | None = None,
                search: str | None = None) -> list[Mapping[str, Any]]:
    """AND-combined, in stored order: exact level and logger, case-insensitive message substring."""
    needle = search.lower() if search else None
    out = []
    for entry in logs:
        if level is not None and entry.get("level") != level:
            continue
        if logger is not None and entry.get("logger") != logger:
            continue
        if needle is not None and needle not in str(entry.get("message") or "").lower():
            continue
        out.append(entry)
    return out


class LogAnalysis(msgspec.Struct, kw_only=True, frozen=True):
    total_logs: int
    error_count: int
    warning_count: int
    error_types: dict[str, int]
    top_errors: list[tuple[str, int]]


def analyze_logs(logs: Iterable[Mapping[str, Any]]) -> LogAnalysis:
    """The seed's analysis: ERROR entries' types (missing as "Unknown") and their 10 most frequent
    messages (first 200 characters), ties in first-seen order."""
    total = errors = warnings = 0
    types: Counter[str] = Counter()
    messages: Counter[str] = Counter()  # insertion-ordered, and most_common keeps first-seen order on ties
    for entry in logs:
        total += 1
        level = entry.get("level")
        if level == "WARNING":
            warnings += 1
        if level != "ERROR":
            continue
        errors += 1
        types[entry.get("error_type") or "Unknown"] += 1
        messages[str(entry.get("message") or "")[:200]] += 1
    return LogAnalysis(total_logs=total, error_count=errors, warning_count=warnings, error_types=dict(types),
                       top_errors=messages.most_common(10))


class CheckOutcome(msgspec.Struct, kw_only=True, frozen=True):
    """One health check's verdict: `ok` None when it could not tell (neither a pass nor a failure)."""

    check: CheckName
    ok: bool | None
    severity: Severity = Severity.HIGH
    health_endpoint: str = READINESS_ENDPOINT
    http_status_code: int | None = None
    error_message: str | None = None
    response_body: str | None = None


SYSTEM_RESOLVER = "system:auto"


class IncidentRefused(GatewayError):
    """A well-formed request the incident's state refuses (already resolved, not ongoing): HTTP 400."""

    code = "incident_refused"


INCIDENT_OPENED = "incident_opened"
INCIDENT_RESOLVED = "incident_resolved"


def alert_email(to: str, event: str, incident: Incident) -> Email:
    """What ALERT_EMAILS receive when detection opens or resolves an incident."""
    opened = event == "opened"
    subject = (f"[{incident.environment}] {'Incident opened' if opened else 'Incident resolved'}: "
               f"{incident.check} ({incident.severity})")
    lines = [f"Incident {incident.id}", f"Check: {incident.check} ({incident.health_endpoint})",
             f"Severity: {incident.severity}", f"Environment: {incident.environment}",
             f"Started: {incident.started_at.isoformat()}", f"Detected: {incident.detected_at.isoformat()}"]
    if incident.error_message:
        lines.append(f"Error: {incident.error_message}")
    if not opened and incident.ended_at is not None:
        lines += [f"Ended: {incident.ended_at.isoformat()}", f"Duration: {incident.duration_seconds} s",
                  f"Resolved by: {incident.resolved_by}"]
    body = "\n".join(lines) + "\n"
    return Email(kind=INCIDENT_OPENED if opened else INCIDENT_RESOLVED, to=to, subject=subject, text=body,
                 html="<!doctype html><html><body><pre>" + html.escape(body) + "</pre></body></html>")
