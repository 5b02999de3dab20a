"""batch's HTTP routes: the admin job API and the monitoring health summary."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from boxoffice.batch import service
from boxoffice.batch.schemas import BatchHealth, JobList, RunAccepted, RunPage, RunRead
from boxoffice.platform.deps import AdminUser, OptionalUser, ReadUoW, RuntimeDep, UoW
from boxoffice.platform.jsonutil import dumps
from boxoffice.platform.openapi import ADMIN_RESPONSES, problems
from boxoffice.platform.pages import page_answer
from boxoffice.platform.security import Role

router = APIRouter(tags=["batch"])

JobName = Annotated[str, Path(min_length=1, max_length=120)]


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABANDONED = "abandoned"


@router.get("/admin/jobs", response_model=JobList, responses=ADMIN_RESPONSES)
async def list_jobs(uow: ReadUoW, runtime: RuntimeDep, _: AdminUser) -> Any:
    return {"items": await service.list_jobs(uow, runtime)}


@router.get("/admin/jobs/runs", response_model=RunPage, responses=ADMIN_RESPONSES)
async def list_job_runs(
    uow: UoW,
    _: AdminUser,
    job: Annotated[str | None, Query(max_length=120)] = None,
    run_status: Annotated[RunStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    wanted = None if run_status is None else run_status.value
    return page_answer(
        await service.list_runs(uow, job=job, status=wanted, limit=limit, cursor=cursor)
    )


@router.get(
    "/admin/jobs/runs/{run_id}",
    response_model=RunRead,
    responses=ADMIN_RESPONSES | problems({404: "no such run"}),
)
async def get_job_run(
    uow: ReadUoW, _: AdminUser, run_id: Annotated[str, Path(max_length=36)]
) -> Any:
    return await service.get_run(uow, run_id)


@router.post(
    "/admin/jobs/{name}/run",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RunAccepted,
    responses=ADMIN_RESPONSES
    | problems({404: "no such job", 409: "the job is running already (code conflict, run_id)"}),
)
async def run_job(
    name: JobName, uow: UoW, runtime: RuntimeDep, admin: AdminUser, response: Response
) -> Any:
    run = await service.trigger_run(uow, runtime, name, requested_by=admin.id)
    response.headers["Location"] = f"/api/v1/admin/jobs/runs/{run.id}"
    return {"run_id": run.id, "job": run.job, "status": run.status}


@router.get(
    "/batch/health",
    response_model=BatchHealth,
    responses={503: {"model": BatchHealth, "description": "no scheduler is running (down)"}},
)
async def batch_health(uow: ReadUoW, runtime: RuntimeDep, user: OptionalUser) -> Response:
    """Anyone gets the summary (no errors, no hosts); an admin also gets those."""
    detailed = user is not None and user.has_role(Role.ADMIN)
    body = await service.health(uow, runtime, detailed=detailed)
    code = status.HTTP_503_SERVICE_UNAVAILABLE if body["status"] == "down" else status.HTTP_200_OK
    return Response(
        dumps(BatchHealth.model_validate(body).model_dump(mode="json")),
        status_code=code,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
