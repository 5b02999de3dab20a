"""seating's HTTP routes: parse, call one service function, shape the response."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response, status
from fastapi.responses import StreamingResponse

from boxoffice.platform.compression import accepts_gzip
from boxoffice.platform.deps import CurrentUser, PathId, RuntimeDep, SellerUser, UoW
from boxoffice.platform.openapi import owner_problems, problems
from boxoffice.seating import box_office, service, waitlist
from boxoffice.seating.schemas import (
    BlockedSeatRead,
    BlockedSeats,
    BlockRequest,
    ReleaseRequest,
    SeatMapRead,
    WaitlistEntryRead,
    WaitlistJoin,
)

router = APIRouter(tags=["seating"])


ShowId = PathId
HoldId = PathId


@router.get(
    "/shows/{show_id}/seats",
    response_model=SeatMapRead,
    responses={304: {"description": "unchanged since the ETag sent in If-None-Match"}},
)
async def get_seat_map(
    show_id: ShowId,
    request: Request,
    uow: UoW,
    runtime: RuntimeDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    answer = await service.seat_map(uow, runtime, show_id, if_none_match=if_none_match)
    headers = {"ETag": answer.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if answer.seat_map is None:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    body = answer.seat_map.body
    if accepts_gzip(request.headers.get("accept-encoding")):
        body = service.gzip_seat_map(runtime, answer.seat_map)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)


@router.delete("/holds/{hold_id}", status_code=status.HTTP_204_NO_CONTENT)
async def release_hold(hold_id: HoldId, runtime: RuntimeDep, user: CurrentUser) -> Response:
    await service.cancel_hold(runtime, hold_id, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# The sold-out waitlist (docs/selling.md)

EntryId = PathId
_NO_ENTRY = problems({404: "no such entry (or not yours)"})


def _entry(view: waitlist.EntryView) -> WaitlistEntryRead:
    return WaitlistEntryRead.model_validate(view, from_attributes=True)


@router.post(
    "/shows/{show_id}/waitlist",
    status_code=status.HTTP_201_CREATED,
    response_model=WaitlistEntryRead,
    responses={
        200: {"description": "already on the waitlist: the same entry"},
        **problems(
            {
                404: "no such show, or grade",
                409: "seats_available: a seat is free, hold it instead",
                422: "sale_not_open, validation_error",
            }
        ),
    },
)
async def join_waitlist(
    show_id: ShowId,
    runtime: RuntimeDep,
    user: CurrentUser,
    response: Response,
    body: WaitlistJoin | None = None,
) -> WaitlistEntryRead:
    grade = body.grade if body is not None else None
    view, created = await service.join_waitlist(runtime, show_id, user, grade)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return _entry(view)


@router.get("/waitlist/{entry_id}", response_model=WaitlistEntryRead, responses=_NO_ENTRY)
async def get_waitlist_entry(
    entry_id: EntryId, runtime: RuntimeDep, user: CurrentUser
) -> WaitlistEntryRead:
    return _entry(await service.waitlist_entry(runtime, entry_id, user))


@router.get(
    "/waitlist/{entry_id}/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-Sent Events: `entry` (the entry as GET /waitlist/{id} "
            "shows it) at once and whenever it changes — an offer within a second —, a "
            "comment heartbeat every 15 s; ends once the entry is bought or left",
            "content": {"text/event-stream": {}},
        },
        **_NO_ENTRY,
    },
)
async def stream_waitlist_entry(
    entry_id: EntryId, runtime: RuntimeDep, user: CurrentUser
) -> StreamingResponse:
    first = await service.waitlist_entry(runtime, entry_id, user)  # refusals before the stream
    return StreamingResponse(
        service.waitlist_events(runtime, user, first),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.delete("/waitlist/{entry_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NO_ENTRY)
async def leave_waitlist(entry_id: EntryId, runtime: RuntimeDep, user: CurrentUser) -> Response:
    await service.leave_waitlist(runtime, entry_id, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Box-office seats (docs/selling.md)

_OWNER = owner_problems("show")


@router.post(
    "/shows/{show_id}/blocks",
    response_model=BlockedSeats,
    responses=_OWNER | problems({409: "seat_unavailable: held, sold or blocked"}),
)
async def block_seats(
    show_id: ShowId, body: BlockRequest, runtime: RuntimeDep, seller: SellerUser
) -> BlockedSeats:
    blocked = await box_office.block(runtime, seller, show_id, body.seat_ids, body.reason)
    return BlockedSeats(show_id=show_id, seat_ids=blocked)


@router.post("/shows/{show_id}/blocks/release", response_model=BlockedSeats, responses=_OWNER)
async def release_blocked_seats(
    show_id: ShowId, body: ReleaseRequest, runtime: RuntimeDep, seller: SellerUser
) -> BlockedSeats:
    released = await box_office.release(runtime, seller, show_id, body.seat_ids)
    return BlockedSeats(show_id=show_id, seat_ids=released)


@router.get("/shows/{show_id}/blocks", response_model=list[BlockedSeatRead], responses=_OWNER)
async def list_blocked_seats(show_id: ShowId, runtime: RuntimeDep, seller: SellerUser) -> Any:
    return await box_office.blocked(runtime, seller, show_id)
