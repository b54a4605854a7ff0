"""The error classifier, table-driven: every rule of the seed, the first-match order, the fixability
table, stack-trace details, grouping, the severity-rank order, redaction and the allowed paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.error_monitoring import (
    FIX_BACKOFF,
    FIX_CACHE,
    FIX_DB_RETRY,
    FIX_POOL,
    FIX_PROVIDER_RETRY,
    FIX_ROTATE_KEYS,
    FIX_TIMEOUT,
    FIX_TOKEN_REFRESH,
    ErrorCategory,
    ErrorSeverity,
    by_severity_then_count,
    classify,
    fixability,
    group,
    pattern_key,
    stack_details,
)
from domain.fixes import path_allowed, redact
from domain.logs import LogEntry, ns

PROVIDERS = ["openrouter", "OpenRouter", "anthropic", "Anthropic", "deepinfra"]
C, S = ErrorCategory, ErrorSeverity


@pytest.mark.parametrize(("message", "category", "severity"), [
    ("OpenRouter request timeout after 30s", C.PROVIDER_ERROR, S.HIGH),
    ("anthropic answered 503", C.PROVIDER_ERROR, S.HIGH),
    ("DeepInfra 504 gateway timeout", C.PROVIDER_ERROR, S.HIGH),
    ("openrouter returned 401", C.AUTH_ERROR, S.HIGH),
    ("Anthropic: 403 forbidden", C.AUTH_ERROR, S.HIGH),
    ("openrouter returned malformed JSON", C.PROVIDER_ERROR, S.MEDIUM),
    ("Supabase query failed", C.DATABASE_ERROR, S.CRITICAL),
    ("PostgreSQL server closed the connection", C.DATABASE_ERROR, S.CRITICAL),
    ("database is locked", C.DATABASE_ERROR, S.CRITICAL),
    ("QueuePool limit reached: connection pool exhausted", C.DATABASE_ERROR, S.CRITICAL),
    ("Rate limit exceeded for key 12", C.RATE_LIMIT_ERROR, S.MEDIUM),
    ("upstream said 429", C.RATE_LIMIT_ERROR, S.MEDIUM),
    ("Unauthorized", C.AUTH_ERROR, S.HIGH),
    ("Invalid API key presented", C.AUTH_ERROR, S.HIGH),
    ("HTTP 401 from billing", C.AUTH_ERROR, S.HIGH),
    ("read timeout on socket", C.TIMEOUT_ERROR, S.MEDIUM),
    ("DeadlineExceeded while waiting", C.TIMEOUT_ERROR, S.MEDIUM),
    ("validation failed for field x", C.VALIDATION_ERROR, S.LOW),
    ("invalid model name", C.VALIDATION_ERROR, S.LOW),
    ("Redis connection refused", C.CACHE_ERROR, S.MEDIUM),
    ("cache miss storm", C.CACHE_ERROR, S.MEDIUM),
    ("Stripe webhook signature mismatch", C.EXTERNAL_SERVICE_ERROR, S.HIGH),
    ("Resend rejected the message", C.EXTERNAL_SERVICE_ERROR, S.HIGH),
    ("email bounced", C.EXTERNAL_SERVICE_ERROR, S.HIGH),
    ("payment declined", C.EXTERNAL_SERVICE_ERROR, S.HIGH),
    ("KeyError: 'choices'", C.INTERNAL_ERROR, S.MEDIUM),
])
def test_every_rule(message: str, category: ErrorCategory, severity: ErrorSeverity) -> None:
    assert classify(message, PROVIDERS) == (category, severity)


@pytest.mark.parametrize(("message", "category"), [
    ("anthropic database timeout", C.PROVIDER_ERROR),      # provider rules come first
    ("database rate limit 429", C.DATABASE_ERROR),         # database before rate limit
    ("rate limit: unauthorized", C.RATE_LIMIT_ERROR),      # rate limit before auth
    ("unauthorized: timeout", C.AUTH_ERROR),               # auth before timeout
    ("timeout during validation", C.TIMEOUT_ERROR),        # timeout before validation
    ("invalid redis reply", C.VALIDATION_ERROR),           # validation before cache
    ("cache write for stripe event", C.CACHE_ERROR),       # cache before external services
    ("OPENROUTER TIMEOUT", C.PROVIDER_ERROR),              # case-insensitive
])
def test_the_first_matching_rule_wins(message: str, category: ErrorCategory) -> None:
    assert classify(message, PROVIDERS)[0] is category


def test_provider_names_come_from_the_catalog() -> None:
    assert classify("novaprov timeout", [])[0] is C.TIMEOUT_ERROR
    assert classify("novaprov timeout", ["novaprov"])[0] is C.PROVIDER_ERROR


@pytest.mark.parametrize(("category", "message", "fixable", "fix"), [
    (C.RATE_LIMIT_ERROR, "429", True, FIX_BACKOFF),
    (C.TIMEOUT_ERROR, "provider call timeout", True, FIX_PROVIDER_RETRY),
    (C.TIMEOUT_ERROR, "socket timeout", True, FIX_TIMEOUT),
    (C.CACHE_ERROR, "redis down", True, FIX_CACHE),
    (C.DATABASE_ERROR, "connection pool exhausted", True, FIX_POOL),
    (C.DATABASE_ERROR, "database gone", True, FIX_DB_RETRY),
    (C.AUTH_ERROR, "invalid api key", True, FIX_ROTATE_KEYS),
    (C.AUTH_ERROR, "token expired 401", True, FIX_TOKEN_REFRESH),
    (C.PROVIDER_ERROR, "openrouter 503", False, None),
    (C.VALIDATION_ERROR, "invalid", False, None),
    (C.EXTERNAL_SERVICE_ERROR, "stripe", False, None),
    (C.INTERNAL_ERROR, "boom", False, None),
    (C.UNKNOWN, "?", False, None),
])
def test_the_fixability_table(category: ErrorCategory, message: str, fixable: bool, fix: str | None) -> None:
    assert fixability(category, message) == (fixable, fix)


def test_details_come_from_the_innermost_frame() -> None:
    trace = ('Traceback (most recent call last):\n  File "/app/gatewayz/app.py", line 10, in handle\n    x()\n'
             '  File "/app/adapters/providers/upstream.py", line 152, in send_request\n    raise\nTimeoutError')
    assert stack_details(trace) == ("/app/adapters/providers/upstream.py", 152, "send_request")
    assert stack_details("no frames here") == (None, None, None)
    assert stack_details(None) == (None, None, None)


T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def entry(message: str, at: int, error_type: str | None = "TimeoutError") -> LogEntry:
    return LogEntry(timestamp_ns=ns(T0 + timedelta(seconds=at)), level="ERROR", logger="x", message=message,
                    labels={}, error_type=error_type)


def test_grouping_by_category_and_the_first_fifty_characters() -> None:
    long = "socket timeout while reading the answer of the upstream provider "
    entries = [entry(long + str(i), i) for i in range(7)] + [entry("Redis connection refused", 3, None)]
    patterns = group(entries, PROVIDERS)
    assert [p.key for p in patterns] == [pattern_key(C.TIMEOUT_ERROR, long), "cache_error:Redis connection refused"]
    timeouts = patterns[0]
    assert timeouts.key == f"timeout_error:{long[:50]}"
    assert timeouts.count == 7 and timeouts.first_seen == T0 and timeouts.last_seen == T0 + timedelta(seconds=6)
    assert timeouts.examples == [long + str(i) for i in (6, 5, 4, 3, 2)]  # the 5 most recent
    assert patterns[1].error_type == "Error"


def test_severity_orders_by_rank_not_by_its_string() -> None:
    patterns = group([entry("payment declined", 0), entry("validation failed", 1), entry("database down", 2),
                      entry("Redis refused", 3), entry("Redis refused", 4)], PROVIDERS)
    ordered = by_severity_then_count(patterns)
    assert [p.severity for p in ordered] == [S.CRITICAL, S.HIGH, S.MEDIUM, S.LOW]
    assert sorted(str(p.severity) for p in patterns) != [str(p.severity) for p in ordered]  # the seed's bug


def test_redaction_removes_keys_tokens_and_addresses() -> None:
    text = ("key gw_live_AbC123-xyz_987 and sk-ant-api03-SECRETSECRET, sk-proj-abcdefghijkl, "
            "Authorization: Bearer eyJhbGciOi.J9.x, ghp_abcdefghijklmnopqrstu, mail ada@example.com")
    redacted = redact(text)
    for secret in ("gw_live_AbC123", "sk-ant-api03", "sk-proj-abc", "eyJhbGciOi", "ghp_abc", "ada@example.com"):
        assert secret not in redacted
    assert "[REDACTED_GATEWAY_KEY]" in redacted and "[REDACTED_EMAIL]" in redacted


@pytest.mark.parametrize(("path", "allowed"), [
    ("adapters/providers/upstream.py", True),
    ("domain/routing.py", True),
    ("gatewayz/app.py", True),
    ("ports/x.py", True),
    (".github/workflows/x.yml", False),
    ("adapters/.github/workflows/x.yml", False),
    (".ci/run", False),
    ("../x", False),
    ("adapters/../../etc/passwd", False),
    ("/etc/passwd", False),
    ("README.md", False),
    ("tests/test_x.py", False),
    ("adapters//x.py", False),
    ("C:/x.py", False),
])
def test_the_paths_a_fix_may_touch(path: str, allowed: bool) -> None:
    assert path_allowed(path) is allowed
