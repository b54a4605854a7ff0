"""Request context: a request id on every log line and response, and HTTP metrics."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog

from adapters.http.metrics import HttpMetrics

_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_from(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _VALID_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Plain ASGI (no per-request objects beyond what is needed): it sits on the hot path."""

    def __init__(self, app: Any, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        state = scope.setdefault("state", {})
        request_id = state.get("request_id") or request_id_from(scope)
        state["request_id"] = request_id
        state["t0"] = start
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        header = (b"x-request-id", request_id.encode())

        async def send_wrapper(message: dict[str, Any]) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            elif kind == "http.response.body" and not message.get("more_body", False):
                self.metrics.observe(scope["method"], scope.get("path_template") or "unmatched", status,
                                     time.perf_counter() - start)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")

