"""The model catalog as clients browse it."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency

from domain.services.catalog_cache import CatalogCache
from domain.services.hub_metadata import HubMetadata
from domain.services.model_queries import GetModel, ListModels


@dataclass(frozen=True, slots=True)
class ModelsServices:
    list_models: ListModels
    get_model: GetModel
    catalog_cache: CatalogCache
    hub_metadata: HubMetadata


# what a handler writes to receive it (`models_services: ModelsBundle`)
ModelsBundle = NamedDependency[ModelsServices]
