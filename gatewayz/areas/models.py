"""The catalog: loading it (CLI) and browsing it (HTTP)."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.http.area import Area
from adapters.http.bundles.models import ModelsServices
from adapters.http.controllers.models import ModelsController
from domain.services.load_catalog import LoadCatalog
from domain.services.model_queries import GetModel, ListModels


class ModelsArea(containers.DeclarativeContainer):
    catalog_repository = providers.Dependency()
    catalog_source = providers.Dependency()
    bus = providers.Dependency()
    clock = providers.Dependency()

    load_catalog = providers.Singleton(LoadCatalog, catalog_repository, bus, clock)
    list_models = providers.Singleton(ListModels, catalog_source)
    get_model = providers.Singleton(GetModel, catalog_source)
    bundle = providers.Singleton(ModelsServices, list_models, get_model)


HTTP = Area("models", [ModelsController])
