"""seating's HTTP routes: parse, call one service function, shape the response."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response, status

from boxoffice.platform.deps import CurrentUser, RuntimeDep, UoW
from boxoffice.seating import service
from boxoffice.seating.schemas import SeatMapRead

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


@router.delete(
    "/holds/{hold_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="release_hold"
)
async def release_hold(hold_id: HoldId, runtime: RuntimeDep, user: CurrentUser) -> Response:
    await service.cancel_hold(runtime, hold_id, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
