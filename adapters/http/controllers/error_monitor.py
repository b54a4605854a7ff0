"""Error monitoring, admin only (the seed's routes had no authentication while exposing stack traces
and triggering paid LLM calls and pull requests): status (#1746), errors read from Loki (#1747
recent, #1748 critical, #1749 fixable), stored patterns (#1750), fixes (#1751, #1752), dashboard
(#1753), fix generation (#1754, #1755), the scan loop (#1756 start, stop, #1757 scan)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import structlog
from litestar import Controller, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromQuery, PathParameter, QueryParameter

from adapters.http.bundles.error_monitor import ErrorMonitorBundle
from adapters.http.params import Limit1000, Offset
from adapters.http.schemas.error_monitor import (
    ErrorId,
    ErrorLimit,
    ErrorPatternOut,
    FixDetailOut,
    FixesOut,
    FixOut,
    Hours,
    Interval,
    MonitorOut,
    MonitorStatusOut,
    PatternsOut,
)
from domain.error_monitoring import ErrorPattern
from domain.errors import RateLimited
from domain.fixes import FixGenerationFailed
from domain.logs import LogQueryFailed, LogsNotEnabled
from domain.services.generate_fix import FixGeneratorNotConfigured

log = structlog.get_logger("gatewayz.error_monitor")
FixId = Annotated[str, PathParameter(description="The fix's UUID (anything else is a 404)")]
ErrorIds = Annotated[list[str], QueryParameter(min_items=1, max_items=100, description="Pattern keys or error types")]


def _loki_failed(exc: LogQueryFailed) -> HTTPException:
    log.warning("loki_query_failed", reason=exc.message)
    return HTTPException(status_code=502, detail="Loki query failed")


def _not_configured() -> HTTPException:
    return HTTPException(status_code=503, detail="Fix generator not configured")


def _patterns(patterns: list[ErrorPattern]) -> list[ErrorPatternOut]:
    return [ErrorPatternOut.of(p) for p in patterns]


class ErrorMonitorController(Controller):
    path = "/error-monitor"
    tags = ["error-monitor"]
    opt = {"auth": "admin"}

    @get("/autonomous/status", operation_id="error_monitor_status")
    async def status(self, error_monitor_services: ErrorMonitorBundle) -> MonitorStatusOut:
        s = await error_monitor_services.monitor.status()
        return MonitorStatusOut(status="ok", monitor=MonitorOut(
            enabled=s.state.enabled, running=s.running, auto_fix_enabled=s.state.auto_fix,
            scan_interval=s.state.interval_s, last_scan=s.state.last_scan,
            errors_since_last_fix=s.state.errors_since_last_fix, total_patterns=s.total_patterns))

    async def _read(self, services: Any, hours: int, limit: int) -> list[ErrorPattern] | None:
        try:
            return await services.read_errors(hours, limit)  # type: ignore[no-any-return]
        except LogQueryFailed as exc:
            raise _loki_failed(exc) from exc

    @get("/errors/recent", operation_id="error_monitor_recent")
    async def recent(self, error_monitor_services: ErrorMonitorBundle, hours: Hours = 1,
                     limit: ErrorLimit = 100) -> dict[str, Any]:
        patterns = await self._read(error_monitor_services, hours, limit)
        if patterns is None:
            return {"count": 0, "hours": hours, "errors": [], "loki_enabled": False}
        return {"count": len(patterns), "hours": hours, "errors": _patterns(patterns)}

    @get("/errors/critical", operation_id="error_monitor_critical")
    async def critical(self, error_monitor_services: ErrorMonitorBundle, hours: Hours = 1) -> dict[str, Any]:
        patterns = await self._read(error_monitor_services, hours, 100)
        if patterns is None:
            return {"count": 0, "hours": hours, "critical_errors": [], "loki_enabled": False}
        serious = error_monitor_services.read_errors.serious(patterns)
        return {"count": len(serious), "hours": hours, "critical_errors": _patterns(serious)}

    @get("/errors/fixable", operation_id="error_monitor_fixable")
    async def fixable(self, error_monitor_services: ErrorMonitorBundle, hours: Hours = 1) -> dict[str, Any]:
        patterns = await self._read(error_monitor_services, hours, 100)
        if patterns is None:
            return {"count": 0, "hours": hours, "fixable_errors": [], "loki_enabled": False}
        fixable = error_monitor_services.read_errors.fixable(patterns)
        return {"count": len(fixable), "hours": hours, "fixable_errors": _patterns(fixable)}

    @get("/errors/patterns", operation_id="error_monitor_patterns")
    async def patterns(self, error_monitor_services: ErrorMonitorBundle, limit: Limit1000 = 100,
                       offset: Offset = 0) -> PatternsOut:
        patterns, total = await error_monitor_services.list_patterns(limit, offset)
        return PatternsOut(total_patterns=total, patterns=_patterns(patterns))

    @get("/fixes/generated", operation_id="error_monitor_fixes")
    async def fixes(self, error_monitor_services: ErrorMonitorBundle, limit: Limit1000 = 100,
                    offset: Offset = 0) -> FixesOut:
        fixes, total = await error_monitor_services.fixes.page(limit, offset)
        return FixesOut(total_fixes=total, fixes=[FixOut.of(f) for f in fixes])

    @get("/fixes/{fix_id:str}", operation_id="error_monitor_fix")
    async def fix(self, error_monitor_services: ErrorMonitorBundle, fix_id: FixId) -> FixDetailOut:
        return FixDetailOut(fix=FixOut.of(await error_monitor_services.fixes.get(fix_id)))

    @get("/dashboard", operation_id="error_monitor_dashboard")
    async def dashboard(self, error_monitor_services: ErrorMonitorBundle) -> dict[str, Any]:
        s = error_monitor_services
        patterns = await self._read(s, 1, 100) or []  # one read, reused for both lists
        serious, fixable = s.read_errors.serious(patterns), s.read_errors.fixable(patterns)
        status = await s.monitor.status()
        fixes, total_fixes = await s.fixes.page(10, 0)
        return {"timestamp": datetime.now(UTC).isoformat(), "summary": {
            "total_patterns": status.total_patterns, "critical_errors": len(serious), "fixable_errors": len(fixable),
            "generated_fixes": total_fixes, "patterns_by_category": await s.monitor.counts_by_category()},
            "recent_critical": _patterns(serious[:10]), "recent_fixable": _patterns(fixable[:10]),
            "recent_fixes": [FixOut.of(f) for f in fixes]}

    @post("/fixes/generate-for-error", operation_id="error_monitor_generate_fix", status_code=200)
    async def generate(self, error_monitor_services: ErrorMonitorBundle, error_id: ErrorId,
                       create_pr: FromQuery[bool] = False) -> dict[str, Any]:
        generator = error_monitor_services.generate_fix
        if not generator.configured:
            raise _not_configured()
        pattern = await generator.find(error_id)
        try:
            if create_pr:
                fix_id = await generator.in_background(pattern)
                return {"status": "processing", "message": "Fix generation started in background", "fix_id": fix_id}
            fix = await generator.now(pattern)
        except FixGeneratorNotConfigured as exc:
            raise _not_configured() from exc
        except FixGenerationFailed as exc:
            log.warning("fix_generation_failed", reason=exc.message, pattern=pattern.key)
            raise HTTPException(status_code=502, detail="Failed to generate fix") from exc
        return {"status": "success", "fix": FixOut.of(fix)}

    @post("/fixes/generate-batch", operation_id="error_monitor_generate_batch", status_code=200)
    async def generate_batch(self, error_monitor_services: ErrorMonitorBundle, error_ids: ErrorIds,
                             create_prs: FromQuery[bool] = False) -> dict[str, Any]:
        generator = error_monitor_services.generate_fix
        if not generator.configured:
            raise _not_configured()
        patterns = await error_monitor_services.list_patterns.matching(error_ids)
        if not patterns:
            raise HTTPException(status_code=404, detail="Error pattern not found")
        if create_prs:
            fix_ids = []
            for pattern in patterns:
                try:
                    fix_ids.append(await generator.in_background(pattern))
                except RateLimited:
                    break  # over budget: the rest are not started
            return {"status": "processing", "message": f"Processing {len(fix_ids)} errors in background",
                    "count": len(fix_ids), "fix_ids": fix_ids}
        fixes = []
        for pattern in patterns:
            try:
                fixes.append(await generator.now(pattern))
            except (FixGenerationFailed, RateLimited) as exc:
                log.warning("fix_generation_failed", reason=exc.message, pattern=pattern.key)
        return {"status": "success", "fixes": [FixOut.of(f) for f in fixes], "count": len(fixes)}

    @post("/monitor/start", operation_id="error_monitor_start", status_code=200)
    async def start(self, error_monitor_services: ErrorMonitorBundle, interval: Interval = 300) -> dict[str, Any]:
        await error_monitor_services.monitor.start(interval)
        return {"status": "started", "interval_seconds": interval,
                "message": "Continuous monitoring started in background"}

    @post("/monitor/stop", operation_id="error_monitor_stop", status_code=200)
    async def stop(self, error_monitor_services: ErrorMonitorBundle) -> dict[str, Any]:
        await error_monitor_services.monitor.stop()
        return {"status": "stopped", "message": "Continuous monitoring stopped"}

    @post("/monitor/scan", operation_id="error_monitor_scan", status_code=200)
    async def scan(self, error_monitor_services: ErrorMonitorBundle, hours: Hours = 1,
                   auto_fix: FromQuery[bool] = False) -> dict[str, Any]:
        s = error_monitor_services
        if auto_fix and not s.generate_fix.configured:
            raise _not_configured()
        try:
            result = await s.scan_errors(hours)
        except LogsNotEnabled:
            return {"status": "scanned", "errors_found": 0, "hours": hours, "critical_errors": 0,
                    "loki_enabled": False}
        except LogQueryFailed as exc:
            raise _loki_failed(exc) from exc
        body: dict[str, Any] = {"status": "scanned", "errors_found": result.errors_found, "hours": hours,
                                "critical_errors": result.critical_errors}
        if auto_fix:
            started = 0
            for pattern in (p for p in result.patterns if p.fixable):
                try:
                    await s.generate_fix.in_background(pattern)
                except RateLimited:
                    break
                started += 1
            body["auto_fixes_started"] = started
        return body
