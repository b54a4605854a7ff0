"""The per-process concurrency gate, driven as raw ASGI: a slot lasts until the body ends."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from adapters.http.concurrency_gate import ConcurrencyGate, ConcurrencyGateMiddleware
from domain.load import GateStats


class StreamingApp:
    """Sends a start and then one chunk per `step` release; the test holds the stream open."""

    def __init__(self) -> None:
        self.step = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for last in (False, True):
            await self.step.wait()
            self.step.clear()
            await send({"type": "http.response.body", "body": b"chunk", "more_body": not last})


async def call(app: Any, path: str) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "http", "path": path, "method": "GET", "headers": []}, receive, send)
    return sent


async def test_a_stream_holds_its_slot_until_the_last_chunk_and_a_full_gate_sheds_with_503() -> None:
    gate = ConcurrencyGate(limit=1, queue_size=0, queue_timeout_s=1)
    inner = StreamingApp()
    app = ConcurrencyGateMiddleware(inner, gate)
    stream = asyncio.create_task(call(app, "/v1/chat/completions"))
    await asyncio.sleep(0.01)
    inner.step.set()
    await asyncio.sleep(0.01)
    assert gate.active == 1  # first chunk sent, stream still open

    shed = await call(app, "/v1/models")
    start = shed[0]
    assert start["status"] == 503 and (b"retry-after", b"1") in start["headers"]
    assert json.loads(shed[1]["body"])["detail"].startswith("Server is at capacity")
    assert gate.rejected == {"queue_full": 1, "queue_timeout": 0}

    for path in ("/health", "/health/ready", "/metrics"):  # exempt: answered even when full
        assert (await call(ConcurrencyGateMiddleware(_ok, gate), path))[0]["status"] == 200
    assert gate.active == 1 and not stream.done()
    inner.step.set()  # the last chunk
    sent = await stream
    assert [m.get("more_body") for m in sent[1:]] == [True, False]
    assert gate.active == 0


async def _ok(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def test_waiters_queue_in_order_and_time_out() -> None:
    gate = ConcurrencyGate(limit=1, queue_size=2, queue_timeout_s=0.2)
    assert await gate.acquire() is None
    first = asyncio.create_task(gate.acquire())
    second = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0.01)
    assert (gate.active, gate.queued) == (1, 2)
    assert await gate.acquire() == "queue_full"
    gate.release()  # handed to the oldest waiter
    assert await first is None and gate.active == 1
    assert await second == "queue_timeout"
    gate.release()
    assert (gate.active, gate.queued, gate.rejected) == (0, 0, {"queue_full": 1, "queue_timeout": 1})


async def test_a_cancelled_waiter_leaves_no_slot_behind() -> None:
    gate = ConcurrencyGate(limit=1, queue_size=5, queue_timeout_s=5)
    await gate.acquire()
    waiters = [asyncio.create_task(gate.acquire()) for _ in range(3)]
    await asyncio.sleep(0.01)
    waiters[0].cancel()
    gate.release()
    waiters[1].cancel()  # cancelled right after being handed the slot: it must pass it on
    await asyncio.gather(*waiters, return_exceptions=True)
    assert gate.active == 1 and gate.queued == 0
    gate.release()
    assert gate.active == 0


def test_status_follows_the_seed_thresholds() -> None:
    def status(active: int, queued: int) -> str:
        return GateStats(active_requests=active, queued_requests=queued, concurrency_limit=100,
                         queue_size_limit=100, queue_timeout_seconds=10).status
    assert [status(10, 0), status(70, 0), status(0, 60), status(90, 0), status(0, 80)] == [
        "healthy", "warning", "warning", "critical", "critical"]
