"""`boxoffice scheduler` as operators run it: a real process with every context's jobs,
a schedule overridden by environment, and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from boxoffice.batch.models import JobRun
from boxoffice.platform.db import create_engine
from boxoffice.platform.lease import LeaseRow
from tests.support.processes import ROOT, boxoffice_command
from tests.support.running import run_sync

pytestmark = pytest.mark.slow


def _read(url: str) -> tuple[list[tuple[str, str, str | None]], list[str]]:
    async def read() -> tuple[list[tuple[str, str, str | None]], list[str]]:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.connect() as conn:
                runs = (await conn.execute(select(JobRun.job, JobRun.status, JobRun.trigger))).all()
                leases = (await conn.execute(select(LeaseRow.holder))).scalars().all()
                return [tuple(r) for r in runs], list(leases)  # type: ignore[misc]
        finally:
            await engine.dispose()

    return run_sync(read())


def test_scheduler_command_runs_an_overridden_schedule_and_stops_cleanly(
    tmp_path: Path, database_url: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOFFICE_")} | {
        "BOXOFFICE_ENVIRONMENT": "test",
        "BOXOFFICE_DATA_DIR": str(tmp_path),
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_BATCH_SCHEDULES": json.dumps({"batch.purge_run_history": "* * * * * *"}),
        "BOXOFFICE_SCHEDULER_POLL_SECONDS": "0.2",
        "BOXOFFICE_LOG_LEVEL": "WARNING",
    }
    log = tmp_path / "scheduler.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            boxoffice_command("scheduler", "--grace", "5"),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            done: list[tuple[str, str, str | None]] = []
            while time.monotonic() < deadline and not done:
                assert process.poll() is None, log.read_text()
                runs, _ = _read(database_url)
                done = [
                    r for r in runs if r[0] == "batch.purge_run_history" and r[1] == "succeeded"
                ]
                time.sleep(0.2)
            assert done, f"no scheduled run within 60 s:\n{log.read_text()}"
            assert done[0][2] == "schedule"
            _, leases = _read(database_url)
            assert len(leases) == 1  # this process leads
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(30)
    assert code == 0, log.read_text()
    assert "is running" in log.read_text()
    _, leases = _read(database_url)
    assert leases == []  # stepped down: a standby can take over at once
