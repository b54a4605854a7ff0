"""The one table from outcome to HTTP: status, body shape per route family, and headers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from adapters.http.schemas.money import money
from domain.errors import (
    AttemptsExceeded,
    AuthenticationRequired,
    Conflict,
    Forbidden,
    GatewayError,
    InsufficientCredits,
    InvalidApiKey,
    InvalidCredentials,
    InvalidIdentityToken,
    InvalidInput,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    UpstreamFailed,
    UpstreamTimeout,
)

log = structlog.get_logger("gatewayz.errors")

STATUS: dict[type[GatewayError], int] = {
    AuthenticationRequired: 401,
    InvalidApiKey: 401,
    InvalidCredentials: 401,
    InvalidIdentityToken: 401,
    InsufficientCredits: 402,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    RateLimited: 429,
    UpstreamFailed: 502,
    ServiceUnavailable: 503,
    UpstreamTimeout: 504,
}

OPENAI_TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "insufficient_quota",
                403: "permission_error", 404: "not_found_error", 409: "invalid_request_error",
                422: "invalid_request_error", 429: "rate_limit_error", 502: "api_error",
                503: "service_unavailable", 504: "timeout_error"}
ANTHROPIC_TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
                   403: "permission_error", 404: "not_found_error", 409: "invalid_request_error",
                   413: "request_too_large", 422: "invalid_request_error", 429: "rate_limit_error",
                   502: "api_error", 503: "overloaded_error", 504: "timeout_error", 500: "api_error"}

# Outcomes whose body also carries a structured "error" object in the {"detail"} family.
_STRUCTURED = (InsufficientCredits, RateLimited, ServiceUnavailable, UpstreamFailed, UpstreamTimeout)


def status_of(exc: GatewayError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return int(exc.details.get("status", 400))


def _style(request: Request[Any, Any, Any]) -> str:
    try:
        return str(request.route_handler.opt.get("error_style", "detail"))
    except Exception:
        return "detail"


def _request_id(request: Request[Any, Any, Any]) -> str | None:
    return request.scope.get("state", {}).get("request_id")  # type: ignore[no-any-return]


def error_body(style: str, status: int, message: str, code: str, *, param: str | None = None,
               details: dict[str, Any] | None = None, structured: bool = False,
               request_id: str | None = None) -> dict[str, Any]:
    """The inference families carry the gateway's request id, so a user can quote it to support."""
    if style == "anthropic":
        body: dict[str, Any] = {"type": "error",
                                "error": {"type": ANTHROPIC_TYPES.get(status, "api_error"), "message": message}}
        if request_id:
            body["request_id"] = request_id
        return body
    if style == "openai":
        error: dict[str, Any] = {"message": message, "type": OPENAI_TYPES.get(status, "api_error"),
                                 "code": code, "param": param}
        if details:
            error.update(_wire(details))
        if request_id:
            error["request_id"] = request_id
        return {"error": error, "detail": message}
    body = {"detail": message}
    if structured or details:
        body["error"] = {"code": code, "message": message, **_wire(details or {})}
    return body


def _wire(details: dict[str, Any]) -> dict[str, Any]:
    """Money in error details goes out as exact JSON numbers, like everywhere else (schemas/money.py)."""
    return {k: money(v) if isinstance(v, Decimal) else v for k, v in details.items()}


def _json(body: Any, status: int, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(content=msgspec.json.encode(body), status_code=status, headers=headers,
                    media_type="application/json")


def handle_gateway_error(request: Request[Any, Any, Any], exc: GatewayError) -> Response[Any]:
    status = status_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, ServiceUnavailable) and exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    for name, value in exc.details.pop("headers", {}).items():
        headers[name] = value
    if isinstance(exc, ServiceUnavailable):
        log.warning("service_unavailable", reason=exc.reason, message=exc.message)
    style = _style(request)
    if isinstance(exc, AttemptsExceeded):  # the seed's auth-limit body, plus our `detail`
        return _json({"detail": exc.message, "error": exc.message, "retry_after": exc.retry_after,
                      "message": f"Too many attempts; try again in {exc.retry_after} seconds"}, 429, headers)
    if isinstance(exc, InvalidInput):
        loc = exc.details.get("loc") or (["body", *exc.field.split(".")] if exc.field else ["body"])
        items = [{"loc": loc, "msg": exc.message, "type": "value_error"}]
        if style == "detail":
            return _json({"detail": items}, 422, headers)
        message = f"{exc.field}: {exc.message}" if exc.field else exc.message
        body = error_body(style, 422, message, exc.code, param=exc.field, request_id=_request_id(request))
        if style == "openai":
            body["detail"] = items
        return _json(body, 422, headers)
    return _json(error_body(style, status, exc.message, exc.code, param=exc.details.pop("param", None),
                            details=dict(exc.details), structured=isinstance(exc, _STRUCTURED),
                            request_id=_request_id(request)), status, headers)


def _validation_items(exc: ValidationException) -> list[dict[str, Any]]:
    items = []
    for err in exc.extra if isinstance(exc.extra, list) else []:
        source = err.get("source") or "body"
        key = err.get("key")
        loc = [source if source != "path" else "path", *(str(key).split(".") if key else [])]
        items.append({"loc": loc, "msg": err.get("message", "invalid value"), "type": "value_error"})
    return items or [{"loc": ["body"], "msg": exc.detail, "type": "value_error"}]


def handle_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """Litestar says 400; the spec's clients expect FastAPI's 422 with a detail list."""
    items = _validation_items(exc)
    style = _style(request)
    if style == "detail":
        return _json({"detail": items}, 422)
    first = items[0]
    field = ".".join(str(p) for p in first["loc"][1:]) or None
    message = f"{field}: {first['msg']}" if field else first["msg"]
    body = error_body(style, 422, message, "invalid_request", param=field, request_id=_request_id(request))
    if style == "openai":
        body["detail"] = items
    return _json(body, 422)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    style = _style(request)
    detail = exc.detail
    if style == "detail":
        return _json({"detail": detail}, exc.status_code, exc.headers)
    return _json(error_body(style, exc.status_code, detail, "http_error", request_id=_request_id(request)),
                 exc.status_code, exc.headers)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    request_id = _request_id(request)
    log.error("unhandled_exception", request_id=request_id, path=request.url.path, exc_info=exc)
    style = _style(request)
    if style == "detail":
        return _json({"detail": "Internal server error", "request_id": request_id}, 500)
    body = error_body(style, 500, "Internal server error", "internal_error", request_id=request_id)
    body["request_id"] = request_id
    return _json(body, 500)


def exception_handlers() -> dict[Any, Any]:
    return {
        ValidationException: handle_validation_error,
        GatewayError: handle_gateway_error,
        HTTPException: handle_http_exception,
        Exception: handle_unexpected,
    }
