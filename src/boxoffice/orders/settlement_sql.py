"""The statements and row writes of settlement, built once at import: each guarded update
says in its WHERE what must still be true (the order pending, unclaimed, of this amount)
for it to apply."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, and_, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from boxoffice.orders.domain import OrderStatus
from boxoffice.orders.lifecycle import (
    CAPTURED,
    CONFIRMING,
    PARTIALLY_REFUNDED,
    READY,
    REFUNDED,
    UNKNOWN,
    lock_payment,
)
from boxoffice.orders.models import Order, Payment
from boxoffice.orders.payments.base import ProviderPayment
from boxoffice.platform.db import RowUpdate, UTCDateTime, table_of
from boxoffice.platform.ids import new_id
from boxoffice.platform.uow import UnitOfWork

ORDERS, PAYMENTS = table_of(Order), table_of(Payment)
ORDER_COLUMNS = tuple(ORDERS.c)
PENDING = ORDERS.c.status == OrderStatus.PENDING.value
# Claimed for one confirm: pending, nobody confirming, paid with this provider (and the
# buyer's, and of this amount, when the caller says).
START_CONFIRMING = RowUpdate(
    ORDERS,
    sets=["confirming_since", "updated_at"],
    returning=ORDER_COLUMNS,
    when=and_(
        PENDING,
        ORDERS.c.confirming_since.is_(None),
        ORDERS.c.provider == bindparam("paid_with"),
        or_(
            bindparam("buyer", type_=String()).is_(None),
            ORDERS.c.user_id == bindparam("buyer", type_=String()),
        ),
        or_(
            bindparam("expected_amount", type_=BigInteger()).is_(None),
            ORDERS.c.amount == bindparam("expected_amount", type_=BigInteger()),
        ),
    ),
)
# Paid: pending, and the provider captured exactly the order's amount.
MARK_PAID = RowUpdate(
    ORDERS,
    sets=["status", "paid_at", "updated_at", "confirming_since"],
    returning=ORDER_COLUMNS,
    when=and_(PENDING, ORDERS.c.amount == bindparam("captured", type_=BigInteger())),
)
ATTEMPT_BY_REFERENCE = select(PAYMENTS.c.id, PAYMENTS.c.order_id).where(
    PAYMENTS.c.provider == bindparam("provider"), PAYMENTS.c.reference == bindparam("reference")
)
INSERT_PAYMENT = insert(PAYMENTS)
CAPTURE = (
    update(PAYMENTS)
    .where(
        PAYMENTS.c.id == bindparam("payment"),
        PAYMENTS.c.status.in_((CONFIRMING, UNKNOWN, READY)),
    )
    .values(
        status=CAPTURED,
        captured_amount=bindparam("captured_now"),
        refunded_amount=bindparam("refunded_now"),
        approved_at=bindparam("approved", type_=UTCDateTime()),
        method=bindparam("method"),
        receipt_url=bindparam("receipt"),
        failure_code=None,
        failure_message=None,
        updated_at=bindparam("now", type_=UTCDateTime()),
    )
)


async def insert_payment(
    conn: AsyncConnection,
    *,
    order_id: str,
    provider: str,
    reference: str,
    status: str,
    amount: int,
    now: datetime,
    payment_id: str | None = None,
) -> str:
    """A new payment of the order (nothing captured or refunded yet) in ``conn``'s
    transaction, the one way every path records one; its id. No commit."""
    payment_id = payment_id or new_id()
    await conn.execute(
        INSERT_PAYMENT,
        {
            "id": payment_id,
            "order_id": order_id,
            "provider": provider,
            "reference": reference,
            "status": status,
            "amount": amount,
            "captured_amount": 0,
            "refunded_amount": 0,
            "failure_code": None,
            "failure_message": None,
            "created_at": now,
            "updated_at": now,
            "approved_at": None,
        },
    )
    return payment_id


def receipt_of(captured: ProviderPayment) -> tuple[str | None, str | None]:
    """The payment's method and the provider's receipt page, when it gives them."""
    method, receipt = captured.details.get("method"), captured.details.get("receipt")
    return (str(method)[:32] if method else None, str(receipt)[:500] if receipt else None)


def apply_capture(payment: Payment, captured: ProviderPayment, now: datetime) -> None:
    payment.captured_amount = captured.captured_amount
    payment.refunded_amount = max(payment.refunded_amount, captured.refunded_amount)
    payment.approved_at = captured.approved_at or now
    method, receipt_url = receipt_of(captured)  # a lookup may not say: keep what was said
    payment.method = method or payment.method
    payment.receipt_url = receipt_url or payment.receipt_url
    if payment.status not in (REFUNDED, PARTIALLY_REFUNDED):
        payment.status = CAPTURED
    payment.failure_code = payment.failure_message = None
    payment.updated_at = now


async def capture_payment(uow: UnitOfWork, payment_id: str, captured: ProviderPayment) -> None:
    """The attempt captured what the provider says, as :func:`apply_capture` would: one
    conditional ``UPDATE`` while the attempt is in flight (the common case)."""
    now = uow.clock.now()
    params = {"payment": payment_id, "captured_now": captured.captured_amount}
    params |= {"refunded_now": captured.refunded_amount, "now": now}
    params["approved"] = captured.approved_at or now
    params["method"], params["receipt"] = receipt_of(captured)
    changed = await (await uow.connection()).execute(CAPTURE, params)
    if changed.rowcount != 1:
        apply_capture(await lock_payment(uow, payment_id), captured, now)
