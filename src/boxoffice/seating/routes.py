"""seating's HTTP routes: parse, call one service function, shape the response."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response, status

from boxoffice.platform.deps import CurrentUser, RuntimeDep, UoW
from boxoffice.seating import service
from boxoffice.seating.schemas import HoldCreate, HoldRead, SeatMapRead

router = APIRouter(tags=["seating"])


ShowId = Annotated[str, Path(min_length=1, max_length=64)]
HoldId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get(
    "/shows/{show_id}/seats",
    operation_id="get_seat_map",
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
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        body = service.gzip_seat_map(runtime, answer.seat_map)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)


@router.post(
    "/shows/{show_id}/holds",
    status_code=status.HTTP_201_CREATED,
    response_model=HoldRead,
    operation_id="hold_seats",
    responses={
        403: {"description": "admission_required / admission_invalid (queue on)"},
        409: {"description": "seat_unavailable, with the taken seat_ids"},
        422: {"description": "sale_not_open, purchase_limit_exceeded, validation_error"},
        503: {"description": "service_unavailable: retry"},
    },
)
async def hold_seats(
    show_id: ShowId,
    body: HoldCreate,
    runtime: RuntimeDep,
    user: CurrentUser,
    x_admission_token: Annotated[str | None, Header()] = None,
) -> Any:
    # No unit of work here: the service opens one only when the seat board lets it through.
    held = await service.hold_seats(
        runtime,
        show_id=show_id,
        user=user,
        seat_ids=body.seat_ids,
        admission_token=x_admission_token,
    )
    read = HoldRead.of(held)
    read.suggested_products = await service.goods_to_offer(runtime, held)
    return read


@router.get("/holds/{hold_id}", response_model=HoldRead, operation_id="get_hold")
async def get_hold(hold_id: HoldId, uow: UoW, runtime: RuntimeDep, user: CurrentUser) -> Any:
    held = await service.get_hold(uow, runtime, hold_id, user)
    read = HoldRead.of(held)
    read.suggested_products = await service.goods_to_offer(runtime, held)
    return read


@router.delete(
    "/holds/{hold_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="release_hold"
)
async def release_hold(
    hold_id: HoldId, uow: UoW, runtime: RuntimeDep, user: CurrentUser
) -> Response:
    await service.cancel_hold(uow, runtime, hold_id, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
