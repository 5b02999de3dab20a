"""batch's own jobs: table statistics, outbox purge, run-history purge."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute

from boxoffice.batch import claims
from boxoffice.batch.models import JobRun, JobState
from boxoffice.platform.db import backend_name, create_engine
from boxoffice.platform.jobs import JobSpec
from boxoffice.platform.outbox import OutboxMessage
from boxoffice.platform.runtime import Runtime

PURGE_CHUNK = 2000  # rows per transaction: short locks, bounded undo


class StatisticsNotRefreshed(RuntimeError):
    """The database skipped or refused tables (usually: the statistics user lacks rights)."""


def statistics_url(runtime: Runtime) -> str:
    secret = runtime.settings.batch.stats_database_url
    return secret.get_secret_value() if secret is not None else runtime.settings.database_url


async def refresh_table_statistics(runtime: Runtime) -> int:
    """ANALYZE every table of the database (but Alembic's); returns how many.

    Connects with ``stats_database_url`` so it can run as a user that may only analyze.
    Fails, naming the tables, when the server skipped some (PostgreSQL only warns when
    the user may not analyze a table; the job reads ``pg_stat_user_tables`` back).
    """
    url = statistics_url(runtime)
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
            tables = sorted(t for t in tables if t != "alembic_version")
            if not tables:
                return 0
            backend = backend_name(url)
            if backend == "postgresql":
                await _analyze_postgresql(conn, tables)
            elif backend == "mysql":
                await _analyze_mysql(conn, tables)
            else:
                await conn.exec_driver_sql("ANALYZE")
                await conn.commit()
            return len(tables)
    finally:
        await engine.dispose()


async def _analyze_postgresql(conn: AsyncConnection, tables: list[str]) -> None:
    quote = conn.dialect.identifier_preparer.quote
    started = await conn.scalar(text("SELECT clock_timestamp()"))
    await conn.commit()
    for table in tables:
        await conn.exec_driver_sql(f"ANALYZE {quote(table)}")
    await conn.commit()
    skipped = (
        await conn.execute(
            text(
                "SELECT relname FROM pg_stat_user_tables"
                " WHERE schemaname = current_schema() AND relname IN :names"
                " AND (last_analyze IS NULL OR last_analyze < :started)"
            ).bindparams(bindparam("names", expanding=True)),
            {"names": tables, "started": started},
        )
    ).scalars()
    missed = sorted(skipped)
    await conn.commit()
    if missed:
        raise StatisticsNotRefreshed(
            "PostgreSQL skipped (the statistics user must own them, or have MAINTAIN on"
            f" PostgreSQL 17+): {', '.join(missed)}"
        )


async def _analyze_mysql(conn: AsyncConnection, tables: list[str]) -> None:
    quote = conn.dialect.identifier_preparer.quote
    result = await conn.exec_driver_sql("ANALYZE TABLE " + ", ".join(quote(t) for t in tables))
    rows: list[Any] = list(result.mappings())
    await conn.commit()
    failures = [
        f"{row['Table']}: {row['Msg_text']}"
        for row in rows
        if str(row["Msg_type"]).lower() == "error"
    ]
    if failures:
        raise StatisticsNotRefreshed("ANALYZE TABLE failed for " + "; ".join(failures))


async def purge_outbox(runtime: Runtime) -> int:
    """Delete outbox rows published more than ``batch_outbox_retention_days`` ago.

    Unpublished rows are never touched, however old: they are events still owed.
    """
    cutoff = runtime.clock.now() - timedelta(
        days=runtime.settings.batch.batch_outbox_retention_days
    )
    return await _delete_in_chunks(
        runtime,
        OutboxMessage,
        OutboxMessage.seq,
        [OutboxMessage.published_at.is_not(None), OutboxMessage.published_at < cutoff],
        order_by=OutboxMessage.seq,
    )


async def purge_run_history(runtime: Runtime) -> int:
    """Delete finished runs older than ``batch_run_retention_days``.

    Running runs and each job's latest run (what the job list shows) are kept.
    """
    cutoff = runtime.clock.now() - timedelta(days=runtime.settings.batch.batch_run_retention_days)
    latest = select(JobState.last_run_id).where(JobState.last_run_id.is_not(None))
    return await _delete_in_chunks(
        runtime,
        JobRun,
        JobRun.id,
        [JobRun.status != claims.RUNNING, JobRun.started_at < cutoff, JobRun.id.not_in(latest)],
        order_by=JobRun.started_at,
    )


async def _delete_in_chunks(
    runtime: Runtime,
    model: type[Any],
    key: InstrumentedAttribute[Any],
    where: Sequence[ColumnElement[bool]],
    *,
    order_by: InstrumentedAttribute[Any],
) -> int:
    """Delete ``model``'s rows matching ``where``, ``PURGE_CHUNK`` at a time (by ``key``, in
    ``order_by`` order), each chunk committed on its own; returns how many were deleted."""
    total = 0
    while True:
        async with runtime.uow() as uow:
            keys = list(
                (
                    await uow.session.scalars(
                        select(key).where(*where).order_by(order_by).limit(PURGE_CHUNK)
                    )
                ).all()
            )
            if keys:
                await uow.session.execute(delete(model).where(key.in_(keys)))
                await uow.commit()
        total += len(keys)
        if len(keys) < PURGE_CHUNK:
            return total


JOBS = [
    JobSpec(
        "batch.refresh_table_statistics",
        "0 2 * * 0",
        refresh_table_statistics,
        "Refresh the query planner's table statistics (ANALYZE) every Sunday at 02:00.",
    ),
    JobSpec(
        "batch.purge_outbox",
        "30 3 * * *",
        purge_outbox,
        "Delete outbox rows published more than batch_outbox_retention_days ago.",
    ),
    JobSpec(
        "batch.purge_run_history",
        "45 3 * * *",
        purge_run_history,
        "Delete job runs older than batch_run_retention_days (each job's latest is kept).",
    ),
]
