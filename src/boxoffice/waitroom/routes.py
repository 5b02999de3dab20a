"""waitroom's HTTP routes: parse, call one service function, shape the response."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from boxoffice.platform import deps
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.waitroom import service
from boxoffice.waitroom.schemas import QueueEntryRead

router = APIRouter(tags=["waitroom"])
_bearer = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth/login")


# The platform's dependencies are plain functions, which FastAPI runs in its thread pool:
# three thread hops per request cost more than the whole poll. These async twins call
# the very same functions on the event loop (they neither block nor do I/O).
async def _runtime(request: Request) -> Runtime:
    return deps.get_runtime(request)


async def _user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    runtime = deps.get_runtime(request)
    return deps.get_current_user(deps.get_optional_user(runtime, credentials))


async def _client_address(request: Request) -> str:
    return deps.client_address(request)


RuntimeDep = Annotated[Runtime, Depends(_runtime)]
CurrentUser = Annotated[Principal, Depends(_user)]
ClientAddress = Annotated[str, Depends(_client_address)]

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    404: {"description": "no such entry (or not yours)"},
}


@router.post(
    "/shows/{show_id}/queue",
    status_code=status.HTTP_201_CREATED,
    response_model=QueueEntryRead,
    operation_id="join_queue",
    responses={
        200: {"description": "already queued: the same entry and number", "model": QueueEntryRead},
        **_ERRORS,
        409: {"description": "the show sells without a queue"},
        422: {"description": "sale_not_open"},
        429: {"description": "too many joins"},
    },
)
async def join_queue(
    show_id: str,
    runtime: RuntimeDep,
    user: CurrentUser,
    client: ClientAddress,
    response: Response,
) -> Any:
    entry, created = await service.join(runtime, user, show_id, client)
    if not created:
        response.status_code = status.HTTP_200_OK
    return entry


@router.get(
    "/queue/{entry_id}",
    response_model=QueueEntryRead,
    operation_id="get_queue_entry",
    responses=_ERRORS,
)
async def get_queue_entry(entry_id: str, runtime: RuntimeDep, user: CurrentUser) -> Any:
    return await service.get_entry(runtime, user, entry_id)


@router.delete(
    "/queue/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="leave_queue",
    responses=_ERRORS,
)
async def leave_queue(entry_id: str, runtime: RuntimeDep, user: CurrentUser) -> Response:
    await service.leave(runtime, user, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/queue/{entry_id}/stream",
    operation_id="stream_queue_entry",
    response_class=StreamingResponse,
    responses={
        200: {"description": "Server-Sent Events", "content": {"text/event-stream": {}}},
        **_ERRORS,
    },
)
async def stream_queue_entry(
    entry_id: str,
    runtime: RuntimeDep,
    user: CurrentUser,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    events = await service.open_stream(runtime, user, entry_id, last_event_id)
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        # no-transform and X-Accel-Buffering keep gateways (nginx) from buffering the stream.
        headers={"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"},
    )
