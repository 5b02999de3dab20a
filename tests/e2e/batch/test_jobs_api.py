"""The batch API as an admin and a monitor see it: jobs, manual runs, history, health."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import pytest
from asgi_lifespan import LifespanManager

from boxoffice.app import create_app
from boxoffice.batch import service
from boxoffice.batch.schedule import Schedule
from boxoffice.batch.scheduler import Scheduler
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import Settings
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role
from tests.conftest import BACKENDS
from tests.support.api import API, Caller, assert_problem, customer, user_with_role
from tests.support.batch import gate_of

pytestmark = pytest.mark.usefixtures("jobs")


@pytest.fixture
async def admin(client: httpx.AsyncClient, runtime: Runtime) -> Caller:
    return await user_with_role(client, runtime, Role.ADMIN)


async def _finish_manual_runs(runtime: Runtime) -> None:
    await service.job_runner(runtime).drain()


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_admin_lists_every_job_with_schedule_and_next_run(
    client: httpx.AsyncClient, admin: Caller, clock: FrozenClock
) -> None:
    response = await client.get(f"{API}/admin/jobs", headers=admin.headers)
    assert response.status_code == 200, response.text
    jobs = {job["name"]: job for job in response.json()["items"]}
    assert {
        "batch.refresh_table_statistics",
        "batch.purge_outbox",
        "batch.purge_run_history",
        "test.every_minute",
    } <= set(jobs)
    stats = jobs["batch.refresh_table_statistics"]
    assert stats["schedule"] == "0 2 * * 0"
    assert stats["description"]
    assert stats["last_run"] is None
    assert stats["last_status"] is None
    sunday = Schedule.parse("0 2 * * 0").next_after(clock.now())
    assert sunday.weekday() == 6
    assert (sunday.hour, sunday.minute) == (2, 0)
    assert _time(stats["next_run_at"]) == sunday
    assert _time(jobs["test.every_minute"]["next_run_at"]) == clock.now() + timedelta(minutes=1)


async def test_manual_run_is_accepted_recorded_and_shown_as_last_run(
    client: httpx.AsyncClient, admin: Caller, runtime: Runtime
) -> None:
    response = await client.post(f"{API}/admin/jobs/test.failing/run", headers=admin.headers)
    assert response.status_code == 202, response.text
    run_id = response.json()["run_id"]
    assert response.headers["location"] == f"{API}/admin/jobs/runs/{run_id}"
    await _finish_manual_runs(runtime)

    run = (await client.get(f"{API}/admin/jobs/runs/{run_id}", headers=admin.headers)).json()
    assert run["status"] == "failed"
    assert run["trigger"] == "manual"
    assert run["requested_by"] == admin.id
    assert run["error"] == "RuntimeError: the payment provider timed out"
    assert run["finished_at"] is not None

    listed = (await client.get(f"{API}/admin/jobs", headers=admin.headers)).json()["items"]
    [failing_job] = [j for j in listed if j["name"] == "test.failing"]
    assert failing_job["last_status"] == "failed"
    assert failing_job["last_run"]["id"] == run_id


@pytest.mark.parametrize("backend", BACKENDS)
async def test_unknown_job_is_404_and_a_running_job_is_409(
    client: httpx.AsyncClient, admin: Caller, runtime: Runtime
) -> None:
    assert_problem(
        await client.post(f"{API}/admin/jobs/no.such.job/run", headers=admin.headers),
        404,
        "not_found",
    )
    first = await client.post(f"{API}/admin/jobs/test.gated/run", headers=admin.headers)
    assert first.status_code == 202, first.text
    attempts = await asyncio.gather(
        *(client.post(f"{API}/admin/jobs/test.gated/run", headers=admin.headers) for _ in range(8))
    )
    for attempt in attempts:
        body = assert_problem(attempt, 409, "conflict")
        assert body["run_id"] == first.json()["run_id"]
    listed = (await client.get(f"{API}/admin/jobs", headers=admin.headers)).json()["items"]
    [gated] = [j for j in listed if j["name"] == "test.gated"]
    assert gated["running_run_id"] == first.json()["run_id"]
    gate_of(runtime).opened.set()
    await _finish_manual_runs(runtime)
    again = await client.post(f"{API}/admin/jobs/test.gated/run", headers=admin.headers)
    assert again.status_code == 202  # free once the first finished
    await _finish_manual_runs(runtime)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_run_history_is_paginated_newest_first_and_filtered(
    client: httpx.AsyncClient, admin: Caller, runtime: Runtime, clock: FrozenClock
) -> None:
    ids = []
    for _ in range(5):
        clock.advance(timedelta(seconds=1))
        response = await client.post(
            f"{API}/admin/jobs/test.every_minute/run", headers=admin.headers
        )
        ids.append(response.json()["run_id"])
        await _finish_manual_runs(runtime)
    await client.post(f"{API}/admin/jobs/test.failing/run", headers=admin.headers)
    await _finish_manual_runs(runtime)

    seen: list[str] = []
    cursor = None
    while True:
        params = {"job": "test.every_minute", "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await client.get(f"{API}/admin/jobs/runs", params=params, headers=admin.headers)
        assert page.status_code == 200, page.text
        body = page.json()
        seen += [run["id"] for run in body["items"]]
        assert all(run["status"] == "succeeded" for run in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))

    failed = await client.get(
        f"{API}/admin/jobs/runs", params={"status": "failed"}, headers=admin.headers
    )
    assert [run["job"] for run in failed.json()["items"]] == ["test.failing"]
    assert_problem(
        await client.get(
            f"{API}/admin/jobs/runs", params={"cursor": "garbage"}, headers=admin.headers
        ),
        400,
        "bad_request",
    )
    assert_problem(
        await client.get(f"{API}/admin/jobs/runs", params={"limit": 0}, headers=admin.headers),
        422,
        "validation_error",
    )
    assert_problem(
        await client.get(
            f"{API}/admin/jobs/runs", params={"status": "exploded"}, headers=admin.headers
        ),
        422,
        "validation_error",
    )
    assert_problem(
        await client.get(f"{API}/admin/jobs/runs/{new_id()}", headers=admin.headers),
        404,
        "not_found",
    )


async def test_only_admins_reach_the_job_api(client: httpx.AsyncClient, runtime: Runtime) -> None:
    fan = await customer(client)
    seller = await user_with_role(client, runtime, Role.SELLER)
    for path, method in [
        ("/admin/jobs", "GET"),
        ("/admin/jobs/runs", "GET"),
        ("/admin/jobs/test.every_minute/run", "POST"),
    ]:
        assert_problem(await client.request(method, f"{API}{path}"), 401, "unauthorized")
        for caller in (fan, seller):
            assert_problem(
                await client.request(method, f"{API}{path}", headers=caller.headers),
                403,
                "forbidden",
            )


async def test_health_without_scheduler_is_503_down(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/batch/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["scheduler"] == {"alive": False}
    assert "No scheduler" in body["detail"]


async def test_health_is_503_down_when_the_database_does_not_answer(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(database_url="postgresql+asyncpg://postgres@127.0.0.1:9/none")
    app = create_app(settings, ["batch"], background=False)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get(f"{API}/batch/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert "unreachable" in body["detail"]
    assert "127.0.0.1" not in response.text


async def test_health_summary_for_anyone_details_for_admins(
    client: httpx.AsyncClient, admin: Caller, runtime: Runtime, clock: FrozenClock
) -> None:
    gate_of(runtime).opened.set()  # test.gated may run
    scheduler = Scheduler(runtime, holder="sched-host:42:abcd")
    await scheduler.tick()
    assert scheduler.is_leader
    healthy = await client.get(f"{API}/batch/health")
    assert healthy.status_code == 200
    assert healthy.json()["status"] == "ok"
    assert healthy.headers["cache-control"] == "no-store"

    clock.advance(timedelta(minutes=1))  # test.failing and test.every_minute are due
    await scheduler.tick()
    await scheduler.runner.drain()
    public = await client.get(f"{API}/batch/health")
    assert public.status_code == 200
    body = public.json()
    assert body["status"] == "degraded"
    assert body["failing_jobs"] == ["test.failing"]
    assert body["scheduler"] == {"alive": True}
    assert "sched-host" not in public.text
    assert "payment provider" not in public.text  # errors are for admins
    by_name = {job["name"]: job for job in body["jobs"]}
    assert by_name["test.every_minute"]["last_status"] == "succeeded"
    assert _time(by_name["test.every_minute"]["last_run_at"]) == clock.now()

    detailed = (await client.get(f"{API}/batch/health", headers=admin.headers)).json()
    assert detailed["scheduler"]["lease_holder"] == "sched-host:42:abcd"
    errors = {job["name"]: job["last_error"] for job in detailed["jobs"]}
    assert errors["test.failing"] == "RuntimeError: the payment provider timed out"
    assert detailed["overdue_jobs"] == []

    # the leader keeps its lease but stops starting ticks (hung): the minutes go by
    clock.advance(timedelta(minutes=3))
    await scheduler.leases.acquire(scheduler.lease_name, scheduler.holder, 15)
    hung = (await client.get(f"{API}/batch/health")).json()
    assert hung["status"] == "degraded"
    assert "test.every_minute" in hung["overdue_jobs"]
    assert "batch.refresh_table_statistics" not in hung["overdue_jobs"]
    await scheduler.shutdown()
    assert (await client.get(f"{API}/batch/health")).status_code == 503
