"""A fake Loki speaking `GET /loki/api/v1/query_range` as a stock Loki does: streams of
`[ns-string, line]` values inside `start <= ts < end`, sorted and limited across streams in the
requested direction, a plain-text 400 above `max_entries_limit_per_query` (5,000), and scriptable
failures (an HTTP status) or stalls. It records every request's parameters and headers.

    async with FakeLoki() as loki:
        loki.add({"app": "gatewayz-api"}, [(ts_ns, '{"level": "error", "event": "boom"}'), ...])
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class LokiRequest:
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeLoki:
    host: str = "127.0.0.1"
    port: int = 0
    max_entries_limit_per_query: int = 5000
    streams: list[tuple[dict[str, str], list[tuple[int, str]]]] = field(default_factory=list)
    requests: list[LokiRequest] = field(default_factory=list)
    fail_status: int | None = None   # answer every query with this status (a plain-text body)
    fail_body: str = "internal error"
    stall_s: float = 0.0             # wait this long before answering
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def add(self, labels: dict[str, str], values: list[tuple[int, str]]) -> None:
        self.streams.append((labels, list(values)))

    def clear(self) -> None:
        self.streams.clear()
        self.requests.clear()

    async def __aenter__(self) -> FakeLoki:
        app = web.Application()
        app.router.add_get("/loki/api/v1/query_range", self._query_range)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _query_range(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        self.requests.append(LokiRequest(params=params, headers={k.lower(): v for k, v in request.headers.items()}))
        if self.stall_s:
            await asyncio.sleep(self.stall_s)
        if self.fail_status is not None:
            return web.Response(status=self.fail_status, text=self.fail_body)
        limit = int(params.get("limit", "100"))
        if limit > self.max_entries_limit_per_query:
            return web.Response(status=400, text=(
                f"max entries limit per query exceeded, limit > max_entries_limit_per_query "
                f"({limit} > {self.max_entries_limit_per_query})"))
        start, end = int(params["start"]), int(params["end"])
        backward = params.get("direction", "backward") == "backward"  # Loki's default is backward
        picked: list[tuple[int, int, str]] = []
        for index, (_labels, values) in enumerate(self.streams):
            picked.extend((ts, index, line) for ts, line in values if start <= ts < end)
        picked.sort(key=lambda e: e[0], reverse=backward)
        picked = picked[:limit]
        result: dict[int, list[list[str]]] = {}
        for ts, index, line in picked:
            result.setdefault(index, []).append([str(ts), line])
        body: dict[str, Any] = {"status": "success", "data": {"resultType": "streams", "result": [
            {"stream": self.streams[i][0], "values": v} for i, v in result.items()], "stats": {}}}
        return web.json_response(body)


def structlog_line(event: str, level: str = "error", **fields: Any) -> str:
    return json.dumps({"event": event, "level": level, **fields})
