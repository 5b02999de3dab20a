"""The scheduler role: fires jobs on their cron schedules, one leader across instances.

Every instance loops; the one holding the ``batch.scheduler`` lease (Redis when
configured, else the database) starts due runs, the others stand by and take over when
the lease lapses (the leader died). Leadership alone is not trusted for uniqueness: each
tick is taken by a compare-and-set on the job's row (``claims``), so even two leaders
(a paused process whose lease expired) cannot run a tick twice or a job twice at once.

Missed ticks (no scheduler was up) coalesce into one run at the latest missed tick.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from boxoffice.batch import claims
from boxoffice.batch.runner import JobRunner, instance_id
from boxoffice.batch.schedule import ScheduledJob, effective_jobs, unknown_overrides
from boxoffice.platform.jobs import JobSpec
from boxoffice.platform.lease import DatabaseLeases, LeaseStore, RedisLeases
from boxoffice.platform.runtime import Runtime

SCHEDULER_LEASE = "batch.scheduler"
log = structlog.get_logger("boxoffice.batch")


def leases_for(runtime: Runtime) -> LeaseStore:
    """Redis leases when Redis is configured, else database leases."""
    client = getattr(runtime.kv, "client", None)
    if runtime.settings.redis_url and client is not None:
        return RedisLeases(client, runtime.settings.redis_prefix)
    return DatabaseLeases(runtime.engine, runtime.clock)


@dataclass
class _Due:
    observed_tick: datetime | None  # last_tick_at as read: the compare-and-set's witness
    next_at: datetime


class Scheduler:
    def __init__(
        self,
        runtime: Runtime,
        jobs: list[JobSpec] | None = None,
        *,
        leases: LeaseStore | None = None,
        holder: str | None = None,
        lease_name: str = SCHEDULER_LEASE,
        on_iteration: Callable[[Scheduler], Awaitable[None]] | None = None,
    ) -> None:
        settings = runtime.settings
        specs = list(runtime.jobs) if jobs is None else list(jobs)
        self.runtime = runtime
        self.jobs: dict[str, ScheduledJob] = effective_jobs(
            specs, settings.batch.batch_schedules, settings.batch.batch_timezone
        )
        for name in unknown_overrides(specs, settings.batch.batch_schedules):
            log.warning("schedule_override_for_unknown_job", job=name)
        self.leases = leases or leases_for(runtime)
        self.holder = holder or instance_id()
        self.lease_name = lease_name
        self.runner = JobRunner(runtime, self.holder)
        self.is_leader = False
        self._due: dict[str, _Due] = {}
        self._on_iteration = on_iteration

    async def tick(self) -> list[str]:
        """One pass: keep or take the lease, then start every due job. Returns run ids."""
        settings = self.runtime.settings
        leader = await self.leases.acquire(
            self.lease_name, self.holder, settings.batch.scheduler_lease_ttl_seconds
        )
        if leader != self.is_leader:
            log.info("scheduler_leadership", leader=leader, holder=self.holder)
            self._due.clear()  # another leader may have taken ticks meanwhile
        self.is_leader = leader
        if not leader:
            return []
        started = []
        for job in self.jobs.values():
            if job.schedule is None or self.runner.active(job.name):
                continue
            try:
                run_id = await self._maybe_start(job)
            except Exception:  # one job's trouble must not hold up the others' ticks
                log.exception("scheduler_job_check_failed", job=job.name)
                self._due.pop(job.name, None)
                continue
            if run_id is not None:
                started.append(run_id)
        return started

    async def _maybe_start(self, job: ScheduledJob) -> str | None:
        assert job.schedule is not None
        now = self.runtime.clock.now()
        due = self._due.get(job.name)
        if due is not None and now < due.next_at:
            return None
        async with self.runtime.uow() as uow:
            state = await claims.ensure_state(uow, job.name, now)
            baseline = state.last_tick_at or now
            due = _Due(state.last_tick_at, job.schedule.next_after(baseline))
            self._due[job.name] = due
            if now < due.next_at:
                return None
            tick = job.schedule.latest_at_or_before(now)
            taken = await claims.claim(
                uow,
                state,
                holder=self.holder,
                claim_ttl=self.runner.claim_ttl,
                trigger=claims.SCHEDULE,
                tick=tick,
            )
        if taken.outcome is not claims.Outcome.CLAIMED:
            # Busy: retried next pass (the tick waits for the running run). Stale: re-read.
            if taken.outcome is claims.Outcome.STALE:
                self._due.pop(job.name, None)
            return None
        assert taken.run_id is not None
        self._due[job.name] = _Due(tick, job.schedule.next_after(tick))
        self.runner.start(job, taken.run_id)
        return taken.run_id

    async def run(self, stop: asyncio.Event, *, grace: float = 30.0) -> None:
        """Loop until ``stop`` is set; then let runs finish for ``grace`` s and step down."""
        poll = self.runtime.settings.batch.scheduler_poll_seconds
        log.info("scheduler_started", holder=self.holder, jobs=sorted(self.jobs))
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception:
                    log.exception("scheduler_pass_failed", holder=self.holder)
                if self._on_iteration is not None:
                    await self._on_iteration(self)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll)
        finally:
            await self.shutdown(grace)

    async def shutdown(self, grace: float = 30.0) -> None:
        await self.runner.close(grace)
        if self.is_leader:
            with contextlib.suppress(Exception):
                await self.leases.release(self.lease_name, self.holder)
            self.is_leader = False
        log.info("scheduler_stopped", holder=self.holder)
