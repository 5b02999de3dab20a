"""batch's own jobs against the real databases: statistics read back from the catalogs,
outbox and run-history purges counted in the tables."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from boxoffice.batch import claims, service
from boxoffice.batch import jobs as batch_jobs
from boxoffice.batch.models import JobRun, JobState
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.db import create_engine
from boxoffice.platform.ids import new_id
from boxoffice.platform.outbox import OutboxMessage
from boxoffice.platform.runtime import Runtime, build_runtime
from tests.conftest import BACKENDS
from tests.support.batch import gate_of, runs_of

OUTBOX_ROWS = 25


async def _add_outbox(runtime: Runtime, count: int, *, published_days_ago: float | None) -> None:
    now = runtime.clock.now()
    published = None if published_days_ago is None else now - timedelta(days=published_days_ago)
    async with runtime.uow() as uow:
        for _ in range(count):
            uow.session.add(
                OutboxMessage(
                    event_id=new_id(),
                    topic="orders",
                    event_type="OrderPaid",
                    version=1,
                    aggregate_id=new_id(),
                    payload="{}",
                    occurred_at=now - timedelta(days=30),
                    published_at=published,
                )
            )
        await uow.commit()


async def _run(runtime: Runtime, name: str) -> JobRun:
    """Run one of batch's jobs as an admin's manual trigger would, and wait for it."""
    runtime.jobs = batch_jobs.JOBS
    async with runtime.uow() as uow:
        run_id = (await service.trigger_run(uow, runtime, name, requested_by=None)).id
    await service.job_runner(runtime).drain()
    [recorded] = [r for r in await runs_of(runtime, name) if r.id == run_id]
    return recorded


async def _tables(runtime: Runtime) -> list[str]:
    from sqlalchemy import inspect

    async with runtime.engine.connect() as conn:
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
    return sorted(n for n in names if n != "alembic_version")


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_statistics_on_postgresql_are_read_back_from_pg_stat(
    batch_runtime: Runtime,
) -> None:
    await _add_outbox(batch_runtime, OUTBOX_ROWS, published_days_ago=1)
    tables = await _tables(batch_runtime)
    async with batch_runtime.engine.connect() as conn:
        before = await conn.scalar(text("SELECT clock_timestamp()"))

    run = await _run(batch_runtime, "batch.refresh_table_statistics")

    assert run.status == claims.SUCCEEDED, run.error
    assert run.rows_affected == len(tables)
    async with batch_runtime.engine.connect() as conn:
        analyzed = dict(
            (
                await conn.execute(
                    text(
                        "SELECT relname, last_analyze FROM pg_stat_user_tables"
                        " WHERE schemaname = current_schema()"
                    )
                )
            ).all()
        )
        reltuples = await conn.scalar(
            text("SELECT reltuples FROM pg_class WHERE relname = 'platform_outbox'")
        )
    assert all(analyzed[t] is not None and analyzed[t] >= before for t in tables), analyzed
    assert reltuples == OUTBOX_ROWS


@pytest.fixture
async def pg_role_without_rights(database_url: str) -> AsyncIterator[str]:
    """A login role that may read every table but owns none (so may not ANALYZE on PG 15)."""
    role = f"bo_stats_{uuid.uuid4().hex[:8]}"
    engine = create_engine(database_url, pool_size=1)
    database = make_url(database_url).database
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        await conn.execute(text(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"'))
        await conn.execute(text(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"'))
    try:
        yield make_url(database_url).set(username=role).render_as_string(hide_password=False)
    finally:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP OWNED BY "{role}"'))
            await conn.execute(text(f'DROP ROLE "{role}"'))
        await engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_statistics_user_without_rights_fails_the_run_naming_the_tables(
    make_settings: object, frozen: FrozenClock, pg_role_without_rights: str
) -> None:
    settings = make_settings(batch={"stats_database_url": pg_role_without_rights})  # type: ignore[operator]
    runtime = build_runtime(settings, frozen)
    try:
        run = await _run(runtime, "batch.refresh_table_statistics")
    finally:
        await runtime.close()
    assert run.status == claims.FAILED
    assert run.error is not None
    assert "StatisticsNotRefreshed" in run.error
    assert "platform_outbox" in run.error
    assert "bo_stats_" not in run.error  # no connection details in the history


@pytest.mark.parametrize("backend", ["mariadb"])
async def test_statistics_on_mariadb_are_read_back_from_innodb_table_stats(
    batch_runtime: Runtime,
) -> None:
    await _add_outbox(batch_runtime, OUTBOX_ROWS, published_days_ago=1)
    tables = await _tables(batch_runtime)
    async with batch_runtime.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE mysql.innodb_table_stats SET last_update = '2001-01-01 00:00:00',"
                " n_rows = 0 WHERE database_name = DATABASE()"
            )
        )

    run = await _run(batch_runtime, "batch.refresh_table_statistics")

    assert run.status == claims.SUCCEEDED, run.error
    assert run.rows_affected == len(tables)
    async with batch_runtime.engine.connect() as conn:
        stats = {
            name: (updated, rows)
            for name, updated, rows in (
                await conn.execute(
                    text(
                        "SELECT table_name, last_update, n_rows FROM mysql.innodb_table_stats"
                        " WHERE database_name = DATABASE()"
                    )
                )
            ).all()
        }
    assert set(tables) <= set(stats)
    assert all(stats[t][0].year > 2001 for t in tables), stats
    assert stats["platform_outbox"][1] == OUTBOX_ROWS


@pytest.fixture
async def mariadb_stats_user(database_url: str) -> AsyncIterator[str]:
    """The least-privilege statistics user of docs/batch.md: SELECT and INSERT only."""
    user = f"bo_stats_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    database = make_url(database_url).database
    engine = create_engine(database_url, pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"))
        await conn.execute(text(f"GRANT SELECT, INSERT ON `{database}`.* TO '{user}'@'%'"))
    try:
        yield (
            make_url(database_url)
            .set(username=user, password=password)
            .render_as_string(hide_password=False)
        )
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP USER '{user}'@'%'"))
        await engine.dispose()


@pytest.mark.parametrize("backend", ["mariadb"])
async def test_statistics_on_mariadb_with_the_least_privilege_user(
    make_settings: object, frozen: FrozenClock, mariadb_stats_user: str
) -> None:
    settings = make_settings(batch={"stats_database_url": mariadb_stats_user})  # type: ignore[operator]
    runtime = build_runtime(settings, frozen)
    try:
        async with runtime.engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE mysql.innodb_table_stats SET last_update = '2001-01-01 00:00:00'"
                    " WHERE database_name = DATABASE()"
                )
            )
        run = await _run(runtime, "batch.refresh_table_statistics")
        assert run.status == claims.SUCCEEDED, run.error
        async with runtime.engine.connect() as conn:
            stale = (
                await conn.scalars(
                    text(
                        "SELECT table_name FROM mysql.innodb_table_stats WHERE database_name ="
                        " DATABASE() AND last_update <= '2001-01-01 00:00:00'"
                        " AND table_name <> 'alembic_version'"
                    )
                )
            ).all()
        assert stale == []
        assert run.rows_affected == len(await _tables(runtime))
    finally:
        await runtime.close()


async def test_statistics_on_sqlite_fill_sqlite_stat1(batch_runtime: Runtime) -> None:
    await _add_outbox(batch_runtime, OUTBOX_ROWS, published_days_ago=1)
    run = await _run(batch_runtime, "batch.refresh_table_statistics")
    assert run.status == claims.SUCCEEDED, run.error
    async with batch_runtime.engine.connect() as conn:
        stats = (await conn.execute(text("SELECT tbl, idx, stat FROM sqlite_stat1"))).all()
    outbox = [stat for tbl, _idx, stat in stats if tbl == "platform_outbox"]
    assert outbox
    assert all(stat.split()[0] == str(OUTBOX_ROWS) for stat in outbox)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_outbox_purge_deletes_only_rows_published_before_the_retention(
    batch_runtime: Runtime,
) -> None:
    retention = batch_runtime.settings.batch.batch_outbox_retention_days
    await _add_outbox(batch_runtime, 30, published_days_ago=retention + 1)
    await _add_outbox(batch_runtime, 5, published_days_ago=retention - 1)
    await _add_outbox(batch_runtime, 4, published_days_ago=None)  # never published: owed
    batch_jobs.PURGE_CHUNK, chunk = 7, batch_jobs.PURGE_CHUNK  # several transactions
    try:
        run = await _run(batch_runtime, "batch.purge_outbox")
    finally:
        batch_jobs.PURGE_CHUNK = chunk
    assert run.status == claims.SUCCEEDED, run.error
    assert run.rows_affected == 30
    async with batch_runtime.uow() as uow:
        left = (
            await uow.session.execute(
                select(OutboxMessage.published_at.is_(None), func.count()).group_by(
                    OutboxMessage.published_at.is_(None)
                )
            )
        ).all()
    assert {bool(unpublished): count for unpublished, count in left} == {False: 5, True: 4}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_run_history_purge_keeps_recent_running_and_each_jobs_latest(
    batch_runtime: Runtime, frozen: FrozenClock
) -> None:
    now = frozen.now()
    old = now - timedelta(days=batch_runtime.settings.batch.batch_run_retention_days + 1)
    async with batch_runtime.uow() as uow:
        for i in range(12):
            uow.session.add(
                JobRun(
                    id=new_id(),
                    job="catalog.flush_view_counts",
                    trigger="schedule",
                    scheduled_for=old + timedelta(minutes=i),
                    started_at=old + timedelta(minutes=i),
                    finished_at=old + timedelta(minutes=i),
                    status=claims.SUCCEEDED,
                    runner="x",
                )
            )
        latest_old = new_id()
        uow.session.add(
            JobRun(
                id=latest_old,
                job="orders.reconcile",
                trigger="schedule",
                scheduled_for=old,
                started_at=old,
                finished_at=old,
                status=claims.FAILED,
                runner="x",
            )
        )
        uow.session.add(JobState(job="orders.reconcile", last_tick_at=old, last_run_id=latest_old))
        stuck = new_id()
        uow.session.add(
            JobRun(
                id=stuck,
                job="seating.expire_holds",
                trigger="manual",
                started_at=old,
                status=claims.RUNNING,
                runner="x",
            )
        )
        recent = new_id()
        uow.session.add(
            JobRun(
                id=recent,
                job="catalog.flush_view_counts",
                trigger="manual",
                started_at=now - timedelta(days=1),
                finished_at=now - timedelta(days=1),
                status=claims.SUCCEEDED,
                runner="x",
            )
        )
        await uow.commit()
    batch_jobs.PURGE_CHUNK, chunk = 5, batch_jobs.PURGE_CHUNK
    try:
        run = await _run(batch_runtime, "batch.purge_run_history")
    finally:
        batch_jobs.PURGE_CHUNK = chunk
    assert run.status == claims.SUCCEEDED, run.error
    assert run.rows_affected == 12
    async with batch_runtime.uow() as uow:
        kept = set((await uow.session.scalars(select(JobRun.id))).all())
    assert {latest_old, stuck, recent, run.id} == kept


async def test_shutdown_interrupting_a_run_records_it_as_failed(batch_runtime: Runtime) -> None:
    from tests.support.batch import gated_job

    job = gated_job()
    batch_runtime.jobs = [job]
    async with batch_runtime.uow() as uow:
        run_id = (await service.trigger_run(uow, batch_runtime, job.name, requested_by=None)).id
    await gate_of(batch_runtime).started.wait()
    await service.job_runner(batch_runtime).close(grace=0)
    [recorded] = await runs_of(batch_runtime, job.name)
    assert recorded.id == run_id
    assert recorded.status == claims.FAILED
    assert recorded.error is not None
    assert "shut down" in recorded.error


@pytest.mark.parametrize("claim_ttl", [0.3])
async def test_a_run_that_lost_its_claim_stops_instead_of_running_twice(
    batch_runtime: Runtime,
) -> None:
    from sqlalchemy import update

    from tests.support.batch import gated_job

    job = gated_job()
    batch_runtime.jobs = [job]
    async with batch_runtime.uow() as uow:
        run_id = (await service.trigger_run(uow, batch_runtime, job.name, requested_by=None)).id
    await gate_of(batch_runtime).started.wait()
    async with batch_runtime.uow() as uow:  # this process stalled; another took the job over
        await uow.session.execute(
            update(JobState)
            .where(JobState.job == job.name)
            .values(running_run_id=new_id(), running_holder="other-host:9:ffff")
        )
        await uow.commit()
    async with asyncio.timeout(30):
        await service.job_runner(batch_runtime).drain()  # the next renewal notices
    [recorded] = await runs_of(batch_runtime, job.name)
    assert recorded.id == run_id
    assert recorded.status == claims.FAILED
    assert "another process took the job over" in (recorded.error or "")
