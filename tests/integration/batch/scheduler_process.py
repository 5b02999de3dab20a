"""A scheduler process for the multi-process tests: test jobs, a clock shared through a file.

    python -m tests.integration.batch.scheduler_process DATABASE_URL CLOCK_FILE STATUS_FILE HOLDER

After each pass it writes ``<passes> <leader 0|1>`` to STATUS_FILE, so the test knows when
both processes have seen a new time. Stops on SIGTERM; a SIGKILL is a crash.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
from pathlib import Path

from boxoffice.batch.scheduler import Scheduler
from boxoffice.platform.config import BatchSettings, Environment, Settings
from boxoffice.platform.runtime import build_runtime
from tests.support.batch import FileClock, every_minute

LEASE_TTL_SECONDS = 90.0  # longer than the test's one-minute steps of the shared clock


async def main(database_url: str, clock_file: Path, status_file: Path, holder: str) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment=Environment.TEST,
        data_dir=Path(tempfile.mkdtemp(prefix="bo-sched-")),
        database_url=database_url,
        batch=BatchSettings(
            scheduler_poll_seconds=0.05,
            scheduler_lease_ttl_seconds=LEASE_TTL_SECONDS,
            batch_run_claim_ttl_seconds=600,
        ),
        log_json=False,
        log_level="WARNING",
    )
    runtime = build_runtime(settings, FileClock(clock_file))
    passes = 0

    async def report(scheduler: Scheduler) -> None:
        nonlocal passes
        passes += 1
        tmp = status_file.with_suffix(".tmp")
        tmp.write_text(f"{passes} {int(scheduler.is_leader)}")
        tmp.replace(status_file)

    jobs = [every_minute("test.minute_a"), every_minute("test.minute_b")]
    scheduler = Scheduler(runtime, jobs, holder=holder, on_iteration=report)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await scheduler.run(stop, grace=5)
    finally:
        await runtime.close()


if __name__ == "__main__":
    url, clock_path, status_path, name = sys.argv[1:5]
    asyncio.run(main(url, Path(clock_path), Path(status_path), name))
