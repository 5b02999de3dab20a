"""batch e2e fixtures: the app with identity and batch only, plus test jobs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI

from boxoffice.app import create_app
from boxoffice.batch import jobs as batch_jobs
from boxoffice.batch import service
from boxoffice.batch.schedule import ScheduledJob, effective_jobs
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import Settings
from boxoffice.platform.runtime import Runtime
from tests.support.batch import every_minute, failing, gated_job


@pytest.fixture
def clock() -> FrozenClock:
    # near the real time: access tokens are checked against the wall clock
    return FrozenClock(datetime.now(UTC).replace(second=0, microsecond=0))


@pytest.fixture
def app(settings: Settings, clock: FrozenClock) -> FastAPI:
    return create_app(settings, ["identity", "batch"], clock=clock, background=False)


@pytest.fixture
def jobs(runtime: Runtime) -> dict[str, ScheduledJob]:
    """batch's own jobs and three test jobs, as the API sees them."""
    specs = [*batch_jobs.JOBS, every_minute(), failing(), gated_job()]
    registered = effective_jobs(specs, runtime.settings.batch.batch_schedules)
    runtime.adapters.put(service.JobTable(registered))
    runtime.jobs = specs
    return registered
