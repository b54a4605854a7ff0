"""Hugging Face metadata for operators (#1604 cache status, #1606 fresh fetch, #1626 clear)."""

from __future__ import annotations

from typing import Any

from domain.audit import AuditEvent
from ports.clock import Clock
from ports.model_hub import HubMetadataCache, ModelHub
from ports.result_cache import CacheUnavailable
from ports.uow import UnitOfWorkFactory

ENTRY_TTL_S = 3600
CLEAR_HF_CACHE = "admin.refresh_huggingface_cache"


def author_data(raw: dict[str, Any]) -> dict[str, Any]:
    data = raw.get("author_data") or raw.get("authorData") or None
    author = raw.get("author")
    found = data if isinstance(data, dict) else {}
    return {"has_author_data": bool(found), "author_data": data, "author": author,
            "extracted_author_data": {"name": found.get("name") or author, "fullname": found.get("fullname"),
                                      "avatar_url": found.get("avatarUrl") or found.get("avatar_url"),
                                      "follower_count": found.get("followerCount") or found.get("follower_count")
                                      or 0}}


class HubMetadata:
    def __init__(self, hub: ModelHub, cache: HubMetadataCache, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._hub = hub
        self._cache = cache
        self._uow = uow
        self._clock = clock

    async def fetch(self, repo_id: str) -> dict[str, Any]:
        """Fresh from the Hub (never the cache), then stored; a cache failure does not fail the call."""
        raw = await self._hub.model_info(repo_id)
        try:
            await self._cache.store(repo_id, raw, now=self._clock.now(), ttl_s=ENTRY_TTL_S)
        except CacheUnavailable:
            pass
        return raw

    async def status(self) -> dict[str, Any]:
        entries = await self._cache.entries()
        age = (self._clock.now() - min(entries.values())).total_seconds() if entries else None
        return {"age_seconds": age, "is_valid": bool(entries) and age is not None and age < ENTRY_TTL_S,
                "total_cached_models": len(entries), "cached_model_ids": list(entries)}

    async def clear(self, *, admin_id: int) -> int:
        cleared = await self._cache.clear()
        async with self._uow() as uow:
            await uow.audit.record(AuditEvent(event_type=CLEAR_HF_CACHE, created_at=self._clock.now(),
                                              user_id=admin_id, details={"actor": admin_id,
                                                                         "target": "huggingface_cache",
                                                                         "cleared": cleared}))
            await uow.commit()
        return cleared
