"""Executing claimed runs: one asyncio task per run, its claim renewed while it lives.

Used by the scheduler for ticks and by the API for manual triggers. A failure is recorded
with its error (the job is retried at its next tick); a run cut short by shutdown is
recorded as failed, so the history never shows a run as running forever.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from sqlalchemy.exc import StatementError

from boxoffice.batch import claims
from boxoffice.batch.schedule import ScheduledJob
from boxoffice.platform.runtime import Runtime

log = structlog.get_logger("boxoffice.batch")


class RunMetrics:
    """Job runs in this process's metrics registry (``/metrics`` of an app that runs them)."""

    def __init__(self, runtime: Runtime) -> None:
        registry = runtime.metrics.registry
        self.runs = Counter(
            "boxoffice_batch_runs",
            "Job runs by job and outcome",
            ["job", "status"],
            registry=registry,
        )
        self.seconds = Histogram(
            "boxoffice_batch_run_duration_seconds",
            "Job run duration",
            ["job"],
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800),
            registry=registry,
        )

    @classmethod
    def of(cls, runtime: Runtime) -> RunMetrics:
        return runtime.adapters.ensure(cls, lambda: cls(runtime))


def instance_id() -> str:
    """Who runs: host, process and a random part (a restarted process is someone new)."""
    return f"{socket.gethostname()[:150]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def describe_error(exc: BaseException) -> str:
    """The error for the run history: type and message, never SQL parameters."""
    if isinstance(exc, StatementError) and exc.orig is not None:
        return f"{type(exc.orig).__name__}: {exc.orig}"
    return f"{type(exc).__name__}: {exc}"


async def _call(job: ScheduledJob, runtime: Runtime) -> int:
    return int(await job.spec.run(runtime))


async def _cancel(*tasks: asyncio.Task[Any]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class JobRunner:
    def __init__(self, runtime: Runtime, holder: str) -> None:
        self.runtime = runtime
        self.holder = holder
        self._tasks: dict[str, asyncio.Task[None]] = {}  # job name -> its run here
        self.metrics = RunMetrics.of(runtime)

    @property
    def claim_ttl(self) -> float:
        return self.runtime.settings.batch.batch_run_claim_ttl_seconds

    def active(self, job: str) -> bool:
        task = self._tasks.get(job)
        return task is not None and not task.done()

    def start(self, job: ScheduledJob, run_id: str) -> asyncio.Task[None]:
        task = asyncio.create_task(self._execute(job, run_id), name=f"batch:{job.name}:{run_id}")
        self._tasks[job.name] = task
        task.add_done_callback(lambda t: self._forget(job.name, t))
        return task

    def _forget(self, name: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(name) is task:
            del self._tasks[name]

    async def _execute(self, job: ScheduledJob, run_id: str) -> None:
        log.debug("job_started", job=job.name, run_id=run_id)  # routine: every few seconds
        began = time.perf_counter()
        work = asyncio.create_task(_call(job, self.runtime), name=f"batch-work:{job.name}")
        heartbeat = asyncio.create_task(self._heartbeat(job.name, run_id))
        rows: int | None = None
        error: str | None = None
        try:
            await asyncio.wait({work, heartbeat}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            await _cancel(work, heartbeat)
            error = "Interrupted: the process running it shut down."
            await asyncio.shield(self._finish(job.name, run_id, None, error))
            raise
        if not work.done():
            # The heartbeat ends only when the claim was lost (this process stalled past
            # its TTL and another took the job): stop, so the job never runs twice at once.
            await _cancel(work)
            error = "Stopped: its claim lapsed and another process took the job over."
        else:
            await _cancel(heartbeat)
            if work.cancelled():
                error = "Cancelled."
            elif (exc := work.exception()) is not None:
                error = describe_error(exc)
                log.error("job_failed", job=job.name, run_id=run_id, exc_info=exc)
            else:
                rows = work.result()
        await self._finish(job.name, run_id, rows, error)
        self.metrics.seconds.labels(job.name).observe(time.perf_counter() - began)
        self.metrics.runs.labels(job.name, "failed" if error else "succeeded").inc()
        if error is None:
            # A run that changed something is worth a line; the routine empty sweep is not.
            (log.info if rows else log.debug)(
                "job_succeeded", job=job.name, run_id=run_id, rows=rows
            )
        else:
            log.warning("job_run_failed", job=job.name, run_id=run_id, error=error)

    async def _finish(self, job: str, run_id: str, rows: int | None, error: str | None) -> None:
        try:
            async with self.runtime.uow() as uow:
                await claims.finish(uow, job, run_id, rows=rows, error=error)
        except Exception:
            # The claim will lapse and the next taker records this run as abandoned.
            log.exception("job_finish_not_recorded", job=job, run_id=run_id)

    async def _heartbeat(self, job: str, run_id: str) -> None:
        while True:
            await asyncio.sleep(self.claim_ttl / 3)
            try:
                async with self.runtime.uow() as uow:
                    if not await claims.renew(uow, job, run_id, self.claim_ttl):
                        log.warning("job_claim_lost", job=job, run_id=run_id)
                        return
            except Exception:
                log.exception("job_claim_renewal_failed", job=job, run_id=run_id)

    async def drain(self, wait_seconds: float | None = None) -> bool:
        """Wait for the runs in progress; True when all ended within ``wait_seconds``."""
        tasks = [t for t in self._tasks.values() if not t.done()]
        if not tasks:
            return True
        _, pending = await asyncio.wait(tasks, timeout=wait_seconds)
        return not pending

    async def close(self, grace: float = 0.0) -> None:
        """Let runs finish for ``grace`` seconds, then interrupt the rest."""
        if await self.drain(grace):
            return
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
