"""Circuit breakers: reads from the shared store, resets through the local copy dispatch uses."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.http.area import Area
from adapters.http.bundles.breakers import BreakersServices
from adapters.http.controllers.circuit_breakers import CircuitBreakersController
from domain.services.breaker_queries import ListBreakers, ShowBreaker
from domain.services.reset_breakers import ResetAllBreakers, ResetBreaker


class BreakersArea(containers.DeclarativeContainer):
    breaker_store = providers.Dependency()
    breakers = providers.Dependency()
    breaker_providers = providers.Dependency()
    clock = providers.Dependency()
    policy = providers.Dependency()
    metrics = providers.Dependency()

    list_breakers = providers.Singleton(ListBreakers, breaker_store, breaker_providers, clock, policy)
    show_breaker = providers.Singleton(ShowBreaker, breaker_store, clock, policy)
    reset_breaker = providers.Singleton(ResetBreaker, breakers, breaker_providers, clock, policy, metrics)
    reset_all_breakers = providers.Singleton(ResetAllBreakers, breakers, breaker_providers, clock, policy, metrics)
    bundle = providers.Singleton(BreakersServices, list_breakers, show_breaker, reset_breaker, reset_all_breakers)


HTTP = Area("breakers", [CircuitBreakersController], container="circuit_breakers")
