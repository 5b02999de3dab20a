"""Stock reservations for orders: reserve, release, consume, return.

None of these commits: they run inside the caller's (orders') unit of work, so an order
and the stock it takes are saved together or not at all. Every stock change is one
conditional UPDATE that the database judges (``stock >= :q``), so concurrent orders,
processes and hosts can never take more units than exist. Rows are locked in one order
everywhere (the user's per-product counters by product id, then variants by SKU) so that
two transactions touching the same rows cannot deadlock each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, update

from boxoffice.catalog import service as catalog
from boxoffice.catalog.contracts import SaleNotOpen
from boxoffice.merch import domain
from boxoffice.merch.contracts import ReservedItem
from boxoffice.merch.domain import ProductStatus, ReservationStatus
from boxoffice.merch.errors import (
    AlreadyReturned,
    InvalidItems,
    OutOfStock,
    PurchaseLimitExceeded,
)
from boxoffice.merch.models import Product, Reservation, UserProductUnits, Variant
from boxoffice.merch.stock import ensure_counter, put_back, take_stock, uncount, units_held
from boxoffice.platform.db import record_of
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork

log = structlog.get_logger("boxoffice.merch")

# How long a reservation lives when the caller gives no expiry, and how long past its
# expiry the sweeper waits before releasing it (orders' own expiry releases it first).
DEFAULT_RESERVATION_MINUTES = 30
SWEEP_GRACE = timedelta(minutes=5)


@dataclass(frozen=True)
class _Line:
    variant: Variant
    product: Product
    quantity: int


async def reserve_items(
    uow: UnitOfWork,
    runtime: Runtime,
    *,
    order_id: str,
    user_id: str,
    items: Sequence[tuple[str, int]],
    expires_at: datetime | None = None,
) -> list[ReservedItem]:
    """Take ``items`` ((sku, quantity) pairs) from stock for ``order_id``; does not commit.

    All or nothing (an exception leaves the caller's transaction to roll back). Raises
    ``InvalidItems`` (422 ``validation_error``: unknown SKU, bad quantity), ``SaleNotOpen``
    (422: product hidden or its event not published), ``PurchaseLimitExceeded`` (422: the
    user's reserved + bought units of a product would pass its ``max_per_user``) and
    ``OutOfStock`` (422 ``out_of_stock`` with ``sku`` and ``available``). ``expires_at`` is
    when the order lapses; a reservation still held well after it is released by the
    ``merch.release_expired_reservations`` job.
    """
    try:
        wanted = domain.order_lines(items)
    except ValueError as exc:
        raise InvalidItems(str(exc), errors=[{"loc": ["body", "items"], "msg": str(exc)}]) from exc
    if not wanted:
        return []
    lines = await _load_lines(uow, wanted)
    await _check_on_sale(uow, lines)
    await _count_against_limits(uow, user_id, lines)
    for line in lines:
        await take_stock(uow, line.variant, line.quantity)
    now = uow.clock.now()
    expiry = expires_at or now + timedelta(minutes=DEFAULT_RESERVATION_MINUTES)
    reserved = []
    for line in lines:
        reservation = Reservation(
            id=new_id(),
            order_id=order_id,
            user_id=user_id,
            product_id=line.product.id,
            variant_id=line.variant.id,
            sku=line.variant.sku,
            quantity=line.quantity,
            unit_price=line.product.price,
            currency=line.product.currency,
            status=ReservationStatus.RESERVED.value,
            expires_at=expiry,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(reservation)
        reserved.append(_item(reservation, line.product, line.variant))
    await uow.session.flush()
    return reserved


async def release_items(uow: UnitOfWork, runtime: Runtime, *, order_id: str) -> list[ReservedItem]:
    """Give back the stock of the order's unpaid reservations (order expired or failed).

    Idempotent: a reservation is released once, whoever calls. Paid (consumed) lines are
    left alone — cancelling a paid order is :func:`return_items`. Does not commit; returns
    every merch line of the order as it now stands.
    """
    await _give_back(uow, order_id, {ReservationStatus.RESERVED: ReservationStatus.RELEASED})
    return await _order_items(uow, order_id)


async def return_items(uow: UnitOfWork, runtime: Runtime, *, order_id: str) -> list[ReservedItem]:
    """Give back the stock of a cancelled order: paid lines become ``returned``, unpaid
    ones ``released``. Idempotent; does not commit; returns the order's lines."""
    await _give_back(
        uow,
        order_id,
        {
            ReservationStatus.CONSUMED: ReservationStatus.RETURNED,
            ReservationStatus.RESERVED: ReservationStatus.RELEASED,
        },
    )
    return await _order_items(uow, order_id)


async def consume_items(uow: UnitOfWork, runtime: Runtime, *, order_id: str) -> list[ReservedItem]:
    """Mark the order's goods as sold (the order was paid). Idempotent; does not commit.

    A line released meanwhile (the order lapsed, then the payment arrived late) is taken
    again if the stock and the user's limit still allow it — like seating reviving an
    expired hold; otherwise ``OutOfStock`` / ``PurchaseLimitExceeded`` is raised so that
    orders refunds the payment. Raises ``AlreadyReturned`` (409) for a cancelled order.
    """
    reservations = await _reservations(uow, order_id)
    if any(r.status == ReservationStatus.RETURNED for r in reservations):
        raise AlreadyReturned("The goods of this order were returned; it cannot be paid again.")
    now = uow.clock.now()
    revive: list[Reservation] = []
    for reservation in reservations:
        if reservation.status == ReservationStatus.RESERVED:
            moved = await _move(
                uow, reservation, ReservationStatus.RESERVED, ReservationStatus.CONSUMED, now
            )
            if not moved:  # released by the sweeper between our read and our update
                revive.append(reservation)
        elif reservation.status == ReservationStatus.RELEASED:
            revive.append(reservation)
    if revive:
        await _revive(uow, revive, now)
    return await _order_items(uow, order_id)


async def release_expired(runtime: Runtime, *, batch: int = 200) -> int:
    """Release reservations held past their expiry plus a grace period; returns units freed.

    A safety net behind orders' own expiry: each order is released in its own unit of
    work, so one failure does not hold the others back.
    """
    cutoff = runtime.clock.now() - SWEEP_GRACE
    async with runtime.uow() as uow:
        rows = await uow.session.execute(
            select(Reservation.order_id)
            .where(
                Reservation.status == ReservationStatus.RESERVED.value,
                Reservation.expires_at <= cutoff,
            )
            .group_by(Reservation.order_id)
            .limit(batch)
        )
        order_ids = [row[0] for row in rows]
    freed = 0
    for order_id in order_ids:
        async with runtime.uow() as uow:
            freed += await _give_back(
                uow,
                order_id,
                {ReservationStatus.RESERVED: ReservationStatus.RELEASED},
                expired_before=cutoff,
            )
            await uow.commit()
    if freed:
        log.info("merch_reservations_expired", orders=len(order_ids), units=freed)
    return freed


# --- internals -------------------------------------------------------------------------


async def _load_lines(uow: UnitOfWork, wanted: list[tuple[str, int]]) -> list[_Line]:
    skus = [sku for sku, _ in wanted]
    rows = await uow.session.execute(
        select(Variant, Product)
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.sku.in_(skus))
    )
    found = {variant.sku: (variant, product) for variant, product in rows.all()}
    missing = [sku for sku in skus if sku not in found]
    if missing:
        raise InvalidItems(
            f"Unknown SKU: {', '.join(missing)}.",
            sku=missing[0],
            errors=[{"loc": ["body", "items", sku], "msg": "unknown sku"} for sku in missing],
        )
    return [_Line(found[sku][0], found[sku][1], quantity) for sku, quantity in wanted]


async def _check_on_sale(uow: UnitOfWork, lines: list[_Line]) -> None:
    for line in lines:
        status = ProductStatus(line.product.status)
        if status is ProductStatus.HIDDEN:
            raise SaleNotOpen(f"{line.product.name} is not on sale.", sku=line.variant.sku)
        if status is ProductStatus.SOLD_OUT:
            raise OutOfStock(f"{line.product.name} is sold out.", sku=line.variant.sku, available=0)
    for event_id in sorted({line.product.event_id for line in lines}):
        event = await catalog.event_summary(uow, event_id)
        if event is None or event.status != "published":
            sku = next(li.variant.sku for li in lines if li.product.event_id == event_id)
            raise SaleNotOpen("The goods of this event are not on sale.", sku=sku)


async def _count_against_limits(uow: UnitOfWork, user_id: str, lines: list[_Line]) -> None:
    per_product: dict[str, int] = defaultdict(int)
    products: dict[str, Product] = {}
    for line in lines:
        per_product[line.product.id] += line.quantity
        products[line.product.id] = line.product
    for product_id in sorted(per_product):
        product, quantity = products[product_id], per_product[product_id]
        await ensure_counter(uow, user_id, product_id)
        counted = UserProductUnits.units + quantity
        statement = update(UserProductUnits).where(
            UserProductUnits.user_id == user_id, UserProductUnits.product_id == product_id
        )
        if product.max_per_user is not None:
            # The row lock serialises one user's concurrent orders; the condition decides.
            statement = statement.where(counted <= product.max_per_user)
        result = await uow.session.execute(
            statement.values(units=counted).execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            already = await units_held(uow, user_id, product_id)
            raise PurchaseLimitExceeded(
                f"You may buy at most {product.max_per_user} of {product.name}; "
                f"you already have {already}.",
                product_id=product_id,
                limit=product.max_per_user,
                already=already,
            )


async def _move(
    uow: UnitOfWork,
    reservation: Reservation,
    source: ReservationStatus,
    target: ReservationStatus,
    now: datetime,
) -> bool:
    """Move one reservation ``source`` → ``target``; False if someone else moved it first."""
    result = await uow.session.execute(
        update(Reservation)
        .where(Reservation.id == reservation.id, Reservation.status == source.value)
        .values(status=target.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def _give_back(
    uow: UnitOfWork,
    order_id: str,
    moves: dict[ReservationStatus, ReservationStatus],
    *,
    expired_before: datetime | None = None,
) -> int:
    """Move the order's reservations as ``moves`` says and put their units back in stock."""
    now = uow.clock.now()
    reservations = await _reservations(uow, order_id)
    moved: list[Reservation] = []
    for reservation in sorted(reservations, key=lambda r: r.sku):
        source = ReservationStatus(reservation.status)
        if source not in moves:
            continue
        if expired_before is not None and reservation.expires_at > expired_before:
            continue
        if await _move(uow, reservation, source, moves[source], now):
            moved.append(reservation)
    by_product: dict[tuple[str, str], int] = defaultdict(int)
    for reservation in moved:
        by_product[(reservation.user_id, reservation.product_id)] += reservation.quantity
    for (user_id, product_id), quantity in sorted(by_product.items(), key=lambda kv: kv[0][1]):
        await uncount(uow, user_id, product_id, quantity)
    for reservation in moved:  # already in SKU order
        await put_back(uow, reservation.variant_id, reservation.quantity)
    return sum(r.quantity for r in moved)


async def _revive(uow: UnitOfWork, reservations: list[Reservation], now: datetime) -> None:
    """Take stock again for released lines of an order that was paid after all."""
    ids = [r.variant_id for r in reservations]
    rows = await uow.session.execute(
        select(Variant, Product)
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.id.in_(ids))
    )
    found = {variant.id: (variant, product) for variant, product in rows.all()}
    lines = sorted(
        (_Line(found[r.variant_id][0], found[r.variant_id][1], r.quantity) for r in reservations),
        key=lambda line: line.variant.sku,
    )
    await _count_against_limits(uow, reservations[0].user_id, lines)
    for line in lines:
        await take_stock(uow, line.variant, line.quantity)
    for reservation in reservations:
        if not await _move(
            uow, reservation, ReservationStatus.RELEASED, ReservationStatus.CONSUMED, now
        ):
            raise AlreadyReturned("The goods of this order changed while it was being paid.")


async def _reservations(uow: UnitOfWork, order_id: str) -> list[Reservation]:
    rows = await uow.session.execute(
        select(Reservation)
        .where(Reservation.order_id == order_id)
        .order_by(Reservation.sku)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


async def _order_items(uow: UnitOfWork, order_id: str) -> list[ReservedItem]:
    rows = await uow.session.execute(
        select(Reservation, Product, Variant)
        .join(Product, Product.id == Reservation.product_id)
        .join(Variant, Variant.id == Reservation.variant_id)
        .where(Reservation.order_id == order_id)
        .order_by(Reservation.sku)
        .execution_options(populate_existing=True)
    )
    return [_item(r, p, v) for r, p, v in rows.all()]


def _item(reservation: Reservation, product: Product, variant: Variant) -> ReservedItem:
    return record_of(
        ReservedItem,
        reservation,
        reservation_id=reservation.id,
        event_id=product.event_id,
        name=product.name,
        option=variant.option,
    )
