"""Translate driver failures into domain outcomes: lost infrastructure is a 503, never a 500."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import exc as sa_exc

from domain.errors import ServiceUnavailable


def is_infrastructure_failure(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.IntegrityError | sa_exc.DataError | sa_exc.ProgrammingError):
        return False
    return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.DisconnectionError
                      | sa_exc.TimeoutError | sa_exc.DBAPIError | OSError | asyncio.TimeoutError)


def unavailable(exc: BaseException) -> ServiceUnavailable:
    return ServiceUnavailable("Database unavailable", reason="database", error=type(exc).__name__)


@asynccontextmanager
async def database_guard() -> AsyncIterator[None]:
    try:
        yield
    except BaseException as exc:
        if is_infrastructure_failure(exc):
            raise unavailable(exc) from exc
        raise
