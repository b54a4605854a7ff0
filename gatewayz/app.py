"""The Litestar app factory: routes, middleware, error table, and the lifespan that wires the core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.middleware import DefineMiddleware

from adapters.http.controllers.admin_users import AdminUsersController
from adapters.http.controllers.ai_sdk import AISDKController
from adapters.http.controllers.chat import ChatController
from adapters.http.controllers.circuit_breakers import CircuitBreakersController
from adapters.http.controllers.health import HealthController
from adapters.http.controllers.messages import MessagesController
from adapters.http.controllers.metrics import MetricsController
from adapters.http.controllers.models import ModelsController
from adapters.http.errors import exception_handlers
from adapters.http.guards import auth_guard
from adapters.http.metrics import HttpMetrics
from adapters.http.middleware import RequestContextMiddleware, echo_request_id
from adapters.http.services import HttpServices
from gatewayz.container import Container, build_container, resolve
from gatewayz.logging import configure_logging
from gatewayz.settings import Settings

ROUTES = [HealthController, MetricsController, AdminUsersController, ModelsController, ChatController,
          MessagesController, AISDKController,
          CircuitBreakersController]


async def _resolve(container: Container) -> HttpServices:
    settings = container.settings()
    return HttpServices(
        authenticate=await resolve(container.authenticate),
        authorize_admin=await resolve(container.authorize_admin),
        check_readiness=await resolve(container.check_readiness),
        count_users=await resolve(container.count_users),
        list_users=await resolve(container.list_users),
        show_user=await resolve(container.show_user),
        list_models=await resolve(container.list_models),
        get_model=await resolve(container.get_model),
        list_breakers=await resolve(container.list_breakers),
        show_breaker=await resolve(container.show_breaker),
        reset_breaker=await resolve(container.reset_breaker),
        reset_all_breakers=await resolve(container.reset_all_breakers),
        chat_completion=await resolve(container.chat_completion),
        admin_api_key=settings.admin_api_key,
    )


def create_app(settings: Settings | None = None, container: Container | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    container = container or build_container(settings)
    metrics = HttpMetrics(container.registry())

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await container.init_resources()  # type: ignore[misc]
        try:
            app.state.services = await _resolve(container)
            yield
        finally:
            await container.shutdown_resources()  # type: ignore[misc]

    app = Litestar(
        route_handlers=ROUTES,
        guards=[auth_guard],
        exception_handlers=exception_handlers(),
        middleware=[DefineMiddleware(RequestContextMiddleware, metrics=metrics)],
        before_send=[echo_request_id],
        lifespan=[lifespan],
        debug=False,
        openapi_config=None,
    )
    app.state.metrics = metrics
    app.state.container = container
    app.state.settings = settings
    return app


def app_from_env() -> Litestar:
    """ASGI factory for servers (`granian --factory gatewayz.app:app_from_env`)."""
    return create_app(Settings.from_env())
