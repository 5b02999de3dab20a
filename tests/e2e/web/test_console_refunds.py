"""Refunds from the console's orders list, in real Chromium: the seller opens an order's
refund dialog, sees the buyer's cancellation fee computed by the API, refunds one order
minus that fee and another in full; the table, the database and the provider agree."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import expect
from sqlalchemy import text

from tests.e2e.web.conftest import Shop, new_page
from tests.e2e.web.helpers import log_in
from tests.support.api import API, Caller, customer
from tests.support.browser import screenshot
from tests.support.catalog import ShowSetup, open_show
from tests.support.orders import hold_seats, place_order

pytestmark = pytest.mark.slow


async def _buy(shop: Shop, show: ShowSetup, fan: Caller, seats: list[str]) -> dict[str, Any]:
    hold = await hold_seats(shop.http, fan, show.show_id, seats)
    order = (await place_order(shop.http, fan, hold["hold_id"])).json()
    paid = await shop.http.post(f"{API}/orders/{order['id']}/pay", headers=fan.headers)
    assert paid.status_code == 200, paid.text
    body: dict[str, Any] = paid.json()
    return body


async def test_a_seller_refunds_from_the_orders_list_with_the_fee_computed(
    shop: Shop, browser: object
) -> None:
    show = await open_show(shop.http, shop.runtime, rows=2, seats_per_row=5)
    fan = await customer(shop.http, "refundfan")
    kept = await _buy(shop, show, fan, show.seat_ids[:2])
    full = await _buy(shop, show, fan, show.seat_ids[2:3])
    async with shop.runtime.uow() as uow:  # bought eight days ago: past the free week
        await uow.session.execute(
            text("UPDATE orders_orders SET paid_at = :t WHERE user_id = :u"),
            {"t": shop.clock.now() - timedelta(days=8), "u": fan.id},
        )
        await uow.commit()

    page = await new_page(browser, locale="en-US")
    await page.set_viewport_size({"width": 1280, "height": 900})
    await log_in(page, shop.url, show.seller.email, f"/console/shows/{show.show_id}/orders")
    await expect(page.locator("#orders tbody tr")).to_have_count(2)

    await page.click(f'#orders [data-refund="{kept["id"]}"]')
    await page.wait_for_selector("#refund-dialog[data-ready]")
    dialog = page.locator("#refund-dialog")
    await expect(dialog.locator("[data-field=fee]")).to_have_text("₩8,000")  # ₩4,000 a ticket
    await expect(dialog.locator("[data-field=refund]")).to_have_text(f"₩{kept['amount'] - 8000:,}")
    await expect(dialog.locator("[data-field=refundable]")).to_have_text(f"₩{kept['amount']:,}")
    await shop.check_accessibility(page, "console refund dialog")
    # Each line is a small box and its words, inside the dialog (the reason field's full
    # width once stretched the boxes too and pushed the words out of it).
    lines = dialog.locator("[data-field=lines] label")
    await expect(lines).to_have_count(2)
    for line in await lines.all():
        tick = await line.locator("input[type=checkbox]").bounding_box()
        assert tick is not None
        assert tick["width"] < 32, tick
        spill = await line.evaluate("n => n.scrollWidth - n.clientWidth")
        assert spill <= 0, spill
    await screenshot(page, "console-refund")
    await page.fill("#refund-reason", "The balcony is closed")
    await page.click("#refund-dialog [data-refund-mode=fee]")
    row = page.locator(f'#orders tr[data-order="{kept["id"]}"]')
    await expect(row.locator("td").nth(2)).to_have_text("partially_refunded")
    await expect(row.locator("[data-refund]")).to_have_count(0)

    await page.click(f'#orders [data-refund="{full["id"]}"]')
    await page.wait_for_selector("#refund-dialog[data-ready]")
    await page.click("#refund-dialog [data-refund-mode=full]")
    row = page.locator(f'#orders tr[data-order="{full["id"]}"]')
    await expect(row.locator("td").nth(2)).to_have_text("refunded")

    async with shop.runtime.uow() as uow:
        orders = {
            r.id: (r.status, r.refunded_amount, r.fee, r.cancel_reason)
            for r in (
                await uow.session.execute(
                    text(
                        "SELECT id, status, refunded_amount, fee, cancel_reason"
                        " FROM orders_orders WHERE user_id = :u"
                    ),
                    {"u": fan.id},
                )
            ).all()
        }
        live = await uow.session.scalar(
            text("SELECT count(*) FROM tickets_tickets WHERE show_id = :s AND status = 'valid'"),
            {"s": show.show_id},
        )
    assert orders == {
        kept["id"]: ("partially_refunded", kept["amount"] - 8000, 8000, "The balcony is closed"),
        full["id"]: ("refunded", full["amount"], 0, "Refunded by the organiser"),
    }
    assert live == 0
    seats = (await shop.http.get(f"{API}/shows/{show.show_id}/seats")).json()["seats"]
    assert {s["status"] for s in seats} == {"available"}
    assert not page.js_errors, page.js_errors
    assert not shop.violations, shop.violations


async def test_a_seller_refunds_some_seats_of_an_order(shop: Shop, browser: object) -> None:
    show = await open_show(shop.http, shop.runtime, rows=2, seats_per_row=5)
    fan = await customer(shop.http, "partfan")
    order = await _buy(shop, show, fan, show.seat_ids[:3])
    async with shop.runtime.uow() as uow:  # bought eight days ago: past the free week
        await uow.session.execute(
            text("UPDATE orders_orders SET paid_at = :t WHERE id = :o"),
            {"t": shop.clock.now() - timedelta(days=8), "o": order["id"]},
        )
        await uow.commit()
    first, *rest = order["lines"]

    page = await new_page(browser, locale="en-US")
    await log_in(page, shop.url, show.seller.email, f"/console/shows/{show.show_id}/orders")
    await page.click(f'#orders [data-refund="{order["id"]}"]')
    await page.wait_for_selector("#refund-dialog[data-ready]")
    dialog = page.locator("#refund-dialog")
    await expect(dialog.locator("[data-field=fee]")).to_have_text("₩12,000")  # three tickets
    await dialog.locator(f'input[name=line][value="{first["position"]}"]').uncheck()
    await expect(dialog.locator("[data-field=fee]")).to_have_text("₩8,000")  # the other two
    worth = sum(line["amount"] for line in rest)
    await expect(dialog.locator("[data-field=refundable]")).to_have_text(f"₩{worth:,}")
    await expect(dialog.locator("[data-field=refund]")).to_have_text(f"₩{worth - 8000:,}")
    await shop.check_accessibility(page, "console partial refund")
    await page.click("#refund-dialog [data-refund-mode=fee]")
    await expect(dialog).to_be_hidden()
    row = page.locator(f'#orders tr[data-order="{order["id"]}"]')
    await expect(row.locator("td").nth(2)).to_have_text("paid")
    await expect(row.locator("[data-refund]")).to_have_count(1)  # the seat kept can go too

    async with shop.runtime.uow() as uow:
        lines = [
            tuple(r)
            for r in await uow.session.execute(
                text(
                    "SELECT position, refunded_quantity FROM orders_lines"
                    " WHERE order_id = :o ORDER BY position"
                ),
                {"o": order["id"]},
            )
        ]
        kept = await uow.session.scalar(
            text("SELECT status FROM tickets_tickets WHERE order_id = :o AND seat_id = :s"),
            {"o": order["id"], "s": first["ref"]},
        )
        refunded = await uow.session.scalar(
            text("SELECT refunded_amount FROM orders_orders WHERE id = :o"), {"o": order["id"]}
        )
    assert lines == [(0, 0), (1, 1), (2, 1)]
    assert (kept, refunded) == ("valid", worth - 8000)
    assert not page.js_errors, page.js_errors
    assert not shop.violations, shop.violations
