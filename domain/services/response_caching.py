"""ResponseCaching: whether one request may use the response cache, its lookup and its store.

Built only when the gateway's switch is on; the pipeline holds None otherwise and does no cache
work at all. A cache that fails (Redis stopped) is a miss, never an error: the request goes on to
a provider as if nothing were cached."""

from __future__ import annotations

from domain.inference import Caller, InferenceRequest
from domain.response_cache import (
    MAX_ENTRY_BYTES,
    CachedAnswer,
    CacheStatus,
    cache_key,
    cacheable,
    decode_answer,
    encode_answer,
)
from ports.response_cache import ResponseCache, ResponseCacheMetrics


class Lookup:
    """One request's cache decision: its status, its key (None when it may not use the cache), a hit."""

    __slots__ = ("answer", "key", "status")

    def __init__(self, status: CacheStatus, key: str | None = None, answer: CachedAnswer | None = None) -> None:
        self.status = status
        self.key = key
        self.answer = answer


_BYPASS = Lookup(CacheStatus.BYPASS)


class ResponseCaching:
    def __init__(self, cache: ResponseCache, metrics: ResponseCacheMetrics, *, ttl_s: float = 3600.0) -> None:
        self._cache = cache
        self._metrics = metrics
        self._ttl_s = ttl_s

    async def lookup(self, caller: Caller, model_id: str, request: InferenceRequest, *, bypass: bool) -> Lookup:
        """`bypass`: the request's headers or the user's preference said no."""
        user_id = caller.user_id
        if user_id is None or bypass or not cacheable(request):  # anonymous requests are never cached
            self._metrics.looked_up("bypass")
            return _BYPASS
        key = cache_key(user_id, model_id, request)
        try:
            raw = await self._cache.get(key)
        except Exception:
            self._metrics.looked_up("error")
            return Lookup(CacheStatus.MISS, key)
        answer = decode_answer(raw) if raw is not None else None
        if answer is None:
            self._metrics.looked_up("miss")
            return Lookup(CacheStatus.MISS, key)
        self._metrics.looked_up("hit")
        self._metrics.saved(answer.cost)
        return Lookup(CacheStatus.HIT, key, answer)

    async def store(self, key: str, answer: CachedAnswer) -> bool:
        """Keep a complete answer (at most 1 MiB encoded); False when it was not kept."""
        raw = encode_answer(answer)
        if len(raw) > MAX_ENTRY_BYTES:
            return False
        try:
            await self._cache.put(key, raw, self._ttl_s)
        except Exception:
            self._metrics.looked_up("store_error")
            return False
        return True
