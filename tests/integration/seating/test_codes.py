"""Presale codes and vouchers below HTTP: 500 buyers racing for a code limited to 50 →
exactly 50 holds and then 50 paid orders use it; a cancelled order gives its use back;
per-user limits hold (all counted in the database)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text

from boxoffice.catalog.contracts import ShowSaleInfo
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import adapters, codes, holds
from boxoffice.seating import service as seating
from boxoffice.seating.code_rules import CodeInfo
from boxoffice.seating.contracts import HeldSeats
from boxoffice.seating.errors import CodeExhausted
from tests.integration.seating.conftest import OnSale

BUYERS, USES = 500, 50


@pytest.fixture
def seat_count() -> int:
    return BUYERS


async def new_code(runtime: Runtime, on_sale: OnSale, **limits: Any) -> CodeInfo:
    template = {"event_id": on_sale.info.event_id, "percent_off": 10, **limits}
    async with runtime.uow() as uow:
        rows = await codes.create(uow, template, [f"FAN{new_id()[:8]}".upper()], None)
        await uow.commit()
    return codes.info_of(rows[0])


async def hold_with(
    runtime: Runtime, on_sale: OnSale, seat_ids: list[str], code: CodeInfo, user_id: str
) -> HeldSeats:
    layout = await adapters.seating_of(runtime).snapshots.layout(on_sale.show_id)

    async def refresh(_uow: UnitOfWork) -> ShowSaleInfo:
        return on_sale.info

    request = replace(holds.attempt(on_sale.info, layout, user_id, seat_ids), code=code)
    return await holds.hold(runtime, request, refresh)


async def count(runtime: Runtime, sql: str, **params: object) -> int:
    async with runtime.uow() as uow:
        return int((await uow.session.execute(text(sql), params)).scalar_one())


async def pay(runtime: Runtime, on_sale: OnSale, hold_id: str, order_id: str) -> None:
    async with runtime.uow() as uow:
        await seating.sell_hold(uow, runtime, hold_id, order_id=order_id, info=on_sale.info)
        await uow.commit()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_500_racing_redemptions_of_a_code_limited_to_50_make_50_paid_orders(
    runtime: Runtime, on_sale: OnSale
) -> None:
    code = await new_code(runtime, on_sale, max_uses=USES)

    async def attempt(seat_id: str) -> HeldSeats | CodeExhausted:
        try:
            return await hold_with(runtime, on_sale, [seat_id], code, new_id())
        except CodeExhausted as refused:
            return refused

    outcomes = await asyncio.gather(*(attempt(s) for s in on_sale.seat_ids))
    won = [o for o in outcomes if isinstance(o, HeldSeats)]
    assert len(won) == USES
    assert sum(isinstance(o, CodeExhausted) for o in outcomes) == BUYERS - USES
    assert {seat.price for hold in won for seat in hold.seats} == {165_000 * 9 // 10}

    orders = {hold.hold_id: new_id() for hold in won}
    await asyncio.gather(*(pay(runtime, on_sale, h, o) for h, o in orders.items()))
    spent = "SELECT count(*) FROM seating_code_redemptions WHERE code_id = :c AND status = :s"
    assert await count(runtime, spent, c=code.id, s="spent") == USES
    sold_orders = (
        "SELECT count(DISTINCT order_id) FROM seating_seats WHERE show_id = :s AND status = 'sold'"
    )
    assert await count(runtime, sold_orders, s=on_sale.show_id) == USES
    taken = {seat.seat_id for hold in won for seat in hold.seats}
    free = [seat_id for seat_id in on_sale.seat_ids if seat_id not in taken]
    with pytest.raises(CodeExhausted):
        await hold_with(runtime, on_sale, free[:1], code, new_id())

    # A cancelled order gives its use back: one more buyer may use the code.
    given_back = won[0]
    async with runtime.uow() as uow:
        await seating.release_sold_seats(
            uow,
            runtime,
            show_id=on_sale.show_id,
            seat_ids=[seat.seat_id for seat in given_back.seats],
            order_id=orders[given_back.hold_id],
        )
        await uow.commit()
    assert await count(runtime, spent, c=code.id, s="released") == 1
    again = await hold_with(runtime, on_sale, free[:1], code, new_id())
    assert again.amount == 165_000 * 9 // 10
    with pytest.raises(CodeExhausted):
        await hold_with(runtime, on_sale, free[1:2], code, new_id())


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_buyer_racing_with_a_per_user_code_uses_it_once(
    runtime: Runtime, on_sale: OnSale
) -> None:
    code = await new_code(
        runtime, on_sale, max_uses_per_user=1, amount_off=20_000, percent_off=None
    )
    buyer = new_id()

    async def attempt(seat_id: str) -> HeldSeats | CodeExhausted:
        try:
            return await hold_with(runtime, on_sale, [seat_id], code, buyer)
        except CodeExhausted as refused:
            return refused

    outcomes = await asyncio.gather(*(attempt(s) for s in on_sale.seat_ids[:10]))
    won = [o for o in outcomes if isinstance(o, HeldSeats)]
    assert len(won) == 1
    assert won[0].amount == 165_000 - 20_000
    assert {o.extra["scope"] for o in outcomes if isinstance(o, CodeExhausted)} == {"user"}
