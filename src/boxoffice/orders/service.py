"""orders' use cases: the only module other contexts may call.

Placing an order commits once; paying, cancelling and reconciling call a payment provider
over the network, so they run as short units of work around the call (``settlement``
says why and how) and take the ``runtime`` rather than one ``uow``. The work lives in
``placing`` (new orders), ``paying`` (the providers' ways in), ``settlement`` (capture →
tickets, or refund), ``refunds``, ``upkeep`` (the jobs) and ``views``; this module is
the face other contexts and the routes use.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select

from boxoffice.merch import service as merch
from boxoffice.orders import (
    cancelling,
    comps,
    paying,
    placing,
    show_sales,
    upkeep,
    views,
    webhooks,
)
from boxoffice.orders import models as models  # tables visible to Alembic
from boxoffice.orders.domain import CancellationQuote
from boxoffice.orders.models import Order
from boxoffice.orders.payments.registry import providers_of
from boxoffice.orders.schemas import OrderRead
from boxoffice.platform import listing
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork

log = structlog.get_logger("boxoffice.orders")

OrderView = OrderRead
create_order = placing.create_order
change_payment = placing.change_payment
pay_internal = paying.pay_internal
confirm_toss = paying.confirm_toss
approve_kakaopay = paying.approve_kakaopay
abort_kakaopay = paying.abort_kakaopay
handle_toss_webhook = webhooks.handle_toss_webhook
read_order = views.read_order
order_in = views.order_in
show_orders = show_sales.show_orders
export_orders = show_sales.export_orders
sales_figures = show_sales.sales_figures
issue_comps = comps.issue_comps


# --- reading -------------------------------------------------------------------------------


async def goods_to_offer(runtime: Runtime, view: OrderView) -> list[dict[str, Any]]:
    """The event's goods not yet in this order, offered while it is pending (bundles)."""
    if view.status != "pending":
        return []
    in_order = {line.ref for line in view.lines if line.kind == "merch"}
    offers = await merch.offered_products(runtime, event_id=view.event_id)
    return [o for o in offers if not {v["sku"] for v in o["variants"]} & in_order]


async def get_order(runtime: Runtime, user: Principal, order_id: str) -> OrderView:
    """The order for its buyer or an admin; anyone else gets ``OrderNotFound`` (404).
    Its own short unit of work."""
    async with runtime.uow() as uow:
        return await views.order_view(uow, await views.visible_order(uow, user, order_id))


async def order_and_cancellation_terms(
    runtime: Runtime, user: Principal, order_id: str
) -> tuple[OrderView, CancellationQuote]:
    """The order and what cancelling it would return now, read in one read-only unit of
    work (the shop's cancel form shows both); ``OrderNotFound`` as :func:`get_order`."""
    async with runtime.uow(read_only=True) as uow:
        view = await views.order_view(uow, await views.visible_order(uow, user, order_id))
        return view, await cancelling.cancellation_terms(uow, runtime, user, order_id)


async def list_orders(
    uow: UnitOfWork, user: Principal, *, cursor: str | None, limit: int
) -> tuple[list[OrderView], str | None]:
    """The user's orders, newest first (ids are time-ordered); ``cursor`` is the last id seen."""
    rows, next_cursor = await listing.keyset_page(
        uow, select(Order).where(Order.user_id == user.id), Order.id, cursor, limit,
        newest_first=True,
    )  # fmt: skip
    return [await views.order_view(uow, order) for order in rows], next_cursor


def payment_providers(runtime: Runtime) -> list[str]:
    """The payment providers this process can take orders with (``internal``, ``toss``, ...)."""
    return providers_of(runtime).names


# --- cancelling (``cancelling``) ----------------------------------------------------------

cancellation_terms = cancelling.cancellation_terms
cancellation_view = cancelling.cancellation_view
cancel_order = cancelling.cancel_order
refund_order_lines = cancelling.refund_order_lines
quote_order_lines = cancelling.quote_order_lines
order_refunds = cancelling.order_refunds
read_refund = cancelling.read_refund
refund_event_orders = cancelling.refund_event_orders
refund_show_orders = cancelling.refund_show_orders
refund_if_show_cancelled = cancelling.refund_if_show_cancelled
show_cancelled = cancelling.show_cancelled


# --- jobs ----------------------------------------------------------------------------------


async def expire_orders(runtime: Runtime) -> int:
    """Job: pending orders past their hold's expiry become ``expired`` (hold and stock back)."""
    return await upkeep.expire(runtime)


async def reconcile_payments(runtime: Runtime) -> int:
    """Job: settle unknown payment outcomes and pending refunds by asking the providers."""
    return await upkeep.reconcile(runtime)
