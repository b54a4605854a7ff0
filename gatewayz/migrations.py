"""Bring a database to the newest schema (alembic upgrade head); idempotent. And tell a database that
was never migrated from one that cannot be reached, so the CLI can say which."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.failures import database_guard
from alembic import command

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.attributes["url"] = database_url
    cfg.attributes["configure_logger"] = False
    return cfg


def migrate(database_url: str) -> None:
    """Blocking: call from a thread when an event loop is running (env.py runs its own loop)."""
    command.upgrade(alembic_config(database_url), "head")


class NotMigrated(Exception):
    """The database has no schema revision: `gatewayz migrate` was never run against it."""

    message = "database is not migrated: run gatewayz migrate"


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def require_migrated(engine: AsyncEngine) -> None:
    """Raise NotMigrated when alembic never stamped the database (no alembic_version table, or an
    empty one); an unreachable database raises ServiceUnavailable, as every other query would."""
    async with database_guard(), engine.connect() as conn:
        revision = await conn.run_sync(_revision)
    if revision is None:
        raise NotMigrated()
