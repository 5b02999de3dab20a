"""waitroom's HTTP routes: parse, call one service function, shape the response."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from boxoffice.platform.deps import CurrentUser, RuntimeDep
from boxoffice.waitroom import service

router = APIRouter(tags=["waitroom"])
JSON = "application/json"

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    404: {"description": "no such entry (or not yours)"},
}


@router.delete(
    "/queue/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="leave_queue",
    responses=_ERRORS,
)
async def leave_queue(entry_id: str, runtime: RuntimeDep, user: CurrentUser) -> Response:
    await service.leave(runtime, user, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
