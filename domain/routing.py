"""Resolution and failover order: which offers a request may try, in which order."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from domain.breaker import BreakerPolicy, BreakerState
from domain.catalog import Catalog, Model, Offer, Provider
from domain.errors import Forbidden, InvalidInput, NotFound, ServiceUnavailable

Route = tuple[Provider, Offer]


def resolve_model(catalog: Catalog, name: str) -> Model:
    """Canonical id or alias; unknown models are a 404 with close matches, never a default provider."""
    model = catalog.resolve(name)
    if model is None:
        suggestions = catalog.close_matches(name)
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        raise NotFound(f"Model '{name}' not found.{hint}", code="model_not_found", param="model",
                       suggestions=suggestions)
    return model


def check_anonymous(requested: str, model: Model, allowed: frozenset[str]) -> None:
    if requested not in allowed and model.id not in allowed:
        raise Forbidden("Model not available for anonymous use", code="model_not_allowed_anonymous")


def candidate_routes(catalog: Catalog, model: Model, *, pin: str | None,
                     usable: Callable[[Provider], bool]) -> list[Route]:
    """Offers in catalog order whose provider is active and has credentials; `pin` keeps one provider."""
    if pin is not None:
        pin = pin.lower()
        if pin not in {o.provider for o in model.offers}:
            raise InvalidInput(f"Provider '{pin}' does not serve model '{model.id}'", field="provider")
    routes = []
    for offer in model.offers:
        provider = catalog.providers.get(offer.provider)
        if provider is None or not provider.is_active or (pin is not None and offer.provider != pin):
            continue
        if usable(provider):
            routes.append((provider, offer))
    if not routes:
        raise ServiceUnavailable(f"No configured provider serves model '{model.id}'", reason="no_usable_offer",
                                 code="model_unavailable")
    return routes


def failover_order(routes: list[Route], states: Mapping[str, BreakerState], now: float,
                   policy: BreakerPolicy) -> list[Route]:
    """Skip providers whose breaker is open; when every one is open, still try the first."""
    allowed = [r for r in routes if (s := states.get(r[0].slug)) is None or s.allows_traffic(now, policy)]
    return allowed or routes[:1]
