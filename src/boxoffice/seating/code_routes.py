"""Presale codes and vouchers over HTTP: the event's seller manages them (docs/selling.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from boxoffice.platform import csvsafe
from boxoffice.platform.deps import PathId, ReadUoW, RuntimeDep, SellerUser, UoW
from boxoffice.platform.openapi import owner_problems, problems
from boxoffice.seating import code_admin
from boxoffice.seating.code_schemas import (
    CodeBatch,
    CodeCreate,
    CodeRead,
    CodeUpdate,
    RedemptionRead,
)

router = APIRouter(tags=["seating"])
Id = PathId
Batch = Annotated[str | None, Query(max_length=64)]
_OWNER = owner_problems("event", "code")


@router.post(
    "/events/{event_id}/codes",
    status_code=status.HTTP_201_CREATED,
    response_model=CodeBatch,
    responses=_OWNER
    | problems({409: "conflict: the event already has this code", 422: "validation_error"}),
)
async def create_codes(event_id: Id, body: CodeCreate, uow: UoW, seller: SellerUser) -> Any:
    return await code_admin.create(uow, seller, event_id, body)


@router.get("/events/{event_id}/codes", response_model=list[CodeRead], responses=_OWNER)
async def list_codes(event_id: Id, uow: ReadUoW, seller: SellerUser, batch_id: Batch = None) -> Any:
    return await code_admin.listing(uow, seller, event_id, batch_id)


@router.get(
    "/events/{event_id}/codes.csv",
    response_class=Response,
    responses=_OWNER | csvsafe.responses("the codes as CSV"),
)
async def export_codes(
    event_id: Id, uow: ReadUoW, seller: SellerUser, batch_id: Batch = None
) -> Response:
    body = await code_admin.as_csv(uow, seller, event_id, batch_id)
    return csvsafe.download(body, f"codes-{event_id}.csv")


@router.patch("/codes/{code_id}", response_model=CodeRead, responses=_OWNER)
async def update_code(code_id: Id, body: CodeUpdate, uow: UoW, seller: SellerUser) -> Any:
    return await code_admin.update(uow, seller, code_id, body.active)


@router.get("/codes/{code_id}/redemptions", response_model=list[RedemptionRead], responses=_OWNER)
async def list_code_redemptions(
    code_id: Id, uow: ReadUoW, runtime: RuntimeDep, seller: SellerUser
) -> Any:
    return await code_admin.redemptions(runtime, uow, seller, code_id)
