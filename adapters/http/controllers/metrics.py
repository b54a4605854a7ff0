"""Prometheus exposition."""

from __future__ import annotations

from litestar import Controller, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters.http.bundles.health import HealthBundle


class MetricsController(Controller):
    path = "/metrics"
    tags = ["metrics"]
    opt = {"auth": "public"}

    @get("/", operation_id="metrics", media_type=CONTENT_TYPE_LATEST)
    async def metrics(self, health_services: HealthBundle) -> Response[bytes]:
        return Response(generate_latest(health_services.registry), media_type=CONTENT_TYPE_LATEST)
