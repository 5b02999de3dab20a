"""batch's HTTP shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    job: str
    trigger: str
    status: str
    scheduled_for: datetime | None
    started_at: datetime
    finished_at: datetime | None
    rows_affected: int | None
    error: str | None
    runner: str
    requested_by: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def duration_ms(self) -> int | None:
        if self.finished_at is None:
            return None
        return int((self.finished_at - self.started_at).total_seconds() * 1000)


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    schedule: str
    timezone: str
    description: str
    enabled: bool
    running_run_id: str | None
    last_status: str | None
    last_run_at: datetime | None
    last_run: RunRead | None
    next_run_at: datetime | None


class JobList(BaseModel):
    items: list[JobRead]


class RunPage(BaseModel):
    items: list[RunRead]
    next_cursor: str | None


class RunAccepted(BaseModel):
    run_id: str
    job: str
    status: str


class BatchHealth(BaseModel):
    status: str  # ok | degraded | down
    checked_at: datetime
    detail: str | None = None
    scheduler: dict[str, Any]
    failing_jobs: list[str]
    overdue_jobs: list[str]
    jobs: list[dict[str, Any]]
