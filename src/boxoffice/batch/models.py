"""batch's tables (prefix ``batch_``): each job's scheduling state and the run history."""

from __future__ import annotations

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.platform.db import Base, IdColumn, IdKey, UTCTime
from boxoffice.platform.lease import LeaseRow

# The lease table is batch's migration too: importing it here puts it beside batch's models.
__all__ = ["JobRun", "JobState", "LeaseRow"]


class JobState(Base):
    """One row per job: the last tick taken and the run holding the job right now.

    A run is started only by a compare-and-set on this row, so a job never runs twice
    at once and a tick is taken once, whatever the number of schedulers and API nodes.
    """

    __tablename__ = "batch_jobs"

    job: Mapped[str] = mapped_column(String(120), primary_key=True)
    last_tick_at: Mapped[UTCTime | None]
    running_run_id: Mapped[IdColumn | None]
    running_holder: Mapped[str | None] = mapped_column(String(200))
    running_expires_at: Mapped[UTCTime | None]
    last_run_id: Mapped[IdColumn | None]


class JobRun(Base):
    """One execution of a job, scheduled or manual."""

    __tablename__ = "batch_runs"
    __table_args__ = (
        UniqueConstraint("job", "scheduled_for"),  # a tick runs once (manual runs: NULL)
        Index("ix_batch_runs_job_started_at", "job", "started_at"),
        Index("ix_batch_runs_started_at", "started_at"),
    )

    id: Mapped[IdKey]
    job: Mapped[str] = mapped_column(String(120))
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | manual
    scheduled_for: Mapped[UTCTime | None]
    started_at: Mapped[UTCTime]
    finished_at: Mapped[UTCTime | None]
    status: Mapped[str] = mapped_column(String(16))  # running | succeeded | failed | abandoned
    rows_affected: Mapped[int | None] = mapped_column(Integer())
    error: Mapped[str | None] = mapped_column(Text())
    runner: Mapped[str] = mapped_column(String(200))
    requested_by: Mapped[IdColumn | None]
