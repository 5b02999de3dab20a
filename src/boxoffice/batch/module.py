"""How batch plugs into the app: the jobs API, its own jobs, and at start-up the jobs'
schedules resolved (fail fast) and, in background mode, the scheduler inside the process
(``boxoffice run``)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from boxoffice.batch import jobs, routes, service
from boxoffice.batch.scheduler import Scheduler
from boxoffice.platform.contexts import ContextModule
from boxoffice.platform.runtime import Runtime

MANUAL_RUN_GRACE_SECONDS = 10.0  # what a stopping app process gives runs in progress


async def startup(runtime: Runtime, stack: AsyncExitStack) -> None:
    service.registered_jobs(runtime)  # raises InvalidSchedule on a bad cron expression
    runner = service.job_runner(runtime)
    stack.push_async_callback(runner.close, MANUAL_RUN_GRACE_SECONDS)
    if runtime.background and runtime.settings.batch.scheduler_in_process:
        scheduler = Scheduler(
            runtime, [job.spec for job in service.registered_jobs(runtime).values()]
        )
        stop = asyncio.Event()
        task = asyncio.create_task(
            scheduler.run(stop, grace=MANUAL_RUN_GRACE_SECONDS), name="batch:scheduler"
        )
        runtime.adapters.put(scheduler)

        async def stop_scheduler() -> None:
            stop.set()
            await task

        stack.push_async_callback(stop_scheduler)


MODULE = ContextModule("batch", routers=[routes.router], startup=startup, jobs=jobs.JOBS)
