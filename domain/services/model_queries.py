"""Read-side use cases of the model list (`GET /v1/models`), served from the in-process snapshot."""

from __future__ import annotations

from domain import not_found
from domain.catalog import Model
from ports.catalog import CatalogSource


class ListModels:
    def __init__(self, source: CatalogSource) -> None:
        self._source = source

    async def __call__(self) -> list[Model]:
        """Active models only; no I/O (the snapshot is refreshed when a load is broadcast)."""
        return list(self._source.current().models.values())


class GetModel:
    def __init__(self, source: CatalogSource) -> None:
        self._source = source

    async def __call__(self, name: str) -> Model:
        """Canonical id or alias."""
        model = self._source.current().resolve(name)
        if model is None:
            raise not_found.model()
        return model
