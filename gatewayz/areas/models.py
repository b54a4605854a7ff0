"""The catalog: loading it (CLI), browsing it (HTTP) and its cache as operators see it (#1603, #1605, #1625)."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.http.area import Area
from adapters.http.bundles.models import ModelsServices
from adapters.http.controllers.admin_catalog import AdminCatalogController
from adapters.http.controllers.models import ModelsController
from adapters.prometheus.catalog_cache import PrometheusCatalogCacheMetrics
from domain.services.catalog_cache import CatalogCache
from domain.services.hub_metadata import HubMetadata
from domain.services.load_catalog import LoadCatalog
from domain.services.model_queries import GetModel, ListModels


class ModelsArea(containers.DeclarativeContainer):
    catalog_repository = providers.Dependency()
    catalog_source = providers.Dependency()
    bus = providers.Dependency()
    clock = providers.Dependency()
    uow = providers.Dependency()
    registry = providers.Dependency()
    catalog_ttl_s = providers.Dependency()
    model_hub = providers.Dependency()
    hub_cache = providers.Dependency()

    load_catalog = providers.Singleton(LoadCatalog, catalog_repository, bus, clock)
    list_models = providers.Singleton(ListModels, catalog_source)
    get_model = providers.Singleton(GetModel, catalog_source)
    catalog_cache = providers.Singleton(CatalogCache, catalog_source, bus, uow, clock,
                                        providers.Singleton(PrometheusCatalogCacheMetrics, registry), catalog_ttl_s)
    hub_metadata = providers.Singleton(HubMetadata, model_hub, hub_cache, uow, clock)
    bundle = providers.Singleton(ModelsServices, list_models, get_model, catalog_cache, hub_metadata)


HTTP = Area("models", [ModelsController, AdminCatalogController])
