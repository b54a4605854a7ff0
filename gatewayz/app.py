"""The Litestar app factory: the areas and their routes, middleware, error table, and the lifespan
that resolves each area's bundle once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from litestar import Litestar
from litestar.middleware import DefineMiddleware

from adapters.http.area import Area
from adapters.http.concurrency_gate import ConcurrencyGateMiddleware
from adapters.http.errors import exception_handlers
from adapters.http.guards import auth_guard
from adapters.http.metrics import HttpMetrics
from adapters.http.middleware import RequestContextMiddleware
from adapters.http.openapi import openapi_config, openapi_document
from gatewayz.areas import (
    accounts,
    analytics,
    breakers,
    chat_history,
    coupons,
    credits,
    diagnostics,
    error_monitoring,
    health,
    incidents,
    inference,
    limits,
    models,
    monitoring,
    users,
)
from gatewayz.container import Container, build_container, resolve
from gatewayz.logging import configure_logging
from gatewayz.settings import Settings
from gatewayz.version import __version__

AREAS: list[Area] = [
    health.HTTP,
    users.HTTP,
    models.HTTP,
    inference.HTTP,
    breakers.HTTP,
    limits.HTTP,
    diagnostics.HTTP,
    coupons.HTTP,
    credits.HTTP,
    accounts.HTTP,
    analytics.HTTP,
    chat_history.HTTP,
    incidents.HTTP,
    error_monitoring.HTTP,
    monitoring.HTTP,
]


async def resolve_areas(container: Container) -> dict[str, object]:
    """Each area's bundle, by the name its handlers receive it under."""
    return {area.name: await resolve(getattr(container, area.container_name).bundle) for area in AREAS}


def create_app(settings: Settings | None = None, container: Container | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    container = container or build_container(settings)
    metrics = HttpMetrics(container.registry())
    gate = container.gate()  # None: CONCURRENCY_LIMIT=0
    areas: dict[str, object] = {}  # each area's bundle, filled by the lifespan

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await container.init_resources()  # type: ignore[misc]
        scheduler = None
        try:
            if settings.accounts.notifier == "log":
                structlog.get_logger("gatewayz.notifications").warning(
                    "notifier_is_log", detail="emails, password reset links included, are written to the log; "
                                              "set NOTIFIER=smtp and SMTP_HOST for real delivery")
            app.state.auth = await resolve(container.auth.bundle)
            areas.update(await resolve_areas(container))
            scheduler = await resolve(container.monitoring_scheduler)  # the one monitoring loop of this process
            if settings.monitoring.enabled:
                await scheduler.start()
            yield
        finally:
            if scheduler is not None:
                await scheduler.stop()  # cancels and awaits the loop and any job run in progress
            await container.shutdown_resources()  # type: ignore[misc]

    app = Litestar(
        route_handlers=[*(area.router(areas) for area in AREAS), openapi_document],
        guards=[auth_guard],
        exception_handlers=exception_handlers(),
        middleware=[DefineMiddleware(ConcurrencyGateMiddleware, gate=gate)] if gate else [],
        lifespan=[lifespan],
        debug=False,
        openapi_config=openapi_config(__version__),
    )
    # Outermost, so that unrouted requests (404, 405) get a request id and are counted too.
    app.asgi_handler = RequestContextMiddleware(app.asgi_handler, metrics)  # type: ignore[method-assign]
    app.state.areas = areas
    app.state.metrics = metrics
    app.state.container = container
    app.state.settings = settings
    app.state.gate = gate
    return app


def app_from_env() -> Litestar:
    """ASGI factory for servers (`granian --factory gatewayz.app:app_from_env`)."""
    return create_app(Settings.from_env())
