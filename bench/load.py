"""The Python load generator (aiohttp): sequential requests for exact per-request latencies, a
bounded closed loop for throughput when wrk is missing, and SSE streams timed chunk by chunk."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp
import msgspec

OVERHEAD_HEADER = "X-Gatewayz-Overhead-Ms"


@dataclass(frozen=True, slots=True)
class Target:
    """One endpoint to load: URL, body and headers, sent the same way to the gateway and the fake."""

    url: str
    body: bytes
    headers: dict[str, str]


def target(base_url: str, payload: dict[str, object], key: str) -> Target:
    return Target(url=base_url + "/v1/chat/completions", body=msgspec.json.encode(payload),
                  headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})


def session(limit: int = 0) -> aiohttp.ClientSession:
    """Keep-alive pool, no overall timeout (each phase bounds its own time), no cookie jar."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit, force_close=False),
                                 timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
                                 cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False)


class LoadError(RuntimeError):
    pass


@dataclass(slots=True)
class Timed:
    """Latencies (ms) of successful requests, the overhead header values (ms), and failures."""

    latencies: list[float] = field(default_factory=list)
    overheads: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def note_error(self, status: int) -> None:
        self.errors += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1


async def request(s: aiohttp.ClientSession, t: Target, into: Timed) -> None:
    start = time.perf_counter()
    try:
        async with s.post(t.url, data=t.body, headers=t.headers) as resp:
            await resp.read()
            elapsed = (time.perf_counter() - start) * 1000
            if resp.status != 200:
                into.note_error(resp.status)
                return
            into.latencies.append(elapsed)
            overhead = resp.headers.get(OVERHEAD_HEADER)
            if overhead is not None:
                into.overheads.append(float(overhead))
    except (TimeoutError, aiohttp.ClientError):
        into.note_error(0)


async def sequential(s: aiohttp.ClientSession, t: Target, n: int) -> Timed:
    into = Timed()
    for _ in range(n):
        await request(s, t, into)
    return into


async def interleaved(gateway: tuple[aiohttp.ClientSession, Target], direct: tuple[aiohttp.ClientSession, Target],
                      n: int) -> tuple[Timed, Timed]:
    """n sequential requests on each path, alternating, so slow drifts of the machine (other jobs,
    CPU frequency) hit both paths alike and cancel in the difference."""
    through, straight = Timed(), Timed()
    for i in range(n):
        order = ((gateway, through), (direct, straight)) if i % 2 else ((direct, straight), (gateway, through))
        for (sess, tgt), into in order:
            await request(sess, tgt, into)
    return through, straight


async def closed_loop(s: aiohttp.ClientSession, t: Target, concurrency: int, duration_s: float,
                      max_requests: int | None = None) -> tuple[Timed, float]:
    """`concurrency` clients each sending back to back, until the time or the count runs out.
    Returns the timings and the elapsed wall time."""
    into = Timed()
    deadline = time.perf_counter() + duration_s
    budget = [max_requests if max_requests is not None else 1 << 62]

    async def client() -> None:
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            await request(s, t, into)

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return into, time.perf_counter() - start


# ------------------------------------------------------------------------- streaming

_CONTENT_MARKERS = (b'"content":"', b'"content": "')


def _has_content(frames: bytes) -> bool:
    """True when some SSE event in `frames` carries non-empty delta content (not the role frame,
    whose content is "" or null). Parsed properly only when the cheap byte test says maybe."""
    if not any(m in frames for m in _CONTENT_MARKERS):
        return False
    for line in frames.split(b"\n"):
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if not data or data == b"[DONE]":
            continue
        try:
            event = msgspec.json.decode(data)
        except msgspec.DecodeError:
            continue
        for choice in event.get("choices") or ():
            if (choice.get("delta") or {}).get("content"):
                return True
    return False


@dataclass(slots=True)
class StreamResult:
    ok: bool
    ttft_ms: float = 0.0  # request sent -> first content chunk received
    arrivals: list[float] = field(default_factory=list)  # seconds, from the first content chunk on
    error: str = ""


async def stream_once(s: aiohttp.ClientSession, t: Target) -> StreamResult:
    """One streamed request, timestamping every read that completes an SSE event."""
    start = time.perf_counter()
    try:
        async with s.post(t.url, data=t.body, headers=t.headers) as resp:
            if resp.status != 200:
                await resp.read()
                return StreamResult(ok=False, error=f"HTTP {resp.status}")
            result, pending, done = StreamResult(ok=True), b"", False
            async for data in resp.content.iter_any():
                now = time.perf_counter()
                if not result.arrivals:  # before the first content: look at whole events
                    pending += data
                    cut = pending.rfind(b"\n\n")
                    if cut < 0:
                        continue
                    events, pending = pending[: cut + 2], pending[cut + 2:]
                    if _has_content(events):
                        result.ttft_ms = (now - start) * 1000
                        result.arrivals.append(now)
                    done = done or b"[DONE]" in events
                elif b"\n\n" in data:
                    result.arrivals.append(now)
                    done = done or b"[DONE]" in data
            if not result.arrivals:
                return StreamResult(ok=False, error="no content chunk")
            if not done:
                return StreamResult(ok=False, error="stream ended without [DONE]", arrivals=result.arrivals)
            return result
    except (TimeoutError, aiohttp.ClientError) as exc:
        return StreamResult(ok=False, error=f"{type(exc).__name__}: {exc}")


async def stream_level(s: aiohttp.ClientSession, t: Target, n: int, stagger_s: float,
                       timeout_s: float) -> list[StreamResult]:
    """n concurrent streams, started evenly over stagger_s, each bounded by timeout_s."""

    async def one(i: int) -> StreamResult:
        await asyncio.sleep(stagger_s * i / max(n, 1))
        try:
            async with asyncio.timeout(timeout_s):
                return await stream_once(s, t)
        except TimeoutError:
            return StreamResult(ok=False, error=f"timed out after {timeout_s:.0f}s")

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def streams_for(s: aiohttp.ClientSession, targets: Sequence[Target], concurrency: int,
                      duration_s: float, timeout_s: float) -> list[list[StreamResult]]:
    """`concurrency` clients per target streaming back to back until duration_s has passed;
    results per target. Clients alternate start order so both targets see the same conditions."""
    deadline = time.perf_counter() + duration_s
    results: list[list[StreamResult]] = [[] for _ in targets]

    async def client(which: int) -> None:
        while time.perf_counter() < deadline:
            try:
                async with asyncio.timeout(timeout_s):
                    results[which].append(await stream_once(s, targets[which]))
            except TimeoutError:
                results[which].append(StreamResult(ok=False, error="timed out"))

    tasks = [client(i % len(targets)) for i in range(concurrency * len(targets))]
    await asyncio.gather(*tasks)
    return results
