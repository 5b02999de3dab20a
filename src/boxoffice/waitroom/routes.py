"""waitroom's HTTP routes: parse, call one service function, shape the response."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from boxoffice.platform.deps import CurrentUser, RuntimeDep
from boxoffice.waitroom import service
from boxoffice.waitroom.hot_routes import ENTRY_PROBLEMS

router = APIRouter(tags=["waitroom"])
JSON = "application/json"


@router.delete(
    "/queue/{entry_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ENTRY_PROBLEMS
)
async def leave_queue(entry_id: str, runtime: RuntimeDep, user: CurrentUser) -> Response:
    await service.leave(runtime, user, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
