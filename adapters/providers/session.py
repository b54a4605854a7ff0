"""One pooled aiohttp session per provider: connections, DNS answers and TLS sessions are reused
across requests, and one slow provider cannot exhaust another's pool."""

from __future__ import annotations

import asyncio

import aiohttp


class SessionPool:
    def __init__(self, *, connect_timeout_s: float, read_timeout_s: float, limit: int = 512,
                 keepalive_s: float = 30.0, dns_ttl_s: int = 300) -> None:
        # sock_connect, not connect: waiting for a free pooled connection is not the provider's fault.
        # sock_read bounds every gap between reads, so it is the "read gap" timeout of a stream.
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout_s, sock_read=read_timeout_s)
        self._limit = limit
        self._keepalive_s = keepalive_s
        self._dns_ttl_s = dns_ttl_s
        self._sessions: dict[str, aiohttp.ClientSession] = {}

    def get(self, slug: str) -> aiohttp.ClientSession:
        """The provider's session, created on first use (it must be made inside the running loop)."""
        session = self._sessions.get(slug)
        if session is None or session.closed:
            session = self._sessions[slug] = self._open()
        return session

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self._limit, limit_per_host=0, ttl_dns_cache=self._dns_ttl_s,
                                         keepalive_timeout=self._keepalive_s)
        return aiohttp.ClientSession(connector=connector, timeout=self._timeout, raise_for_status=False,
                                     headers={"User-Agent": "gatewayz"})

    async def close(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
