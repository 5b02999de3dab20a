"""Seats picked with the keyboard on a map drawn section by section, and an order cancelled
from "my orders" with its fee shown before confirming."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.e2e.web.conftest import Shop, new_page
from tests.e2e.web.helpers import count_answers, log_in
from tests.support.api import API, customer
from tests.support.browser import screenshot
from tests.support.catalog import open_show
from tests.support.orders import paid_order

pytestmark = pytest.mark.slow


async def test_seats_are_picked_with_the_keyboard_section_by_section(
    shop: Shop, browser: object
) -> None:
    shop.app.state.web_settings.overview_above_seats = 30  # as a stadium is drawn
    show = await open_show(shop.http, shop.runtime, rows=4, seats_per_row=10)  # 40 seats
    fan = await new_page(browser)
    email = (await customer(shop.http, "keys")).email
    await log_in(fan, shop.url, email, f"/shows/{show.show_id}/seats")
    await fan.wait_for_selector("#picker[data-ready]")
    assert await fan.locator("g[data-section]").count() == 2  # sections first
    await screenshot(fan, "seat-map-sections")

    await fan.focus('g[data-section="VIP floor"]')
    await fan.keyboard.press("Enter")  # then that section's seats
    await fan.wait_for_selector("#map-back:not([hidden])")
    assert await fan.locator("circle.seat").count() == 20

    await fan.focus("#seat-list summary")
    await fan.keyboard.press("Enter")  # the list alternative opens
    await fan.focus("#seat-options input[type=checkbox]")
    await fan.keyboard.press("Space")
    await fan.keyboard.press("Tab")
    await fan.keyboard.press("Space")
    assert await fan.text_content("#chosen-count") == "2"
    await shop.check_accessibility(fan, "seat list")
    await screenshot(fan, "seat-list")
    await fan.focus("#hold")
    await fan.keyboard.press("Enter")
    await fan.wait_for_url("**/checkout/*")
    assert not fan.js_errors, fan.js_errors
    assert not shop.violations, shop.violations


@pytest.mark.parametrize("answered", ["in time", "too late"])
async def test_cancelling_shows_the_fee_first(shop: Shop, browser: object, answered: str) -> None:
    """Also when the gateway's 504 stands in for the API's answer: the page reads the order
    back, finds it refunded and says so, without asking to cancel again (that is a 409)."""
    show = await open_show(shop.http, shop.runtime, rows=2, seats_per_row=10)
    buyer = await customer(shop.http, "canceller")
    order = await paid_order(shop.http, buyer, show, seats=2)

    fan = await new_page(browser)
    await log_in(fan, shop.url, buyer.email, "/account/orders")
    await fan.click(f'[data-cancel="{order["id"]}"]')
    dialog = fan.locator("#cancel-dialog")
    await dialog.locator("[data-fee]").wait_for()
    fee = int(await dialog.locator("[data-fee]").get_attribute("data-fee") or "-1")
    refund = int(await dialog.locator("[data-refund]").get_attribute("data-refund") or "-1")
    assert fee + refund == order["amount"]
    await shop.check_accessibility(fan, "cancel dialog")
    await screenshot(fan, "cancel-dialog")
    late = answered == "too late"
    asked = await count_answers(fan, "**/api/v1/orders/*/cancel", first_too_late=late)
    await fan.click("#cancel-confirm")
    await fan.wait_for_selector(f'.order[data-order="{order["id"]}"][data-status=refunded]')
    assert asked == [200]  # cancelled once
    await screenshot(fan, f"cancelled-answered-{answered}")
    assert not fan.js_errors, fan.js_errors
    assert not shop.violations, shop.violations


@pytest.mark.parametrize("answered", ["in time", "too late"])
async def test_returning_one_seat_of_two(shop: Shop, browser: object, answered: str) -> None:
    """Also when the gateway's 504 stands in for the API's answer: the page reads the order
    back, finds the ticked line returned and closes, without asking again."""
    show = await open_show(shop.http, shop.runtime, rows=2, seats_per_row=10)
    buyer = await customer(shop.http, "returner")
    order = await paid_order(shop.http, buyer, show, seats=2)
    kept, returned = order["lines"]

    fan = await new_page(browser, locale="en-US")
    await log_in(fan, shop.url, buyer.email, "/account/orders")
    await fan.click(f'[data-cancel="{order["id"]}"]')
    dialog = fan.locator("#cancel-dialog")
    await dialog.locator("#cancel-lines").wait_for()
    await dialog.locator(f'input[name=line][value="{kept["position"]}"]').uncheck()
    refund = dialog.locator("[data-refund]")
    await expect(refund).to_have_attribute("data-refund", str(returned["amount"]))  # same day
    await expect(fan.locator("#cancel-confirm")).to_have_text("Return the ticked items")
    await shop.check_accessibility(fan, "return part of an order")
    late = answered == "too late"
    asked = await count_answers(fan, "**/api/v1/orders/*/refunds", first_too_late=late)
    await fan.click("#cancel-confirm")
    await expect(dialog).to_be_hidden()  # closed once the API answered
    await fan.wait_for_selector(f'.order[data-order="{order["id"]}"][data-status=paid]')
    mine = await shop.http.get(f"{API}/orders/{order['id']}", headers=buyer.headers)
    body = mine.json()
    assert (body["status"], body["refunded_amount"]) == ("paid", returned["amount"])
    assert [line["refunded_quantity"] for line in body["lines"]] == [0, 1]
    assert asked == [201]  # returned once
    await screenshot(fan, f"returned-answered-{answered}")
    assert not fan.js_errors, fan.js_errors
    assert not shop.violations, shop.violations
