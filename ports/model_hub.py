"""Model metadata from the Hugging Face Hub (issue 14, extended by the catalog issue), and the shared
cache of what was fetched."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class ModelHub(Protocol):
    async def model_info(self, repo_id: str) -> dict[str, Any]:
        """The Hub's metadata of one model as plain JSON data. Raises domain.errors.NotFound for a model
        the Hub does not have, domain.errors.UpstreamFailed for any other Hub failure or a timeout."""
        ...


class HubMetadataCache(Protocol):
    """`huggingface:model:<id>` entries (3,600 s) and an index of their ids, shared by every process.
    Methods raise ports.result_cache.CacheUnavailable when the cache cannot be reached."""

    async def store(self, repo_id: str, data: dict[str, Any], *, now: datetime, ttl_s: int) -> None: ...

    async def entries(self) -> dict[str, datetime]:
        """Live entries: id -> when it was fetched (expired ones are dropped from the index)."""
        ...

    async def clear(self) -> int:
        """Delete every entry and the index; how many entries there were."""
        ...
