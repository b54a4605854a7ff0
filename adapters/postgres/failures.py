"""Translate driver failures into domain outcomes: lost infrastructure is a 503, never a 500."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg.exceptions
from sqlalchemy import exc as sa_exc

from domain.errors import InvalidInput, ServiceUnavailable

_DRIVER_DATA_ERRORS = (asyncpg.exceptions.DataError, asyncpg.exceptions._base.DataError, OverflowError)


def is_out_of_range(exc: BaseException) -> bool:
    """A value the column cannot hold (an int past BIGINT, a number past NUMERIC's precision, a NUL in
    text): the caller's input, not our infrastructure. asyncpg reports these as its own DataError
    (server-side class 22, or a client-side bind error), which SQLAlchemy may wrap as a plain DBAPIError,
    so the driver's exception is inspected too."""
    if isinstance(exc, sa_exc.DataError):
        return True
    orig = getattr(exc, "orig", None)
    chain = [e for e in (orig, getattr(orig, "__cause__", None)) if e is not None]
    return any(isinstance(e, _DRIVER_DATA_ERRORS) for e in chain)


def is_infrastructure_failure(exc: BaseException) -> bool:
    if is_out_of_range(exc) or isinstance(exc, sa_exc.IntegrityError | sa_exc.ProgrammingError):
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
        if is_out_of_range(exc):
            raise InvalidInput("A value cannot be stored: out of range, or a character text cannot hold (NUL)") from exc
        if is_infrastructure_failure(exc):
            raise unavailable(exc) from exc
        raise
