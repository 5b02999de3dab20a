"""The rows behind a reservation: variant stock taken and put back with guarded updates, and
the per-buyer counters that bound how many units of a product one buyer holds."""

from __future__ import annotations

from sqlalchemy import case, select, update
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from boxoffice.merch.errors import OutOfStock
from boxoffice.merch.models import UserProductUnits, Variant
from boxoffice.platform.uow import UnitOfWork


async def ensure_counter(uow: UnitOfWork, user_id: str, product_id: str) -> None:
    values = {"user_id": user_id, "product_id": product_id, "units": 0}
    dialect = uow.session.get_bind().dialect.name
    statement: Insert
    if dialect == "postgresql":
        statement = postgresql.insert(UserProductUnits).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(UserProductUnits).values(values).on_conflict_do_nothing()
    else:
        # Not INSERT IGNORE: on a duplicate it takes a shared lock that two transactions
        # then both try to upgrade for the UPDATE (deadlock). This takes the exclusive one.
        upsert = mysql.insert(UserProductUnits).values(values)
        statement = upsert.on_duplicate_key_update(units=UserProductUnits.units)
    await uow.session.execute(statement)


async def units_held(uow: UnitOfWork, user_id: str, product_id: str) -> int:
    value = await uow.session.scalar(
        select(UserProductUnits.units).where(
            UserProductUnits.user_id == user_id, UserProductUnits.product_id == product_id
        )
    )
    return int(value or 0)


async def take_stock(uow: UnitOfWork, variant: Variant, quantity: int) -> None:
    result = await uow.session.execute(
        update(Variant)
        .where(Variant.id == variant.id, Variant.stock >= quantity)
        .values(stock=Variant.stock - quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        available = await uow.session.scalar(select(Variant.stock).where(Variant.id == variant.id))
        raise OutOfStock(
            f"Not enough {variant.sku} in stock ({available or 0} left).",
            sku=variant.sku,
            available=int(available or 0),
        )


async def put_back(uow: UnitOfWork, variant_id: str, quantity: int) -> None:
    await uow.session.execute(
        update(Variant)
        .where(Variant.id == variant_id)
        .values(stock=Variant.stock + quantity)
        .execution_options(synchronize_session=False)
    )


async def uncount(uow: UnitOfWork, user_id: str, product_id: str, quantity: int) -> None:
    await uow.session.execute(
        update(UserProductUnits)
        .where(UserProductUnits.user_id == user_id, UserProductUnits.product_id == product_id)
        .values(
            units=case(
                (UserProductUnits.units > quantity, UserProductUnits.units - quantity), else_=0
            )
        )
        .execution_options(synchronize_session=False)
    )
