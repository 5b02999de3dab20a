"""orders' routes for a show's seller: its orders, their CSV export, its sales figures,
and the complimentary tickets it gives."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from boxoffice.orders import service
from boxoffice.orders.schemas import (
    CompCreate,
    OrderRead,
    OrderStatusName,
    SalesFigures,
    ShowOrderPage,
    ShowOrderQuery,
)
from boxoffice.platform import csvsafe
from boxoffice.platform.deps import PathId, ReadUoW, RuntimeDep, SellerUser
from boxoffice.platform.openapi import owner_problems, problems
from boxoffice.platform.pages import page_answer

router = APIRouter(tags=["orders"])

ShowId = PathId
_OWNER = owner_problems("show")


@router.get("/shows/{show_id}/orders", response_model=ShowOrderPage, responses=_OWNER)
async def list_show_orders(
    show_id: ShowId, uow: ReadUoW, seller: SellerUser, query: Annotated[ShowOrderQuery, Query()]
) -> Any:
    """The show's orders, newest first, keyset-paged (``cursor``); ``status`` filter, ``q`` =
    a buyer's e-mail or an order id."""
    return page_answer(await service.show_orders(uow, seller, show_id, query))


@router.get(
    "/shows/{show_id}/orders/export",
    response_class=StreamingResponse,
    responses={**_OWNER, **csvsafe.responses("CSV, streamed")},
)
async def export_show_orders(
    show_id: ShowId,
    runtime: RuntimeDep,
    seller: SellerUser,
    order_status: Annotated[OrderStatusName | None, Query(alias="status")] = None,
) -> Response:
    """Every order of the show as CSV (UTF-8 with a BOM), streamed as it is read."""
    rows = await service.export_orders(runtime, seller, show_id, status=order_status)
    return csvsafe.download(rows, f"orders-{show_id}.csv")


@router.get("/shows/{show_id}/sales", response_model=SalesFigures, responses=_OWNER)
async def get_show_sales(show_id: ShowId, uow: ReadUoW, seller: SellerUser) -> Any:
    """Paid orders, tickets sold, revenue and refunds, and paid orders per minute."""
    return await service.sales_figures(uow, seller, show_id)


@router.post(
    "/shows/{show_id}/comps",
    response_model=OrderRead,
    status_code=201,
    responses=_OWNER
    | problems(
        {
            404: "no such show, or no account has the recipient's e-mail",
            409: "seat_unavailable (seat_ids: held or sold now), conflict",
        }
    ),
)
async def issue_comps(
    show_id: ShowId, body: CompCreate, runtime: RuntimeDep, seller: SellerUser
) -> Any:
    """Complimentary tickets: the seats (blocked by the box office, or free) given to the
    account with ``recipient_email`` — a paid order of 0, provider ``comp``, its tickets
    issued at once; all seats or none."""
    return await service.issue_comps(
        runtime,
        seller,
        show_id,
        seat_ids=body.seat_ids,
        recipient_email=body.recipient_email,
        note=body.note,
    )
