"""Alembic migrations: the only way the schema changes.

Each context owns a branch (``branch_labels=("<context>",)``) in ``versions/<context>/``;
``upgrade heads`` brings every branch to its head. Contexts never reference each
other's tables, so their branches need no ordering between them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from boxoffice.platform.db import create_engine

HERE = Path(__file__).parent


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("recursive_version_locations", "true")
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(HERE / "versions"))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade_on_connection(connection: Connection, target: str = "heads") -> None:
    """Upgrade through an open (sync) connection: usable from inside an event loop via run_sync."""
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, target)


async def upgrade_async(database_url: str, target: str = "heads") -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade_on_connection, target)
    finally:
        await engine.dispose()


def upgrade(database_url: str, target: str = "heads") -> None:
    """Bring the database to the newest schema (``boxoffice migrate``)."""
    asyncio.run(upgrade_async(database_url, target))


def current_heads(database_url: str) -> Any:
    async def read() -> Any:
        engine = create_engine(database_url, pool_size=1)
        try:
            async with engine.connect() as conn:

                def _heads(sync_conn: Connection) -> Any:
                    from alembic.runtime.migration import MigrationContext

                    return MigrationContext.configure(sync_conn).get_current_heads()

                return await conn.run_sync(_heads)
        finally:
            await engine.dispose()

    return asyncio.run(read())
