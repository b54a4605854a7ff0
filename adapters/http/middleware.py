"""Request context: a request id on every log line and response, and HTTP metrics.

Every request gets the gateway's own id (`X-Gatewayz-Request-Id`, unique: the key of the request
row and its ledger entry, quoted in error bodies). A client's sane `X-Request-Id` is echoed back in
`X-Request-Id` and kept on the request row, but never becomes our key: clients reuse and collide."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog

from adapters.http.metrics import HttpMetrics

_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def client_request_id_from(scope: dict[str, Any]) -> str | None:
    """The client's `X-Request-Id` when it is sane (bounded, no spaces or markup); else None."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _VALID_ID.match(candidate) else None
    return None


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
        request_id = state.get("request_id") or uuid.uuid4().hex
        client_id = client_request_id_from(scope)
        state["request_id"] = request_id
        state["client_request_id"] = client_id
        state["t0"] = start
        if client_id is None:
            structlog.contextvars.bind_contextvars(request_id=request_id)
        else:
            structlog.contextvars.bind_contextvars(request_id=request_id, client_request_id=client_id)
        status = 500
        ours = request_id.encode()
        headers = ((b"x-request-id", client_id.encode() if client_id else ours), (b"x-gatewayz-request-id", ours))

        async def send_wrapper(message: dict[str, Any]) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), *headers]
            elif kind == "http.response.body" and not message.get("more_body", False):
                self.metrics.observe(scope["method"], scope.get("path_template") or "unmatched", status,
                                     time.perf_counter() - start)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            structlog.contextvars.unbind_contextvars("request_id", "client_request_id")

