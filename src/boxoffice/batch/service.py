"""batch's use cases: the job list, manual runs, the run history and the health summary.

Jobs come from every registered context (``runtime.jobs``, set by the app)
with the schedule overrides of the settings applied.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from redis.exceptions import RedisError
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import SQLAlchemyError

from boxoffice.batch import claims
from boxoffice.batch.errors import InvalidCursor, JobAlreadyRunning, JobNotFound, RunNotFound
from boxoffice.batch.models import JobRun, JobState
from boxoffice.batch.runner import JobRunner, instance_id
from boxoffice.batch.schedule import ScheduledJob, effective_jobs
from boxoffice.batch.scheduler import SCHEDULER_LEASE, leases_for
from boxoffice.batch.schemas import JobRead, RunRead
from boxoffice.platform import cursors, listing
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork


class JobTable(dict[str, ScheduledJob]):
    """Every registered job by name, with its effective schedule (one per runtime)."""


FAILING = frozenset({claims.FAILED, claims.ABANDONED})
OVERDUE_GRACE_SECONDS = 60  # beyond the lease TTL, before a due tick counts as missed
log = structlog.get_logger("boxoffice.batch")


def registered_jobs(runtime: Runtime) -> dict[str, ScheduledJob]:
    """Every registered job with its effective schedule (computed once per runtime)."""
    settings = runtime.settings
    return runtime.adapters.ensure(
        JobTable,
        lambda: JobTable(
            effective_jobs(
                list(runtime.jobs), settings.batch.batch_schedules, settings.batch.batch_timezone
            )
        ),
    )


def job_runner(runtime: Runtime) -> JobRunner:
    return runtime.adapters.ensure(JobRunner, lambda: JobRunner(runtime, instance_id()))


async def list_jobs(uow: UnitOfWork, runtime: Runtime) -> list[JobRead]:
    """Each registered job with its schedule, last finished run and next fire time."""
    jobs = registered_jobs(runtime)
    now = uow.clock.now()
    states = {
        s.job: s
        for s in (
            await uow.session.scalars(select(JobState).where(JobState.job.in_(list(jobs))))
        ).all()
    }
    last_ids = [s.last_run_id for s in states.values() if s.last_run_id is not None]
    runs = {
        r.id: r
        for r in (await uow.session.scalars(select(JobRun).where(JobRun.id.in_(last_ids)))).all()
    }
    views = []
    for name, job in sorted(jobs.items()):
        state = states.get(name)
        running = None
        if state is not None and state.running_expires_at is not None:
            running = state.running_run_id if state.running_expires_at > now else None
        next_run = None
        if job.schedule is not None:
            base = state.last_tick_at if state is not None and state.last_tick_at else now
            next_run = job.schedule.next_after(base)
        last_run = runs.get(state.last_run_id) if state and state.last_run_id else None
        views.append(
            JobRead(
                name=name,
                schedule=job.expression,
                timezone=runtime.settings.batch.batch_timezone,
                description=job.spec.description,
                enabled=job.schedule is not None,
                running_run_id=running,
                last_status=None if last_run is None else last_run.status,
                last_run_at=None if last_run is None else last_run.started_at,
                last_run=None if last_run is None else RunRead.model_validate(last_run),
                next_run_at=next_run,
            )
        )
    return views


async def trigger_run(
    uow: UnitOfWork, runtime: Runtime, name: str, *, requested_by: str | None
) -> JobRun:
    """Start ``name`` now, in this process, outside its schedule.

    Raises ``JobNotFound``, and ``JobAlreadyRunning`` (with the running run's id) when a
    run of the job is in progress anywhere, scheduled or manual.
    """
    job = registered_jobs(runtime).get(name)
    if job is None:
        raise JobNotFound(f"There is no job named {name!r}.")
    runner = job_runner(runtime)
    state = await claims.ensure_state(uow, name, uow.clock.now())
    taken = await claims.claim(
        uow,
        state,
        holder=runner.holder,
        claim_ttl=runner.claim_ttl,
        trigger=claims.MANUAL,
        requested_by=requested_by,
    )
    if taken.outcome is not claims.Outcome.CLAIMED or taken.run_id is None:
        raise JobAlreadyRunning(
            f"Job {name!r} is running already; wait for it to finish.",
            run_id=taken.busy_run_id,
        )
    run = await uow.session.get(JobRun, taken.run_id)
    assert run is not None
    runner.start(job, taken.run_id)
    return run


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        return cursors.decode_cursor(cursor)
    except cursors.BadCursor as exc:
        raise InvalidCursor("The cursor is not one this API returned.") from exc


async def list_runs(
    uow: UnitOfWork,
    *,
    job: str | None = None,
    status: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[JobRun], str | None]:
    """Runs newest first, optionally of one job or status; keyset-paginated."""
    query = listing.where_given(select(JobRun), (JobRun.job, job), (JobRun.status, status))
    if cursor is not None:
        started, run_id = _decode_cursor(cursor)
        query = query.where(
            or_(
                JobRun.started_at < started,
                and_(JobRun.started_at == started, JobRun.id < run_id),
            )
        )
    query = query.order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit + 1)
    runs = list((await uow.session.scalars(query)).all())
    if len(runs) <= limit:
        return runs, None
    last = runs[limit - 1]
    return runs[:limit], cursors.encode_cursor(last.started_at, last.id)


async def get_run(uow: UnitOfWork, run_id: str) -> JobRun:
    run = await uow.session.get(JobRun, run_id)
    if run is None:
        raise RunNotFound(f"There is no run {run_id!r}.")
    return run


async def health(uow: UnitOfWork, runtime: Runtime, *, detailed: bool) -> dict[str, Any]:
    """The scheduler's state for monitoring: ``ok``; ``degraded`` (a job's latest run
    failed, or a due tick was not started in time); ``down`` (no scheduler holds the
    lease). ``detailed`` (admins) adds the lease holder and the errors. A database or
    Redis that does not answer is ``down`` too (with ``detail``), never an error page: a
    monitor must always get an answer."""
    try:
        holder = await leases_for(runtime).holder(SCHEDULER_LEASE)
        views = await list_jobs(uow, runtime)
    except (SQLAlchemyError, RedisError, OSError) as exc:
        log.warning("batch_health_backend_unreachable", error=type(exc).__name__)
        return {
            "status": "down",
            "checked_at": uow.clock.now(),
            "detail": "The scheduler's state cannot be read: the database or Redis is unreachable.",
            "scheduler": {"alive": None},
            "failing_jobs": [],
            "overdue_jobs": [],
            "jobs": [],
        }
    jobs = []
    for view in views:
        entry: dict[str, Any] = {
            "name": view.name,
            "enabled": view.enabled,
            "running": view.running_run_id is not None,
            "last_status": view.last_status,
            "last_run_at": view.last_run_at,
            "next_run_at": view.next_run_at,
        }
        if detailed:
            entry["last_error"] = None if view.last_run is None else view.last_run.error
        jobs.append(entry)
    failing = sorted(v.name for v in views if v.last_status in FAILING)
    # A leader that holds its lease but no longer starts due ticks (hung) shows here.
    late = uow.clock.now() - timedelta(
        seconds=OVERDUE_GRACE_SECONDS + runtime.settings.batch.scheduler_lease_ttl_seconds
    )
    overdue = sorted(
        v.name
        for v in views
        if v.next_run_at is not None and v.next_run_at < late and v.running_run_id is None
    )
    status = "down" if holder is None else ("degraded" if failing or overdue else "ok")
    scheduler: dict[str, Any] = {"alive": holder is not None}
    if detailed:
        scheduler["lease_holder"] = holder
    return {
        "status": status,
        "checked_at": uow.clock.now(),
        "detail": None if holder else "No scheduler holds the lease: none is running.",
        "scheduler": scheduler,
        "failing_jobs": failing,
        "overdue_jobs": overdue,
        "jobs": jobs,
    }
