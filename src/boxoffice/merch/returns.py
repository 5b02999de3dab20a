"""Returning some of a paid order's goods (a partial refund): the units go back to stock
and stop counting against the buyer's limit.

A reservation returned in part is split: it keeps the units still sold, and a new
``returned`` reservation holds the units that came back, so every row still says one
thing. Runs inside orders' unit of work (no commit), under the order's lock.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select, update

from boxoffice.merch.domain import ReservationStatus
from boxoffice.merch.errors import AlreadyReturned
from boxoffice.merch.models import Reservation
from boxoffice.merch.stock import put_back, uncount
from boxoffice.platform.ids import new_id
from boxoffice.platform.uow import UnitOfWork

CONSUMED, RETURNED = ReservationStatus.CONSUMED.value, ReservationStatus.RETURNED.value


async def return_units(uow: UnitOfWork, *, order_id: str, units: Mapping[str, int]) -> int:
    """Give back ``units`` (SKU → units) of the order's sold goods; returns the units
    moved. Raises ``AlreadyReturned`` when the order has fewer sold units of a SKU."""
    now = uow.clock.now()
    moved = 0
    for sku in sorted(units):  # the lock order of every stock change: by SKU
        quantity = units[sku]
        if quantity <= 0:
            continue
        reservation = await uow.session.scalar(
            select(Reservation)
            .where(
                Reservation.order_id == order_id,
                Reservation.sku == sku,
                Reservation.status == CONSUMED,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if reservation is None or reservation.quantity < quantity:
            raise AlreadyReturned(f"The order has fewer than {quantity} of {sku} to return.")
        if reservation.quantity == quantity:
            reservation.status, reservation.updated_at = RETURNED, now
        else:
            await uow.session.execute(
                update(Reservation)
                .where(Reservation.id == reservation.id)
                .values(quantity=Reservation.quantity - quantity, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            uow.session.add(
                Reservation(
                    id=new_id(),
                    order_id=order_id,
                    user_id=reservation.user_id,
                    product_id=reservation.product_id,
                    variant_id=reservation.variant_id,
                    sku=sku,
                    quantity=quantity,
                    unit_price=reservation.unit_price,
                    currency=reservation.currency,
                    status=RETURNED,
                    expires_at=reservation.expires_at,
                    created_at=now,
                    updated_at=now,
                )
            )
        await uncount(uow, reservation.user_id, reservation.product_id, quantity)
        await put_back(uow, reservation.variant_id, quantity)
        moved += quantity
    await uow.session.flush()
    return moved
