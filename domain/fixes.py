"""What may be sent to a fix generator and what may come back: truncation and redaction of log text
before it leaves, the paths a proposed change may touch, and the typed failures."""

from __future__ import annotations

import re
from collections.abc import Iterable

import msgspec

from domain.errors import GatewayError

MAX_MESSAGE_CHARS = 50_000
MAX_STACK_CHARS = 10_000
DEFAULT_ALLOWED_PATHS = ("adapters/", "domain/", "ports/", "gatewayz/")
FORBIDDEN_PATHS = (".github/", ".ci/")

_SECRETS = [
    (re.compile(r"gw_(?:live|test)_[A-Za-z0-9_\-]+"), "[REDACTED_GATEWAY_KEY]"),
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"), "[REDACTED_PROVIDER_KEY]"),
    (re.compile(r"\b(?:gh[pousr]_|github_pat_)[A-Za-z0-9_]{10,}"), "[REDACTED_TOKEN]"),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"), "[REDACTED_PROVIDER_KEY]"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=\-]+"), "Bearer [REDACTED]"),
    (re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"), "[REDACTED_EMAIL]"),
]


def redact(text: str) -> str:
    """Gateway keys, provider keys, bearer tokens and email addresses never leave the gateway."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def outbound(text: str | None, limit: int) -> str:
    """Truncated first (the seed's caps), then redacted."""
    return redact((text or "")[:limit])


def path_allowed(path: str, allowed: Iterable[str] = DEFAULT_ALLOWED_PATHS) -> bool:
    """Relative, without `..`, under an allowed prefix and never under CI configuration: a change
    shaped by log text must not reach CI."""
    if not path or path.startswith(("/", "\\")) or "\\" in path or re.match(r"^[A-Za-z]:", path):
        return False
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return False
    if any(path.startswith(f) or f"/{f}" in f"/{path}" for f in FORBIDDEN_PATHS):
        return False
    return any(path.startswith(prefix) for prefix in allowed)


class FixProposal(msgspec.Struct, kw_only=True, frozen=True):
    analysis: str
    proposed_fix: str
    code_changes: dict[str, str]
    files_affected: list[str]
    model: str
    input_tokens: int
    output_tokens: int


class FixRequest(msgspec.Struct, kw_only=True, frozen=True):
    """What the generator is told about a pattern: already truncated and redacted."""

    error_type: str
    category: str
    severity: str
    message: str
    stack_trace: str
    file: str | None
    line: int | None
    function: str | None
    count: int


class FixGenerationFailed(GatewayError):
    code = "fix_generation_failed"


class PullRequestFailed(GatewayError):
    code = "pull_request_failed"


class PullRequest(msgspec.Struct, kw_only=True, frozen=True):
    number: int
    url: str
    branch: str
