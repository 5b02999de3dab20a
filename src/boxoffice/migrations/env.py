"""Alembic environment: runs on a connection handed in by boxoffice.migrations."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through 'boxoffice migrate' (boxoffice.migrations.upgrade)")

context.configure(
    connection=connection,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
