"""Prometheus exposition."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.datastructures import State
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


class MetricsController(Controller):
    path = "/metrics"
    tags = ["metrics"]
    opt = {"auth": "public"}

    @get("/", operation_id="metrics", media_type=CONTENT_TYPE_LATEST)
    async def metrics(self, state: State) -> Response[bytes]:
        return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
