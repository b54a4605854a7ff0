"""Wire shapes of the downtime-incident routes (#1737-#1744): the seed's bodies, every column of a row."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar.params import QueryParameter

from domain.incidents import Incident

StatusFilter = Annotated[str | None, QueryParameter(pattern=r"^(ongoing|resolved|investigating)$", required=False)]
SeverityFilter = Annotated[str | None, QueryParameter(pattern=r"^(low|medium|high|critical)$", required=False)]
LevelFilter = Annotated[str | None, QueryParameter(pattern=r"^(ERROR|WARNING|INFO|DEBUG)$", required=False)]
Text = Annotated[str | None, QueryParameter(max_length=1000, pattern=r"^[^\x00]*$", required=False)]
IncidentLimit = Annotated[int, QueryParameter(ge=1, le=500, description="Incidents to return, at most 500")]
Days = Annotated[int, QueryParameter(ge=1, le=365, description="Days to look back")]
Notes = Annotated[str, msgspec.Meta(max_length=10_000, pattern=r"^[^\x00]*$")]


class IncidentOut(msgspec.Struct, kw_only=True):
    id: str
    started_at: datetime
    detected_at: datetime
    ended_at: datetime | None
    duration_seconds: int | None
    health_endpoint: str | None
    error_message: str | None
    http_status_code: int | None
    response_body: str | None
    status: str
    severity: str
    environment: str
    logs_captured: list[dict[str, Any]] | None
    log_count: int
    logs_file_path: str | None
    resolved_by: str | None
    notes: str | None
    server_info: dict[str, Any] | None
    metrics_snapshot: dict[str, Any] | None
    check: str
    capture_due_at: datetime | None

    @classmethod
    def of(cls, incident: Incident) -> IncidentOut:
        return cls(**{f: getattr(incident, f) for f in cls.__struct_fields__})


class IncidentListOut(msgspec.Struct, kw_only=True):
    status: Literal["success"]
    total_incidents: int
    ongoing: int
    resolved: int
    returned: int
    incidents: list[IncidentOut]


class OngoingOut(msgspec.Struct, kw_only=True):
    status: Literal["success"]
    count: int
    incidents: list[IncidentOut]


class StatisticsOut(msgspec.Struct, kw_only=True):
    total_incidents: int
    total_downtime_seconds: int
    average_duration_seconds: int
    by_severity: dict[str, int]
    by_status: dict[str, int]


class StatisticsPageOut(msgspec.Struct, kw_only=True):
    status: Literal["success"]
    period_days: int
    statistics: StatisticsOut


class IncidentDetailOut(msgspec.Struct, kw_only=True):
    status: Literal["success"]
    incident: IncidentOut


class ResolveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    notes: Notes | None = None


class ResolvedOut(msgspec.Struct, kw_only=True):
    status: Literal["success"]
    message: str
    incident: IncidentOut


class CaptureResultOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    success: bool
    log_count: int
    truncated: bool | None = None
    storage: str | None = None
    error: str | None = None


class CaptureOut(msgspec.Struct, kw_only=True):
    status: Literal["success"]
    message: str
    result: CaptureResultOut
