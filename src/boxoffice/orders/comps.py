"""Complimentary tickets (``docs/selling.md``): the event's seller (or an admin) gives seats
of a show — typically seats blocked for the house or the press, or free ones — to an
account, by its e-mail.

A comp is an order like any other, so the recipient sees it and its tickets where they see
their purchases, and a cancellation frees its seats by the usual path: provider ``comp``,
amount 0, paid at once in the transaction that makes it, with a captured payment attempt
of 0 (no provider is called, ever). Its seats are taken by one conditional UPDATE judged
by the database like a hold's claim (``seating.give_seats``), so a seat is never both
comped and held or sold. Sales figures count comps apart (``comp_tickets``), never as
paid orders nor as revenue.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime

import structlog
from sqlalchemy import insert

from boxoffice.catalog import service as catalog
from boxoffice.identity import service as identity
from boxoffice.orders import views
from boxoffice.orders.domain import OrderStatus
from boxoffice.orders.errors import RecipientNotFound
from boxoffice.orders.events import OrderPaid
from boxoffice.orders.lifecycle import CAPTURED
from boxoffice.orders.models import Order, OrderLine, Payment
from boxoffice.orders.schemas import OrderRead
from boxoffice.platform.db import record_of, table_of
from boxoffice.platform.errors import Conflict
from boxoffice.platform.ids import new_id
from boxoffice.platform.jsonutil import dumps
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import service as seating
from boxoffice.seating.contracts import HeldSeat
from boxoffice.tickets import service as tickets
from boxoffice.tickets.contracts import TicketIssue

log = structlog.get_logger("boxoffice.orders")
COMP = "comp"  # the provider of a complimentary order
ORDERS, LINES, PAYMENTS = table_of(Order), table_of(OrderLine), table_of(Payment)


async def issue_comps(
    runtime: Runtime,
    principal: Principal,
    show_id: str,
    *,
    seat_ids: list[str],
    recipient_email: str,
    note: str | None,
) -> OrderRead:
    """Give the seats to the account with ``recipient_email``: a paid order of 0 with its
    tickets, in one transaction. Raises ``ShowNotFound`` (404), ``NotEventOwner`` (403),
    ``RecipientNotFound`` (404), ``Conflict`` (409, the show or event is cancelled),
    ``SeatUnavailable`` (409, ``seat_ids``: held, sold or unknown now)."""
    async with runtime.uow() as uow:
        show = await catalog.owned_show(uow, principal, show_id)
        if "cancelled" in (show.status, show.event_status):
            raise Conflict("The show was cancelled.")
        recipient_id = await identity.user_id_by_email(uow, recipient_email)
        if recipient_id is None:
            raise RecipientNotFound(f"No account has the e-mail {recipient_email}.")
        order_id = new_id()
        seats = await seating.give_seats(
            uow,
            runtime,
            show_id=show_id,
            seat_ids=seat_ids,
            order_id=order_id,
            recipient_id=recipient_id,
        )
        now = uow.clock.now()
        values = _order_values(order_id, recipient_id, show, principal, note, now, len(seats))
        view = await _write(uow, runtime, values, show, seats)
        await uow.commit()
    log.info("comps_issued", order_id=order_id, show_id=show_id, tickets=len(seats))
    return view


async def _write(
    uow: UnitOfWork,
    runtime: Runtime,
    values: dict[str, object],
    show: catalog.OwnedShow,
    seats: list[HeldSeat],
) -> OrderRead:
    """The order, its lines, its zero payment and its tickets; ``OrderPaid`` recorded."""
    order_id, recipient_id = str(values["id"]), str(values["user_id"])
    now = values["paid_at"]
    assert isinstance(now, datetime)
    lines = [views.seat_line(seat, position) for position, seat in enumerate(seats)]
    conn = await uow.connection()
    await conn.execute(insert(ORDERS), values)
    await conn.execute(
        insert(LINES),
        [{"id": new_id(), "order_id": order_id, "amount": 0, **asdict(line)} for line in lines],
    )
    payment: dict[str, object] = {"id": new_id(), "order_id": order_id, "provider": COMP}
    payment |= {"status": CAPTURED, "reference": f"comp_{order_id}", "amount": 0}
    payment |= {"captured_amount": 0, "refunded_amount": 0}
    payment |= {"failure_code": None, "failure_message": None}
    payment |= {"created_at": now, "updated_at": now, "approved_at": now}
    await conn.execute(insert(PAYMENTS), payment)
    issue = record_of(TicketIssue, show, order_id=order_id, user_id=recipient_id)
    free_seats = [replace(seat, price=0) for seat in seats]
    ticket_ids = await tickets.issue_tickets(uow, runtime, issue, free_seats)
    uow.record(
        OrderPaid(
            order_id=order_id,
            user_id=recipient_id,
            amount=0,
            currency=show.currency,
            show_id=show.show_id,
            ticket_ids=ticket_ids,
            seller_id=show.seller_id,  # the seller's webhooks hear of comps too
        )
    )
    return views.order_read(_Row(values), lines, ticket_ids)


class _Row:
    def __init__(self, values: dict[str, object]) -> None:
        self.__dict__.update(values)


def _order_values(
    order_id: str,
    recipient_id: str,
    show: catalog.OwnedShow,
    issuer: Principal,
    note: str | None,
    now: datetime,
    count: int,
) -> dict[str, object]:
    """The order's row: paid at once, at 0; who gave it and why are in its ``payment``
    (the answer's ``payment: {provider: "comp", issued_by, note}``)."""
    return {
        "id": order_id,
        "user_id": recipient_id,
        "status": OrderStatus.PAID.value,
        "provider": COMP,
        "currency": show.currency,
        "amount": 0,
        "ticket_amount": 0,
        "ticket_count": count,
        "refunded_amount": 0,
        "fee": 0,
        "name": f"{show.title} (complimentary)"[:200],
        "show_id": show.show_id,
        "event_id": show.event_id,
        "seller_id": show.seller_id,
        "hold_id": None,
        "delivery": None,
        "checkout": dumps({"issued_by": issuer.id, "note": note}).decode(),
        # Unique per (user, key): one comp order per key; the issuer is kept here.
        "idempotency_key": f"comp:{order_id}",
        "request_hash": "",
        "failure_reason": None,
        "cancel_reason": None,
        "confirming_since": None,
        "created_at": now,
        "updated_at": now,
        "expires_at": now,
        "paid_at": now,
        "closed_at": None,
    }
