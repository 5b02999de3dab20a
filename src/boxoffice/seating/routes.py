"""seating's HTTP routes: parse, call one service function, shape the response."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from boxoffice.platform.deps import CurrentUser, RuntimeDep, UoW
from boxoffice.platform.errors import Unauthorized
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, TokenUse, principal_from_claims
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import service
from boxoffice.seating.schemas import HoldCreate, HoldRead, SeatMapRead

router = APIRouter(tags=["seating"])

# The hold and seat-map routes are the sale's hot path. The platform's dependencies are
# plain functions, which FastAPI runs in its thread pool (three thread hops per request);
# these are the same steps as coroutines on the event loop.
_bearer = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth/login")


async def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _uow(runtime: Annotated[Runtime, Depends(_runtime)]) -> AsyncIterator[UnitOfWork]:
    async with runtime.uow() as uow:
        yield uow


async def _user(
    runtime: Annotated[Runtime, Depends(_runtime)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized("Sign in and send the access token as 'Authorization: Bearer ...'.")
    if credentials.scheme.lower() != "bearer":
        raise Unauthorized("Use a Bearer access token.")
    claims = runtime.keys.verify(credentials.credentials, use=TokenUse.ACCESS)
    return principal_from_claims(claims)


FastRuntime = Annotated[Runtime, Depends(_runtime)]
FastUoW = Annotated[UnitOfWork, Depends(_uow)]
FastUser = Annotated[Principal, Depends(_user)]
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
    uow: FastUoW,
    runtime: FastRuntime,
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
    uow: FastUoW,
    runtime: FastRuntime,
    user: FastUser,
    x_admission_token: Annotated[str | None, Header()] = None,
) -> Any:
    held = await service.hold_seats(
        uow,
        runtime,
        show_id=show_id,
        user=user,
        seat_ids=body.seat_ids,
        admission_token=x_admission_token,
    )
    return HoldRead.of(held)


@router.get("/holds/{hold_id}", response_model=HoldRead, operation_id="get_hold")
async def get_hold(hold_id: HoldId, uow: UoW, runtime: RuntimeDep, user: CurrentUser) -> Any:
    return HoldRead.of(await service.get_hold(uow, runtime, hold_id, user))


@router.delete(
    "/holds/{hold_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="release_hold"
)
async def release_hold(
    hold_id: HoldId, uow: UoW, runtime: RuntimeDep, user: CurrentUser
) -> Response:
    await service.cancel_hold(uow, runtime, hold_id, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
