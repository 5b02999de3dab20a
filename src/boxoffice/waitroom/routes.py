"""waitroom's HTTP routes: parse, call one service function, shape the response."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response, status
from fastapi.responses import StreamingResponse

from boxoffice.platform.deps import ClientAddress, CurrentUser, RuntimeDep
from boxoffice.waitroom import service
from boxoffice.waitroom.schemas import QueueEntryRead

router = APIRouter(tags=["waitroom"])
JSON = "application/json"

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
) -> Any:
    entry, created = await service.join(runtime, user, show_id, client)
    # Serialised by pydantic-core directly: the hot path skips FastAPI's re-validation.
    return Response(entry.model_dump_json(), status_code=201 if created else 200, media_type=JSON)


@router.get(
    "/queue/{entry_id}",
    response_model=QueueEntryRead,
    operation_id="get_queue_entry",
    responses=_ERRORS,
)
async def get_queue_entry(entry_id: str, runtime: RuntimeDep, user: CurrentUser) -> Any:
    entry = await service.get_entry(runtime, user, entry_id)
    return Response(entry.model_dump_json(), media_type=JSON)


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
