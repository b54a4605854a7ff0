"""What every inference controller shares: the caller, response headers, the overhead figure."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.types import ASGIApp

from adapters.http.guards import client_ip
from adapters.http.streaming import FinishingResponse
from domain.api_keys import Principal
from domain.inference import Caller, InferenceRequest
from domain.response_cache import user_enabled
from domain.services.chat_completion import Reply, StreamReply

INFERENCE_OPT = {"auth": "optional", "scope": "inference", "error_style": "openai"}


def caller_of(request: Request[Any, Any, Any]) -> Caller:
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        return Caller(client_ip=client_ip(request))
    return Caller(user_id=principal.user.id, api_key_id=principal.key.id, client_ip=client_ip(request))


def identified(request: Request[Any, Any, Any], inference: InferenceRequest, caching: bool = False) -> InferenceRequest:
    """The ids the request context assigned: ours for the row, headers and errors; the client's kept beside it.
    With the response cache on, also whether the request or the user's preference bypasses it."""
    state = request.scope.get("state", {})
    inference.request_id = state.get("request_id")
    inference.client_request_id = state.get("client_request_id")
    if caching:
        principal: Principal | None = getattr(request.state, "principal", None)
        inference.cache_bypass = cache_bypassed(request.scope.get("headers", ())) or (
            principal is not None and not user_enabled(principal.user.preferences))
    return inference


def cache_bypassed(headers: Any) -> bool:
    """`X-Gatewayz-Cache: bypass` or `Cache-Control: no-cache` (raw ASGI headers, names lower-cased)."""
    for name, value in headers:
        if name == b"x-gatewayz-cache" and value.strip().lower() == b"bypass":
            return True
        if name == b"cache-control" and b"no-cache" in value.lower():
            return True
    return False


def gateway_headers(request: Request[Any, Any, Any], reply: Reply | StreamReply) -> dict[str, str]:
    """`X-Gatewayz-Overhead-Ms`: time in the gateway so far, minus the time waiting on the provider."""
    upstream_s = reply.upstream_s  # every provider attempt, the failed ones included
    started = request.scope.get("state", {}).get("t0")
    overhead_ms = max((time.perf_counter() - started - upstream_s) * 1000, 0.0) if started else 0.0
    return {
        **reply.limit_headers,
        "X-Gatewayz-Provider": reply.provider.slug,
        "X-Gatewayz-Model": reply.model.id,
        "X-Gatewayz-Overhead-Ms": f"{overhead_ms:.3f}",
        "X-Gatewayz-Cache": reply.cache,
    }


async def whole_answer(reply: Reply, encode: Callable[[Reply], bytes], headers: dict[str, str]) -> ASGIApp:
    """The JSON answer; settlement runs after it is sent (and also when encoding it fails)."""
    try:
        body = encode(reply)
    except BaseException:
        await reply.finish()
        raise
    return FinishingResponse(body, headers, reply.finish)
