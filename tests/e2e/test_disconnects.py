"""A client that walks away mid-stream, against a real `gatewayz serve`: it is billed for what was
produced, its slot comes back, and the request row says so."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx
import pytest

from tests.e2e.stack import Stack, cli
from tests.integration.inference_kit import MESSAGES
from tests.services import unique_name

FULL_STREAM_TOKENS = 40


@pytest.fixture(autouse=True)
def clean(stack: Stack) -> None:
    httpx.post(stack.fake + "/_fake/reset", timeout=5).raise_for_status()


def until(predicate: object, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        time.sleep(0.05)


def test_a_client_leaving_mid_stream_is_billed_for_what_was_produced_and_frees_its_slot(stack: Stack) -> None:
    key = cli(stack.env, "users", "create", "--email", unique_name("leaver") + "@example.com",
              "--credits", "1")["api_key"]
    auth = {"Authorization": f"Bearer {key}"}
    stack.script("chat-a", content=" ".join(["word"] * FULL_STREAM_TOKENS), stream_chunks=FULL_STREAM_TOKENS,
                 chunk_delay_s=0.1)
    seen = 0
    with httpx.Client(timeout=10) as client, client.stream(
            "POST", stack.gateway + "/v1/chat/completions", headers=auth,
            json={"model": "acme/chat", "messages": MESSAGES, "stream": True, "max_tokens": 100}) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: ") and '"content":"' in line and '"content":""' not in line:
                seen += 1
                if seen == 3:
                    break  # the client leaves: the connection closes with the `with`

    def active() -> int:
        """Requests in flight in the gate, read from /metrics (which the gate does not count)."""
        text = httpx.get(stack.gateway + "/metrics", timeout=5).text
        line = next(x for x in text.splitlines() if x.startswith("concurrency_active_requests "))
        return int(float(line.split()[1]))

    left = time.monotonic()
    until(lambda: active() == 0)
    assert time.monotonic() - left < 2.0  # long before the 4 s upstream answer would have ended

    def charged() -> Decimal:
        body = httpx.get(stack.gateway + "/user/balance", headers=auth, timeout=5).json()
        return Decimal(1) - Decimal(str(body["credits"]))

    until(lambda: charged() > 0)
    # Billed for what was produced (a few chunks, estimated), never for the whole 40-token answer.
    full = (Decimal(11) * 1 + Decimal(FULL_STREAM_TOKENS) * 2) / Decimal(1_000_000)
    assert 0 < charged() < full
    rows = httpx.get(stack.gateway + "/user/credit-transactions", headers=auth, timeout=5).json()
    usage = [t for t in rows["transactions"] if t["transaction_type"] == "api_usage"]
    assert len(usage) == 1 and usage[0]["metadata"]["usage_estimated"] is True
