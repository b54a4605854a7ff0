"""LogSource over Loki's HTTP API (`GET /loki/api/v1/query_range`), async with aiohttp.

Loki refuses more than `max_entries_limit_per_query` (5,000 by default) entries per call, so a
larger request is paged: each call asks for at most `max_per_query`, the next one resumes from the
last timestamp seen (Loki's `start` is inclusive, its `end` exclusive) and the entries already
returned at that timestamp are dropped."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Any

import aiohttp

from domain.logs import Direction, LogEntry, LogPage, LogQueryFailed, LogsNotEnabled, ns

_API_SUFFIX = re.compile(r"/loki/api/v1(/.*)?$")
_LEVEL_KEYS = ("level", "levelname")
_LOGGER_KEYS = ("logger", "name")
_MESSAGE_KEYS = ("message", "msg", "event")  # structlog writes `event`
_ERROR_TYPE_KEYS = ("error_type", "exc_type")
_STACK_KEYS = ("stack_trace", "exception", "exc_info", "traceback")


def base_url(url: str) -> str:
    """`LOKI_QUERY_URL` is the base URL; a trailing `/loki/api/v1/...` is stripped."""
    return _API_SUFFIX.sub("", url.rstrip("/"))


def _first(fields: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = fields.get(key)
        if value not in (None, ""):
            return value
    return None


def parse_line(timestamp_ns: int, line: str, labels: dict[str, str]) -> LogEntry:
    """JSON lines give their fields; anything else is plain text, the whole line the message."""
    fields: dict[str, Any] | None = None
    if line.startswith("{"):
        try:
            decoded = json.loads(line)
        except ValueError:
            decoded = None
        fields = decoded if isinstance(decoded, dict) else None
    label_level = labels.get("level") or labels.get("detected_level") or None
    if fields is None:
        return LogEntry(timestamp_ns=timestamp_ns, level=label_level, logger=None, message=line, labels=labels)
    level = _first(fields, _LEVEL_KEYS)
    message = _first(fields, _MESSAGE_KEYS)
    error_type = _first(fields, _ERROR_TYPE_KEYS)
    stack = _first(fields, _STACK_KEYS)
    logger = _first(fields, _LOGGER_KEYS)
    return LogEntry(timestamp_ns=timestamp_ns, level=str(level).upper() if level is not None else label_level,
                    logger=str(logger) if logger is not None else None,
                    message=str(message) if message is not None else line, labels=labels,
                    error_type=str(error_type) if error_type is not None else None,
                    stack_trace=str(stack) if stack is not None else None)


def _key(entry: LogEntry) -> tuple[int, str, str]:
    return entry.timestamp_ns, json.dumps(entry.labels, sort_keys=True), entry.message


class LokiLogSource:
    def __init__(self, url: str | None, *, enabled: bool = True, username: str | None = None,
                 api_key: str | None = None, tenant_id: str | None = None, max_per_query: int = 5000,
                 timeout_s: float = 30.0) -> None:
        self._url = f"{base_url(url)}/loki/api/v1/query_range" if url else None
        self._enabled = enabled and url is not None
        self._headers: dict[str, str] = {}
        if username and api_key:
            token = base64.b64encode(f"{username}:{api_key}".encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"
        if tenant_id:
            self._headers["X-Scope-OrgID"] = tenant_id
        self._secret = api_key
        self._max = max_per_query
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    @property
    def enabled(self) -> bool:
        return self._enabled

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def query_range(self, query: str, start: datetime, end: datetime, limit: int,
                          direction: Direction = "forward") -> LogPage:
        if not self._enabled:
            raise LogsNotEnabled()
        lo, hi = ns(start), ns(end) + 1  # the caller's end is inclusive, Loki's exclusive
        collected: list[LogEntry] = []
        boundary: set[tuple[int, str, str]] = set()  # entries already returned at the resume timestamp
        while lo < hi:
            want = min(self._max, limit + 1 - len(collected) + len(boundary))
            page = await self._call(query, lo, hi, want, direction)
            fresh = [e for e in page if _key(e) not in boundary]
            collected.extend(fresh)
            if len(page) < want or len(collected) > limit:
                break  # the window is exhausted, or we know more exists than the caller wants
            last = page[-1].timestamp_ns
            if not fresh:  # a page of nothing but that timestamp: step past it
                boundary = set()
                lo, hi = (last + 1, hi) if direction == "forward" else (lo, last)
                continue
            boundary = {_key(e) for e in collected if e.timestamp_ns == last}
            lo, hi = (last, hi) if direction == "forward" else (lo, last + 1)
        return LogPage(entries=collected[:limit], truncated=len(collected) > limit)

    async def _call(self, query: str, lo: int, hi: int, limit: int, direction: Direction) -> list[LogEntry]:
        assert self._url is not None
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        params = {"query": query, "start": str(lo), "end": str(hi), "limit": str(limit), "direction": direction}
        try:
            async with self._session.get(self._url, params=params, headers=self._headers) as resp:
                text = await resp.text()
                if resp.status >= 400:
                    raise LogQueryFailed(f"Loki answered HTTP {resp.status}: {self._sanitise(text)}",
                                         loki_status=resp.status)
        except TimeoutError as exc:
            raise LogQueryFailed("Loki query timed out") from exc
        except aiohttp.ClientError as exc:
            raise LogQueryFailed(f"Loki unreachable: {type(exc).__name__}") from exc
        try:
            body = json.loads(text)
            streams = body["data"]["result"]
            entries = [parse_line(int(ts), line, dict(stream.get("stream") or {}))
                       for stream in streams for ts, line in stream["values"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise LogQueryFailed("Loki answered an unreadable body") from exc
        entries.sort(key=lambda e: e.timestamp_ns, reverse=direction == "backward")
        return entries

    def _sanitise(self, text: str) -> str:
        """Loki's plain-text errors, one line, at most 200 characters, without our credentials."""
        text = " ".join(text.split())
        if self._secret:
            text = text.replace(self._secret, "***")
        return text[:200] or "no detail"
