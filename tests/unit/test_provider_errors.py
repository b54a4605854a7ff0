"""Upstream error text is sanitised before anything can show it to a client."""

from __future__ import annotations

import pytest

from adapters.providers.errors import sanitise, status_error


@pytest.mark.parametrize("leak", [
    "sk-proj-AbCdEf0123456789xyz",
    "sk-ant-api03-AbCdEf0123456789",
    "gsk_0123456789abcdefABCDEF",
    "Bearer abc.def.ghi",
    "api_key=abcdef123456",
    "https://internal.example.com:8443/v1/chat",
    "0123456789abcdef0123456789abcdef",
    "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
])
def test_secrets_and_urls_are_redacted(leak: str) -> None:
    clean = sanitise(f"Request failed: {leak} was rejected")
    assert leak not in clean and clean.startswith("Request failed:") and clean.endswith("was rejected")


def test_the_key_and_the_host_are_redacted_even_without_a_known_shape() -> None:
    clean = sanitise("bad key plainkey at api.provider.internal", secrets=("plainkey",), host="api.provider.internal")
    assert clean == "bad key [redacted] at [provider]"


def test_ordinary_messages_and_model_ids_survive() -> None:
    text = "max_tokens: must be <= 8192 for meta-llama/Llama-3.1-405B-Instruct-Turbo-fp8-long-context"
    assert sanitise(text) == text


def test_a_status_error_reads_the_message_from_any_common_shape() -> None:
    openai = status_error(400, b'{"error":{"message":"bad role","type":"invalid_request_error"}}', {}, provider="p")
    anthropic = status_error(429, b'{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}',
                             {"Retry-After": "3"}, provider="p")
    html = status_error(502, b"<html><body>Bad Gateway at 10.0.0.1</body></html>", {}, provider="p")
    assert (openai.status, openai.message) == (400, "bad role")
    assert (anthropic.status, anthropic.retry_after, anthropic.message) == (429, "3", "slow down")
    assert html.message == "Upstream returned HTTP 502"
