"""A show's orders as its seller sees them: the list (search, filters, keyset pages), the
CSV export streamed page by page, and the money figures of the live dashboard.

Every entry checks first that the caller is the show's seller (or an admin), through
catalog's ``owned_show``: the same check for the API and the console's pages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select

from boxoffice.catalog import service as catalog
from boxoffice.identity import service as identity
from boxoffice.orders.comps import COMP
from boxoffice.orders.models import Order, OrderLine
from boxoffice.orders.schemas import Buyer, SalesFigures, ShowOrderRead
from boxoffice.platform import listing
from boxoffice.platform.db import record_of
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork

CHART_MINUTES = 15
KEPT = ("paid", "partially_refunded", "refunded")  # money was taken
CSV_COLUMNS = (
    "order_id",
    "status",
    "buyer_email",
    "buyer_name",
    "tickets",
    "amount",
    "refunded_amount",
    "fee",
    "currency",
    "provider",
    "created_at",
    "paid_at",
)


def _read(order: Order, person: identity.Person | None) -> ShowOrderRead:
    buyer = Buyer(
        id=order.user_id,
        email=person.email if person else None,
        name=person.name if person else None,
    )
    return record_of(ShowOrderRead, order, buyer=buyer)


def _cells(order: ShowOrderRead) -> list[Any]:
    return [
        order.id,
        order.status,
        order.buyer.email or "",
        order.buyer.name or "",
        order.ticket_count,
        order.amount,
        order.refunded_amount,
        order.fee,
        order.currency,
        order.provider,
        order.created_at.isoformat(),
        order.paid_at.isoformat() if order.paid_at else "",
    ]


_ORDERS = listing.ShowRows(
    model=Order,
    order=Order.id,
    newest_first=True,
    directory=identity,
    read=_read,
    authorise=catalog.owned_show,
    csv_columns=CSV_COLUMNS,
    csv_cells=_cells,
)


async def show_orders(
    uow: UnitOfWork, principal: Principal, show_id: str, query: listing.SellersQuery
) -> tuple[list[ShowOrderRead], str | None]:
    """The show's orders, newest first; ``query.q`` is a buyer's e-mail (exact) or an order
    id. Raises ``ShowNotFound`` and ``NotEventOwner`` (catalog's)."""
    return await _ORDERS.page(uow, principal, show_id, query)


async def export_orders(
    runtime: Runtime, principal: Principal, show_id: str, *, status: str | None
) -> AsyncIterator[str]:
    """Every one of the show's orders as CSV (UTF-8 with a BOM), streamed page by page
    (:meth:`listing.ShowRows.export`). Raises ``ShowNotFound`` and ``NotEventOwner``
    (catalog's) before the first byte."""
    return await _ORDERS.export(runtime, principal, show_id, status)


async def sales_figures(uow: UnitOfWork, principal: Principal, show_id: str) -> SalesFigures:
    """Paid orders and their tickets (refunded ones left out; complimentary ones counted
    apart, as ``comp_tickets``, and never in the pace), money kept and refunded,
    and paid orders per minute over the last ``CHART_MINUTES`` minutes — one aggregate
    query. Raises like :func:`show_orders`."""
    show = await catalog.owned_show(uow, principal, show_id)
    now = uow.clock.now()
    kept = Order.status.in_(KEPT)
    sold = and_(Order.status == "paid", Order.provider != COMP)
    buckets, last_minute = _pace_columns(now)
    comped = and_(Order.status == "paid", Order.provider == COMP)
    returned = (  # seats given back from an order that stays paid (a partial refund)
        select(func.coalesce(func.sum(OrderLine.refunded_quantity), 0))
        .where(OrderLine.order_id == Order.id, OrderLine.kind == "seat")
        .scalar_subquery()
    )
    row = (
        await uow.session.execute(
            select(
                func.sum(case((sold, 1), else_=0)),
                func.sum(case((sold, Order.ticket_count - returned), else_=0)),
                func.coalesce(func.sum(Order.amount - Order.refunded_amount), 0),
                func.coalesce(func.sum(Order.refunded_amount), 0),
                func.sum(case((comped, Order.ticket_count), else_=0)),
                last_minute,
                *buckets,
            ).where(Order.show_id == show_id, kept)
        )
    ).one()
    paid, tickets, revenue, refunded, comp_tickets, recent, *series = row
    return SalesFigures(
        show_id=show_id,
        currency=show.currency,
        paid_orders=int(paid or 0),
        tickets_sold=int(tickets or 0),
        revenue=int(revenue),
        refunded=int(refunded),
        orders_last_minute=int(recent or 0),
        comp_tickets=int(comp_tickets or 0),
        orders_per_minute=[int(v or 0) for v in series],
    )


def _pace_columns(now: datetime) -> tuple[list[Any], Any]:
    """Sold (not complimentary) orders paid in each of the last ``CHART_MINUTES``
    minutes, and in the sixty seconds before ``now``, as aggregate columns."""
    minute = now.replace(second=0, microsecond=0)
    starts = [minute - timedelta(minutes=CHART_MINUTES - 1 - i) for i in range(CHART_MINUTES)]
    buckets = [
        func.sum(
            case(
                (
                    and_(
                        Order.provider != COMP,
                        Order.paid_at >= start,
                        Order.paid_at < start + timedelta(minutes=1),
                    ),
                    1,
                ),
                else_=0,
            )
        )
        for start in starts
    ]
    last_minute = func.sum(
        case(
            (and_(Order.provider != COMP, Order.paid_at >= now - timedelta(minutes=1)), 1), else_=0
        )
    )
    return buckets, last_minute
