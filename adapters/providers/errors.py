"""Every provider failure becomes one UpstreamError, with text that is safe to show a client.

Upstream messages are useful (a 400 usually says which field was wrong) but may echo a key, a
Bearer token or an internal hostname, so they are sanitised here, once, before anything reads them.
Transport errors get fixed wording: aiohttp's own text names hosts and ports."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp
import msgspec

from domain.upstream import UpstreamError

_MAX_MESSAGE = 500

_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\bbearer\s+[^\s\"',;]+"), "Bearer [redacted]"),
    (re.compile(r"(?i)\b(?:x-api-key|api[_-]?key|authorization)([\"']?\s*[:=]\s*[\"']?)[^\s\"',;]+"),
     r"api_key\1[redacted]"),
    (re.compile(r"\b(?:sk|pk|rk|ak|gsk|xai|hf|r8|pplx|fw|csk|nvapi)[-_][A-Za-z0-9._\-]{6,}"), "[redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-.]+"), "[redacted]"),  # JWTs
    (re.compile(r"(?i)\b(?:https?|wss?)://[^\s\"'<>]+"), "[url]"),
    (re.compile(r"\b[0-9a-fA-F]{32,}\b"), "[redacted]"),
    # long unprefixed key-like runs; '-' and '_' excluded so long model ids survive
    (re.compile(r"(?=[A-Za-z0-9+/]*\d)(?=[A-Za-z0-9+/]*[A-Za-z])[A-Za-z0-9+/]{32,}={0,2}"), "[redacted]"),
)

# Anthropic error types (bodies and mid-stream `error` events) -> the HTTP status they stand for.
ANTHROPIC_ERROR_STATUS: Mapping[str, int] = {
    "invalid_request_error": 400, "authentication_error": 401, "billing_error": 402, "permission_error": 403,
    "not_found_error": 404, "request_too_large": 413, "rate_limit_error": 429, "api_error": 500,
    "timeout_error": 504, "overloaded_error": 529,
}


def sanitise(message: str, *, secrets: Iterable[str] = (), host: str | None = None) -> str:
    """Strip keys, tokens, URLs and the provider's hostname; bound the length."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "[redacted]")
    message = message[: _MAX_MESSAGE * 4]  # bounds the regex work; the tail is cut below anyway
    if host:
        message = re.sub(re.escape(host), "[provider]", message, flags=re.IGNORECASE)
    for pattern, replacement in _REDACTIONS:
        message = pattern.sub(replacement, message)
    message = " ".join(message.split())
    return message[:_MAX_MESSAGE] + ("..." if len(message) > _MAX_MESSAGE else "")


def error_message(payload: Any) -> str:
    """The human text of an error body in any of the common shapes (OpenAI, Anthropic, FastAPI...)."""
    if not isinstance(payload, dict):
        return ""
    err = payload.get("error")
    if isinstance(err, dict):
        msg = err.get("message")
    elif isinstance(err, str):
        msg = err
    else:
        msg = payload.get("message") or payload.get("detail")
    return msg if isinstance(msg, str) else ""


def status_error(status: int, body: bytes, headers: Mapping[str, str], *, provider: str,
                 secrets: Iterable[str] = (), host: str | None = None) -> UpstreamError:
    """A non-2xx answer: the upstream status, its Retry-After, and its message (sanitised)."""
    try:
        message = error_message(msgspec.json.decode(body))
    except msgspec.DecodeError:
        text = body[:_MAX_MESSAGE].decode("utf-8", "replace").strip()
        message = "" if text.startswith("<") else text  # an HTML error page says nothing useful
    message = sanitise(message, secrets=secrets, host=host) or f"Upstream returned HTTP {status}"
    return UpstreamError(message, status=status, retry_after=headers.get("Retry-After"), provider=provider)


def payload_error(payload: dict[str, Any], *, provider: str, secrets: Iterable[str] = (),
                  host: str | None = None) -> UpstreamError:
    """An error delivered inside a 200 answer: an Anthropic `error` event or an OpenAI-style
    `{"error": ...}` frame/body. Its status comes from the error type or a numeric code, else 502."""
    err = payload.get("error")
    status = 502
    if isinstance(err, dict):
        code = err.get("code")
        if isinstance(code, int) and 400 <= code <= 599:
            status = code
        else:
            status = ANTHROPIC_ERROR_STATUS.get(str(err.get("type")), 502)
    message = sanitise(error_message(payload), secrets=secrets, host=host) or "Upstream reported an error"
    return UpstreamError(message, status=status, provider=provider)


def transport_error(exc: BaseException, *, provider: str) -> UpstreamError:
    """Timeouts (connect, first byte, read gap) and connection failures: no HTTP status."""
    if isinstance(exc, TimeoutError):  # includes aiohttp's ServerTimeoutError family
        return UpstreamError("Upstream timed out", timeout=True, provider=provider)
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return UpstreamError("Upstream connection closed unexpectedly", provider=provider)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamError("Could not connect to upstream", provider=provider)
    return UpstreamError(f"Upstream connection failed ({type(exc).__name__})", provider=provider)
