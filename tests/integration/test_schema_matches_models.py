"""The migrated schema is exactly what the models declare, on every backend.

Alembic's comparison of the models (every context's) with a database migrated to
heads must find nothing to do: a model changed without a migration fails here.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

import boxoffice
from boxoffice.platform.db import Base, create_engine
from tests.conftest import BACKENDS


def _import_all_models() -> None:
    for module in pkgutil.walk_packages(boxoffice.__path__, "boxoffice."):
        if module.name.endswith(".models") or ".models." in module.name:
            importlib.import_module(module.name)
    importlib.import_module("boxoffice.platform.outbox")


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [
        change
        for change in compare_metadata(context, Base.metadata)
        if not (
            isinstance(change, tuple)
            and change[0] == "remove_table"
            and change[1].name == "alembic_version"
        )
    ]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migrations_create_exactly_the_models(database_url: str) -> None:
    _import_all_models()
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(_diff)
    finally:
        await engine.dispose()
    assert differences == [], "models and migrations disagree:\n" + "\n".join(map(str, differences))
