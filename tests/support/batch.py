"""batch test helpers: test jobs, a clock shared by processes, and run counting."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from boxoffice.batch.models import JobRun
from boxoffice.platform.jobs import JobSpec
from boxoffice.platform.runtime import Runtime

START = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)  # a Friday


class FileClock:
    """A frozen clock that several processes share: the test writes the time to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def now(self) -> datetime:
        return datetime.fromisoformat(self.path.read_text().strip())

    def set(self, moment: datetime) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(moment.isoformat())
        tmp.replace(self.path)  # atomic: a reader never sees half a timestamp


async def succeed(runtime: Runtime) -> int:
    return 1


async def fail(runtime: Runtime) -> int:
    raise RuntimeError("the payment provider timed out")


class Gate:
    """A gated job's two events on a runtime: it started; the test lets it finish."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.opened = asyncio.Event()


def gate_of(runtime: Runtime) -> Gate:
    return runtime.adapters.ensure(Gate, Gate)


async def gated(runtime: Runtime) -> int:
    """Blocks until the test opens ``gate_of(runtime).opened``."""
    gate = gate_of(runtime)
    gate.started.set()
    await gate.opened.wait()
    return 7


def every_minute(name: str = "test.every_minute") -> JobSpec:
    return JobSpec(name, "* * * * *", succeed, "counts ticks")


def failing(name: str = "test.failing") -> JobSpec:
    return JobSpec(name, "* * * * *", fail, "always fails")


def gated_job(name: str = "test.gated", schedule: str = "* * * * *") -> JobSpec:
    return JobSpec(name, schedule, gated, "waits for the test")


async def runs_of(runtime: Runtime, job: str) -> list[JobRun]:
    async with runtime.uow() as uow:
        runs = list(
            (
                await uow.session.scalars(
                    select(JobRun).where(JobRun.job == job).order_by(JobRun.started_at)
                )
            ).all()
        )
        uow.session.expunge_all()  # keep the loaded values past the unit of work's rollback
        return runs


async def runs_per_tick(runtime: Runtime, job: str) -> dict[Any, int]:
    async with runtime.uow() as uow:
        rows = await uow.session.execute(
            select(JobRun.scheduled_for, func.count())
            .where(JobRun.job == job)
            .group_by(JobRun.scheduled_for)
        )
        return {when: count for when, count in rows.all()}
