"""Real scheduler processes on PostgreSQL: one run per tick, and a standby that takes over
when the active process is killed. The processes share a clock the test moves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from boxoffice.batch.models import JobRun
from boxoffice.platform.db import create_engine
from boxoffice.platform.lease import LeaseRow
from tests.support.batch import START, FileClock
from tests.support.processes import ROOT
from tests.support.running import run_sync

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["postgresql"])]
JOBS = ("test.minute_a", "test.minute_b")
WAIT_SECONDS = 60.0


class Proc:
    def __init__(self, name: str, tmp: Path, url: str, clock: FileClock) -> None:
        self.name = name
        self.status = tmp / f"{name}.status"
        self.log = (tmp / f"{name}.log").open("wb")
        self.popen = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.batch.scheduler_process",
                url,
                str(clock.path),
                str(self.status),
                name,
            ],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def passes(self) -> int:
        try:
            return int(self.status.read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return 0

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.log.close()


def wait_for(condition: object, what: str, procs: list[Proc]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        for proc in procs:
            if proc.popen.poll() is not None and proc.popen.returncode != -signal.SIGKILL:
                raise AssertionError(f"{proc.name} exited: {proc.popen.returncode}")
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def settle(procs: list[Proc]) -> None:
    """Wait until every live process has made two full passes since now."""
    marks = {p.name: p.passes() for p in procs}
    wait_for(lambda: all(p.passes() >= marks[p.name] + 2 for p in procs), "two passes", procs)


def _query(url: str, statement: Any) -> list[Any]:
    """Rows of ``statement`` read through an engine of its own (this test is synchronous)."""

    async def read() -> list[Any]:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(statement)).all())
        finally:
            await engine.dispose()

    return run_sync(read())


def finished_runs(url: str) -> list[Any]:
    return _query(
        url,
        select(JobRun.job, JobRun.scheduled_for, JobRun.runner, JobRun.status).where(
            JobRun.finished_at.is_not(None)
        ),
    )


def lease_holder(url: str) -> str | None:
    rows = _query(url, select(LeaseRow.holder).where(LeaseRow.name == "batch.scheduler"))
    return rows[0][0] if rows else None


@pytest.fixture
def procs(tmp_path: Path, database_url: str) -> Iterator[tuple[FileClock, list[Proc]]]:
    clock = FileClock(tmp_path / "clock")
    clock.set(START)
    started = [Proc(name, tmp_path, database_url, clock) for name in ("sched-1", "sched-2")]
    try:
        wait_for(lambda: all(p.passes() >= 2 for p in started), "both schedulers up", started)
        yield clock, started
    finally:
        for proc in started:
            proc.stop()


def test_two_processes_run_each_job_once_per_tick_then_the_standby_takes_over(
    database_url: str, procs: tuple[FileClock, list[Proc]]
) -> None:
    clock, both = procs
    leader_name = lease_holder(database_url)
    assert leader_name in ("sched-1", "sched-2")
    leader = next(p for p in both if p.name == leader_name)
    standby = next(p for p in both if p.name != leader_name)

    ticks = 5
    for minute in range(1, ticks + 1):
        clock.set(START + timedelta(minutes=minute))
        expected = minute * len(JOBS)
        wait_for(lambda n=expected: len(finished_runs(database_url)) == n, "the tick's runs", both)
        settle(both)  # the standby looked too, and did nothing

    runs = finished_runs(database_url)
    for job in JOBS:
        ticks_run = sorted(r.scheduled_for for r in runs if r.job == job)
        assert ticks_run == [START + timedelta(minutes=m) for m in range(1, ticks + 1)]
    assert {r.runner for r in runs} == {leader_name}

    leader.popen.kill()  # a crash: no release, no goodbye
    leader.popen.wait()
    clock.set(START + timedelta(minutes=ticks + 1))  # the dead leader's lease still holds
    settle([standby])
    assert len(finished_runs(database_url)) == ticks * len(JOBS)
    clock.set(START + timedelta(minutes=ticks + 2))  # now it has lapsed
    wait_for(
        lambda: len(finished_runs(database_url)) == (ticks + 1) * len(JOBS),
        "the standby's runs",
        [standby],
    )
    assert lease_holder(database_url) == standby.name
    runs = finished_runs(database_url)
    taken_over = [r for r in runs if r.runner == standby.name]
    assert {r.job for r in taken_over} == set(JOBS)
    # the tick missed while nobody led coalesces into the latest one
    assert {r.scheduled_for for r in taken_over} == {START + timedelta(minutes=ticks + 2)}
    assert {r.status for r in runs} == {"succeeded"}
