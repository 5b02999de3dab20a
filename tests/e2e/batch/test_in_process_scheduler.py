"""`boxoffice run`'s embedded mode: the app's lifespan runs the scheduler in-process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
from asgi_lifespan import LifespanManager

from boxoffice.app import create_app
from boxoffice.batch.scheduler import SCHEDULER_LEASE, leases_for
from boxoffice.platform.config import Settings
from boxoffice.platform.runtime import Runtime
from tests.support.api import API

WAIT_SECONDS = 30


async def test_background_app_schedules_jobs_and_steps_down_on_shutdown(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(
        batch={
            "scheduler_poll_seconds": 0.05,
            "batch_schedules": {"batch.purge_run_history": "* * * * * *"},  # every second
        },
    )
    app = create_app(settings, ["identity", "batch"], background=True)
    async with LifespanManager(app) as manager:
        runtime: Runtime = app.state.runtime
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            async with asyncio.timeout(WAIT_SECONDS):
                while True:
                    health = await http.get(f"{API}/batch/health")
                    jobs = {j["name"]: j for j in health.json()["jobs"]}
                    if jobs["batch.purge_run_history"]["last_status"] == "succeeded":
                        break
                    await asyncio.sleep(0.05)
            assert health.status_code == 200
            assert health.json()["scheduler"]["alive"] is True
            metrics = (await http.get("/metrics")).text
            assert (
                'boxoffice_batch_runs_total{job="batch.purge_run_history",status="succeeded"}'
                in metrics
            )
        leases = leases_for(runtime)
    assert await leases.holder(SCHEDULER_LEASE) is None  # released: a standby may lead at once
