"""Liveness and readiness."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Response, get

from adapters.http.bundles.health import HealthBundle


class HealthController(Controller):
    path = "/health"
    tags = ["health"]
    opt = {"auth": "public"}

    @get("/", operation_id="health")
    async def health(self) -> dict[str, Any]:
        """No I/O: answers 200 for as long as the process serves."""
        return {"status": "healthy", "timestamp": datetime.now(UTC).isoformat()}

    @get("/ready", operation_id="health_ready")
    async def ready(self, health_services: HealthBundle) -> Response[dict[str, Any]]:
        checks = await health_services.check_readiness()
        failed = sorted(name for name, result in checks.items() if result != "ok")
        if failed:
            return Response({"status": "unavailable", "detail": f"Not ready: {', '.join(failed)}",
                             "checks": checks}, status_code=503)
        return Response({"status": "ready", "checks": checks}, status_code=200)
