"""The scheduler with an injected clock: when jobs fire, failures, and never twice at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from boxoffice.batch import claims, service
from boxoffice.batch.scheduler import SCHEDULER_LEASE, Scheduler
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import Settings
from boxoffice.platform.jobs import JobSpec
from boxoffice.platform.lease import RedisLeases
from boxoffice.platform.runtime import Runtime, build_runtime
from tests.conftest import BACKENDS
from tests.support.batch import (
    START,
    every_minute,
    failing,
    gate_of,
    gated_job,
    runs_of,
    runs_per_tick,
    succeed,
)


async def test_a_job_fires_when_due_and_not_before(
    batch_runtime: Runtime, frozen: FrozenClock
) -> None:
    hourly = JobSpec("test.hourly", "0 * * * *", succeed)
    scheduler = Scheduler(batch_runtime, [every_minute(), hourly])
    assert await scheduler.tick() == []  # first sight: nothing from before it existed
    frozen.advance(timedelta(seconds=59))
    assert await scheduler.tick() == []
    frozen.advance(timedelta(seconds=1))  # 12:01:00
    assert len(await scheduler.tick()) == 1
    await scheduler.runner.drain()
    assert await scheduler.tick() == []  # the same tick is not run again

    frozen.set(START + timedelta(minutes=59, seconds=59))
    await scheduler.tick()
    await scheduler.runner.drain()
    frozen.set(START + timedelta(hours=1))
    await scheduler.tick()
    await scheduler.runner.drain()

    minute_runs = await runs_of(batch_runtime, "test.every_minute")
    assert [r.scheduled_for for r in minute_runs] == [
        START + timedelta(minutes=1),
        START + timedelta(minutes=59),  # 57 missed minutes coalesce into the latest
        START + timedelta(hours=1),
    ]
    assert all(r.status == claims.SUCCEEDED and r.rows_affected == 1 for r in minute_runs)
    hourly_runs = await runs_of(batch_runtime, "test.hourly")
    assert [r.scheduled_for for r in hourly_runs] == [START + timedelta(hours=1)]


async def test_seconds_field_and_weekly_sunday_schedule(
    batch_runtime: Runtime, frozen: FrozenClock
) -> None:
    every_5s = JobSpec("test.every_5s", "* * * * * */5", succeed)
    weekly = JobSpec("test.weekly", "0 2 * * 0", succeed)
    scheduler = Scheduler(batch_runtime, [every_5s, weekly])
    await scheduler.tick()
    for _ in range(3):
        frozen.advance(timedelta(seconds=5))
        await scheduler.tick()
        await scheduler.runner.drain()
    assert len(await runs_of(batch_runtime, "test.every_5s")) == 3

    sunday_2am = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    frozen.set(sunday_2am - timedelta(seconds=1))
    await scheduler.tick()
    assert await runs_of(batch_runtime, "test.weekly") == []
    frozen.set(sunday_2am)
    await scheduler.tick()
    await scheduler.runner.drain()
    assert [r.scheduled_for for r in await runs_of(batch_runtime, "test.weekly")] == [sunday_2am]


async def test_schedule_override_and_disabling_by_setting(
    make_settings: Callable[..., Settings], frozen: FrozenClock
) -> None:
    settings = make_settings(
        batch={"batch_schedules": {"test.every_minute": "*/10 * * * *", "test.failing": "off"}}
    )
    runtime = build_runtime(settings, frozen)
    try:
        scheduler = Scheduler(runtime, [every_minute(), failing()])
        assert scheduler.jobs["test.every_minute"].expression == "*/10 * * * *"
        assert scheduler.jobs["test.failing"].schedule is None
        await scheduler.tick()
        for minute in range(1, 11):
            frozen.set(START + timedelta(minutes=minute))
            await scheduler.tick()
            await scheduler.runner.drain()
        assert [r.scheduled_for for r in await runs_of(runtime, "test.every_minute")] == [
            START + timedelta(minutes=10)
        ]
        assert await runs_of(runtime, "test.failing") == []
    finally:
        await runtime.close()


async def test_a_failing_job_is_recorded_and_retried_at_its_next_tick(
    batch_runtime: Runtime, frozen: FrozenClock
) -> None:
    scheduler = Scheduler(batch_runtime, [failing()])
    await scheduler.tick()
    for _ in range(2):
        frozen.advance(timedelta(minutes=1))
        await scheduler.tick()
        await scheduler.runner.drain()
    runs = await runs_of(batch_runtime, "test.failing")
    assert [r.status for r in runs] == [claims.FAILED, claims.FAILED]
    assert runs[0].error == "RuntimeError: the payment provider timed out"
    assert all(r.finished_at is not None for r in runs)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_tick_runs_once_even_with_several_leaders(
    batch_runtime: Runtime, frozen: FrozenClock
) -> None:
    """Each scheduler believes it leads (own lease name): the job's row still decides."""
    schedulers = [
        Scheduler(batch_runtime, [every_minute()], lease_name=f"split-brain-{i}") for i in range(6)
    ]
    await asyncio.gather(*(s.tick() for s in schedulers))
    for _ in range(4):
        frozen.advance(timedelta(minutes=1))
        started = await asyncio.gather(*(s.tick() for s in schedulers))
        assert sum(len(ids) for ids in started) == 1
        await asyncio.gather(*(s.runner.drain() for s in schedulers))
    per_tick = await runs_per_tick(batch_runtime, "test.every_minute")
    assert per_tick == {START + timedelta(minutes=m): 1 for m in range(1, 5)}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("claim_ttl", [600.0])
async def test_manual_triggers_racing_a_scheduled_tick_start_one_run(
    batch_runtime: Runtime, frozen: FrozenClock
) -> None:
    job = gated_job()
    batch_runtime.jobs = [job]
    scheduler = Scheduler(batch_runtime, [job])
    await scheduler.tick()
    frozen.advance(timedelta(minutes=1))

    async def manual() -> str | None:
        async with batch_runtime.uow() as uow:
            try:
                return (
                    await service.trigger_run(uow, batch_runtime, job.name, requested_by=None)
                ).id
            except service.JobAlreadyRunning:
                return None

    results = await asyncio.gather(scheduler.tick(), *(manual() for _ in range(10)))
    scheduled, manual_ids = results[0], [r for r in results[1:] if r is not None]
    assert len(scheduled) + len(manual_ids) == 1
    await gate_of(batch_runtime).started.wait()

    frozen.advance(timedelta(minutes=1))  # the next tick while it still runs: waits
    assert await scheduler.tick() == []
    gate_of(batch_runtime).opened.set()
    await scheduler.runner.drain()
    await service.job_runner(batch_runtime).drain()

    runs = await runs_of(batch_runtime, job.name)
    assert len(runs) == 1
    assert runs[0].status == claims.SUCCEEDED
    assert runs[0].rows_affected == 7
    assert len(await scheduler.tick()) == 1  # free again: the pending tick runs now
    await scheduler.runner.drain()
    assert len(await runs_of(batch_runtime, job.name)) == 2


async def test_a_run_whose_process_died_is_abandoned_and_the_job_taken_over(
    batch_runtime: Runtime, frozen: FrozenClock
) -> None:
    job = every_minute()
    tick = START + timedelta(minutes=1)
    frozen.set(tick)
    async with batch_runtime.uow() as uow:  # what a process leaves behind when it dies mid-run
        state = await claims.ensure_state(uow, job.name, START)
        dead = await claims.claim(
            uow, state, holder="dead-host:1:aaaa", claim_ttl=60, trigger=claims.SCHEDULE, tick=tick
        )
    assert dead.outcome is claims.Outcome.CLAIMED
    dead_run = dead.run_id

    standby = Scheduler(batch_runtime, [job], holder="standby:2:bbbb")
    frozen.advance(timedelta(seconds=59))
    assert await standby.tick() == []  # the claim is still live: the next tick waits
    frozen.advance(timedelta(seconds=1))  # 12:02:00, the claim has lapsed
    [new_run] = await standby.tick()
    await standby.runner.drain()
    runs = {r.id: r for r in await runs_of(batch_runtime, job.name)}
    assert runs[dead_run].status == claims.ABANDONED
    assert "stopped renewing" in (runs[dead_run].error or "")
    assert runs[new_run].status == claims.SUCCEEDED
    assert runs[new_run].runner == "standby:2:bbbb"
    assert runs[new_run].scheduled_for == START + timedelta(minutes=2)


@pytest.mark.parametrize("use_redis", [True])
async def test_with_redis_the_lease_lives_in_redis_and_lapses_in_real_time(
    make_settings: Callable[..., Settings], frozen: FrozenClock
) -> None:
    settings = make_settings(batch={"scheduler_lease_ttl_seconds": 0.3})
    runtime = build_runtime(settings, frozen)
    try:
        active = Scheduler(runtime, [every_minute()], holder="active")
        standby = Scheduler(runtime, [every_minute()], holder="standby")
        assert isinstance(active.leases, RedisLeases)
        await active.tick()
        await standby.tick()
        assert active.is_leader
        assert not standby.is_leader
        frozen.advance(timedelta(minutes=1))
        await asyncio.sleep(0.5)  # the active one stopped renewing: Redis expires its key
        [run_id] = await standby.tick()
        await standby.runner.drain()
        assert standby.is_leader
        assert await standby.leases.holder(SCHEDULER_LEASE) == "standby"
        [run] = await runs_of(runtime, "test.every_minute")
        assert run.id == run_id
        assert run.runner == "standby"
    finally:
        await runtime.close()


async def _live(frozen: FrozenClock, seconds: int, *alive: Scheduler) -> list[str]:
    """Let ``seconds`` pass in one-second passes of every live scheduler (as their loops do)."""
    started: list[str] = []
    for _ in range(seconds):
        frozen.advance(timedelta(seconds=1))
        for scheduler in alive:
            started += await scheduler.tick()
            await scheduler.runner.drain()
    return started


async def test_only_the_lease_holder_schedules_and_a_standby_takes_over(
    batch_runtime: Runtime, frozen: FrozenClock
) -> None:
    active = Scheduler(batch_runtime, [every_minute()], holder="active")
    standby = Scheduler(batch_runtime, [every_minute()], holder="standby")
    await active.tick()
    await standby.tick()
    assert active.is_leader
    assert not standby.is_leader
    await _live(frozen, 60 * 3, active, standby)
    assert active.is_leader
    assert not standby.is_leader
    # the active one dies (no release): the standby takes over once the lease lapses
    ttl = int(batch_runtime.settings.batch.scheduler_lease_ttl_seconds)
    await _live(frozen, ttl + 1, standby)
    assert standby.is_leader
    await _live(frozen, 60 * 2, standby)
    runs = await runs_of(batch_runtime, "test.every_minute")
    assert [r.runner for r in runs] == ["active"] * 3 + ["standby"] * 2
    assert [r.scheduled_for for r in runs] == [START + timedelta(minutes=m) for m in range(1, 6)]
