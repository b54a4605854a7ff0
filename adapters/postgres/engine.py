"""Engine construction for PostgreSQL (asyncpg) and the embedded SQLite (aiosqlite)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, *, pool_size: int = 10, connect_timeout_s: float = 3.0,
                  statement_timeout_s: float = 10.0, echo: bool = False) -> AsyncEngine:
    """Short timeouts everywhere: a lost database must become a 503 quickly, never a hang."""
    if is_sqlite(url):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": statement_timeout_s})
        _serialise_sqlite_writers(engine)
        return engine
    kwargs: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": pool_size,
        "pool_timeout": connect_timeout_s + 2,
        "pool_recycle": 1800,
        "connect_args": {
            "timeout": connect_timeout_s,
            "command_timeout": statement_timeout_s,
            "server_settings": {"application_name": "gatewayz"},
        },
    }
    return create_async_engine(url, echo=echo, **kwargs)


def _serialise_sqlite_writers(engine: AsyncEngine) -> None:
    """SQLite has no row locks: BEGIN IMMEDIATE takes the write lock up front, so read-then-write
    transactions serialise instead of failing with SQLITE_BUSY halfway through."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
