"""Taking and giving back a job: the compare-and-set that makes every run unique.

A run starts only when one conditional UPDATE of the job's ``batch_jobs`` row succeeds:
the row must still show the tick and the running claim this caller read. Whoever
loses (another scheduler on the same tick, a manual trigger racing a scheduled one)
changes nothing. A claim is renewed while the run lives; a claim left to expire (its
process died) is taken over, and the dead run is recorded as ``abandoned``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.exc import IntegrityError

from boxoffice.batch.models import JobRun, JobState
from boxoffice.platform.ids import new_id
from boxoffice.platform.uow import UnitOfWork

RUNNING, SUCCEEDED, FAILED, ABANDONED = "running", "succeeded", "failed", "abandoned"
SCHEDULE, MANUAL = "schedule", "manual"
ERROR_LIMIT = 4000


class Outcome(enum.Enum):
    CLAIMED = "claimed"
    BUSY = "busy"  # a live run holds the job
    STALE = "stale"  # the row changed since it was read (another scheduler took the tick)


@dataclass(frozen=True)
class Claim:
    outcome: Outcome
    run_id: str | None = None
    busy_run_id: str | None = None


async def ensure_state(uow: UnitOfWork, job: str, baseline: datetime) -> JobState:
    """The job's row, created on first sight with ``baseline`` as its last tick.

    A new job therefore first fires at its first tick after it was deployed, never for
    ticks from before it existed.
    """
    state = await uow.session.get(JobState, job, populate_existing=True)
    if state is not None:
        return state
    try:
        uow.session.add(JobState(job=job, last_tick_at=baseline))
        await uow.commit()
    except IntegrityError:
        await uow.rollback()  # another process created it first
    state = await uow.session.get(JobState, job, populate_existing=True)
    assert state is not None
    return state


async def _update(
    uow: UnitOfWork, model: Any, where: list[ColumnElement[bool]], values: dict[str, Any]
) -> int:
    """``UPDATE model SET values WHERE where``: how many rows it changed."""
    result = await uow.session.execute(
        update(model).where(*where).values(**values).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _held_by(job: str, run_id: str) -> list[ColumnElement[bool]]:
    """The job's state while ``run_id`` holds it."""
    return [JobState.job == job, JobState.running_run_id == run_id]


def _same(column: Any, value: Any) -> ColumnElement[bool]:
    result: ColumnElement[bool] = column.is_(None) if value is None else column == value
    return result


async def claim(
    uow: UnitOfWork,
    state: JobState,
    *,
    holder: str,
    claim_ttl: float,
    trigger: str,
    tick: datetime | None = None,
    requested_by: str | None = None,
) -> Claim:
    """Start a run of ``state.job`` if nobody runs it; commits when it does.

    With ``tick`` (scheduled runs) the tick is taken in the same statement, so a tick is
    run once even by several schedulers that all believe they lead.
    """
    now = uow.clock.now()
    observed_run, observed_expiry = state.running_run_id, state.running_expires_at
    if observed_run is not None and observed_expiry is not None and observed_expiry > now:
        return Claim(Outcome.BUSY, busy_run_id=observed_run)
    run_id = new_id()
    conditions = [JobState.job == state.job, _same(JobState.running_run_id, observed_run)]
    values: dict[str, Any] = {
        "running_run_id": run_id,
        "running_holder": holder,
        "running_expires_at": now + timedelta(seconds=claim_ttl),
    }
    if tick is not None:
        conditions.append(_same(JobState.last_tick_at, state.last_tick_at))
        values["last_tick_at"] = tick
    if await _update(uow, JobState, conditions, values) != 1:
        await uow.rollback()
        return Claim(Outcome.STALE)
    if observed_run is not None:
        await _abandon(uow, observed_run, now)
    uow.session.add(
        JobRun(
            id=run_id,
            job=state.job,
            trigger=trigger,
            scheduled_for=tick,
            started_at=now,
            status=RUNNING,
            runner=holder,
            requested_by=requested_by,
        )
    )
    try:
        await uow.commit()
    except IntegrityError:  # the tick has a run already (clock or schedule moved backwards)
        await uow.rollback()
        return Claim(Outcome.STALE)
    return Claim(Outcome.CLAIMED, run_id=run_id)


async def _abandon(uow: UnitOfWork, run_id: str, now: datetime) -> None:
    """Mark the run whose claim ran out as abandoned (its process died or hung)."""
    stopped = "The process running it stopped renewing its claim (it died or hung)."
    await _update(
        uow,
        JobRun,
        [JobRun.id == run_id, JobRun.status == RUNNING],
        {"status": ABANDONED, "finished_at": now, "error": stopped},
    )


async def renew(uow: UnitOfWork, job: str, run_id: str, claim_ttl: float) -> bool:
    """Extend a live run's claim; False when the claim was lost (taken over)."""
    expires = uow.clock.now() + timedelta(seconds=claim_ttl)
    renewed = await _update(uow, JobState, _held_by(job, run_id), {"running_expires_at": expires})
    await uow.commit()
    return renewed == 1


async def finish(
    uow: UnitOfWork, job: str, run_id: str, *, rows: int | None, error: str | None
) -> None:
    """Record the outcome and give the job back (only if this run still holds it)."""
    now = uow.clock.now()
    outcome = {
        "finished_at": now,
        "status": SUCCEEDED if error is None else FAILED,
        "rows_affected": rows,
        "error": None if error is None else error[:ERROR_LIMIT],
    }
    await _update(uow, JobRun, [JobRun.id == run_id], outcome)
    released = {
        "running_run_id": None,
        "running_holder": None,
        "running_expires_at": None,
        "last_run_id": run_id,
    }
    await _update(uow, JobState, _held_by(job, run_id), released)
    await uow.commit()
