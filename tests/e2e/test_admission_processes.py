"""Admission end to end: two gateway processes sharing Redis enforce one key's limit exactly, and a
limit changed through one process holds for the next request on the other."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.stack import Stack, cli, start_gateway, wait_healthy
from tests.integration.inference_kit import MESSAGES
from tests.services import unique_name


@pytest.fixture(autouse=True)
def clean(stack: Stack) -> None:
    httpx.post(stack.fake + "/_fake/reset", timeout=5).raise_for_status()


def set_limits(url: str, stack: Stack, key: str, **limits: int) -> None:
    resp = httpx.post(url + "/admin/limit", timeout=10, headers={"Authorization": f"Bearer {stack.admin_key}"},
                      json={"api_key": key, "rate_limits": limits})
    assert resp.status_code == 200, resp.text


def chat(url: str, key: str) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", timeout=30, headers={"Authorization": f"Bearer {key}"},
                      json={"model": "acme/chat", "messages": MESSAGES, "max_tokens": 20})


def test_two_processes_admit_exactly_the_keys_limit(stack: Stack) -> None:
    key = cli(stack.env, "users", "create", "--email", unique_name("rl") + "@example.com", "--credits", "10")["api_key"]
    set_limits(stack.gateway, stack, key, requests_per_minute=30)
    b = start_gateway("gateway-limits-b", stack.env, stack.logs)
    try:
        wait_healthy(b)
        urls = [stack.gateway, b.url]
        started = time.monotonic()
        with ThreadPoolExecutor(100) as pool:
            responses = list(pool.map(lambda i: chat(urls[i % 2], key), range(100)))
        elapsed = time.monotonic() - started
        statuses = [r.status_code for r in responses]
        print(f"two processes, 30 rpm: admitted={statuses.count(200)} refused={statuses.count(429)} "
              f"in {elapsed:.2f}s")
        # A sliding window (GCRA), not calendar buckets: 30 at once, then one more every 2 s. A burst
        # that outlasts 2 s (a loaded machine) legitimately admits the slots that refilled meanwhile.
        admitted = statuses.count(200)
        assert 30 <= admitted <= 30 + int(elapsed // 2.0), (admitted, elapsed)
        assert admitted + statuses.count(429) == 100
        refused = next(r for r in responses if r.status_code == 429)
        assert refused.json()["detail"] == "Rate limit exceeded. Limit: 30 RPM"
        assert refused.json()["error"]["code"] == "rate_limit_exceeded"
        assert refused.json()["error"]["scope"] == "requests_per_minute"
        assert int(refused.headers["retry-after"]) >= 1
        served = next(r for r in responses if r.status_code == 200)
        assert served.headers["x-ratelimit-limit-requests"] == "30"
        assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "x-ratelimit-remaining-requests",
                "x-ratelimit-reset-requests", "x-ratelimit-limit-tokens",
                "x-ratelimit-remaining-tokens"} <= set(served.headers)

        # Changed through process A: the very next request on process B obeys the new limit.
        set_limits(stack.gateway, stack, key, requests_per_minute=1)
        assert chat(b.url, key).status_code == 429
        set_limits(stack.gateway, stack, key, requests_per_minute=1000)
        assert chat(b.url, key).status_code == 200
    finally:
        b.stop()
