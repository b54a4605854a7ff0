"""An API area as the HTTP side sees it: its controllers and the one bundle they receive.

The lifespan resolves each area's bundle once into `app.state.areas[name]`; the area's router
provides it to every handler as `<area>_services`, so `async def show(self, users_services:
UsersBundle)` is all a controller writes. dependency-injector's `@inject` cannot wire Litestar
handlers, hence this small bridge."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Router
from litestar.di import Provide
from litestar.types import ControllerRouterHandler


@dataclass(frozen=True, slots=True)
class Area:
    name: str                          # its key in app.state.areas; handlers receive it as `<name>_services`
    controllers: Sequence[ControllerRouterHandler]
    container: str = ""                # the root container's attribute that builds the bundle (default: name)

    @property
    def container_name(self) -> str:
        return self.container or self.name

    def router(self, bundles: Mapping[str, Any]) -> Router:
        """`bundles` is the app's `state.areas`, filled by the lifespan; read at call time, so a bundle
        swapped there (tests do) is what the next request gets."""
        return Router("/", route_handlers=list(self.controllers),
                      dependencies={self.dependency: Provide(_reader(bundles, self.name), sync_to_thread=False)})

    @property
    def dependency(self) -> str:
        """Suffixed, so it can never collide with a parameter or body field of the same name (a
        dependency's validation failure is a 500 in Litestar, a body field's a 422)."""
        return f"{self.name}_services"


def _reader(bundles: Mapping[str, Any], name: str) -> Callable[[], Any]:
    """A provider without parameters: Litestar then has nothing to resolve for it per request."""
    def bundle() -> Any:
        return bundles[name]

    bundle.__name__ = f"{name}_bundle"
    return bundle
