"""Checkout in the browser: a Toss redirect purchase against the stand-in, a declined card,
an expired hold and a sold-out show, each with the message a fan must see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from boxoffice.orders.payments.registry import providers_of
from tests.e2e.web.conftest import Shop, new_page
from tests.e2e.web.helpers import (
    count_answers,
    eventually,
    hold_and_checkout,
    pick_seats,
    sign_up,
)
from tests.stubs.toss import TossStandIn
from tests.support.api import API, customer
from tests.support.browser import screenshot
from tests.support.catalog import ShowSetup, open_show
from tests.support.merch import create_product
from tests.support.orders import count_rows, place_order

pytestmark = pytest.mark.slow


async def _at_checkout(shop: Shop, browser: object, show: ShowSetup, seats: int = 2) -> object:
    fan = await new_page(browser)
    await sign_up(fan, shop.url)
    await fan.goto(f"{shop.url}/shows/{show.show_id}/seats")
    await pick_seats(fan, seats)
    await hold_and_checkout(fan)
    return fan


async def test_a_toss_purchase_goes_through_the_payment_window_and_back(
    shop: Shop, browser: object, toss: TossStandIn
) -> None:
    show = await open_show(shop.http, shop.runtime, rows=2, seats_per_row=10)
    await create_product(shop.http, show.seller, show.event_id, price=35_000)
    fan = await _at_checkout(shop, browser, show)
    await fan.fill("[data-qty]", "1")  # a light stick with the tickets, delivered
    await fan.check("input[name=delivery][value=delivery]")
    for field, value in {
        "#recipient": "Kim Minji",
        "#phone": "010-1234-5678",
        "#postal_code": "05551",
        "#address1": "424 Olympic-ro, Songpa-gu, Seoul",
    }.items():
        await fan.fill(field, value)
    total = 2 * show.grade_prices["VIP"] + 35_000
    assert await fan.text_content("#pay-total") == f"{total:,}원"
    await screenshot(fan, "checkout-with-goods")
    await fan.check("input[name=provider][value=toss]")
    await fan.click("#pay")
    try:
        await fan.wait_for_url(f"{toss.server.url}/window?*")  # Toss's payment window
    except Exception as exc:
        said = await fan.text_content("#checkout-message")
        raise AssertionError(f"no payment window; the page said {said!r} {fan.js_errors}") from exc
    await screenshot(fan, "toss-window")
    await fan.click("button[value=pay]")
    await fan.wait_for_url(f"{shop.url}/checkout/result?*")
    assert "status=paid" in fan.url
    await fan.wait_for_selector(".order[data-status=paid]")
    await screenshot(fan, "toss-result")
    assert toss.captured == total
    assert await fan.locator(".order-lines li").count() == 3  # two seats and the light stick
    assert not fan.js_errors, fan.js_errors


async def test_a_declined_payment_says_so_and_charges_nothing(shop: Shop, browser: object) -> None:
    show = await open_show(shop.http, shop.runtime, rows=2, seats_per_row=10)
    fan = await _at_checkout(shop, browser, show)
    internal = providers_of(shop.runtime).get("internal")
    internal.mode = "fail"  # type: ignore[attr-defined]
    await fan.check("input[name=provider][value=internal]")
    await fan.click("#pay")
    message = fan.locator("#checkout-message")
    await message.filter(has_text="결제가 거절").wait_for()
    assert "다른 결제 수단" in (await message.text_content() or "")  # the seats stay held
    await screenshot(fan, "payment-declined")
    assert await internal.totals() == (0, 0)  # type: ignore[attr-defined]

    internal.mode = "succeed"  # type: ignore[attr-defined]
    await fan.click("#pay")  # trying again pays the same order
    await fan.wait_for_url("**/checkout/result?*")
    await fan.wait_for_selector(".order[data-status=paid]")


async def test_after_a_declined_payment_the_fan_pays_the_same_order_another_way(
    shop: Shop, browser: object, toss: TossStandIn
) -> None:
    show = await open_show(shop.http, shop.runtime, rows=2, seats_per_row=10)
    fan: Any = await _at_checkout(shop, browser, show)
    internal = providers_of(shop.runtime).get("internal")
    internal.mode = "fail"  # type: ignore[attr-defined]
    await fan.check("input[name=provider][value=internal]")
    await fan.click("#pay")
    await fan.locator("#checkout-message").filter(has_text="결제가 거절").wait_for()
    placed = "Object.keys(sessionStorage).filter((k) => k.startsWith('bo.order.'))"
    [key] = await fan.evaluate(placed)  # the order the card was declined for
    order_id = await fan.evaluate(f"JSON.parse(sessionStorage.getItem('{key}')).id")
    # Where a provider's failed payment lands: the order, waiting, and the way back to pay it.
    await fan.goto(f"{shop.url}/checkout/result?order_id={order_id}&status=failed")
    await fan.wait_for_selector(".order[data-status=pending]")
    # The order is pending because the payment failed, not because it is being confirmed.
    await expect(fan.locator("#result-message")).to_have_text(
        "결제가 완료되지 않았습니다. 청구된 금액은 없습니다."
    )
    await fan.click(".order[data-status=pending] a[href^='/checkout/']")
    await fan.wait_for_selector("#pay-form")
    assert await fan.is_checked("input[name=provider][value=internal]")  # the way it had

    await fan.check("input[name=provider][value=toss]")  # another way, the same seats
    await fan.click("#pay")
    await fan.wait_for_url(f"{toss.server.url}/window?*")
    await fan.click("button[value=pay]")
    await fan.wait_for_url(f"{shop.url}/checkout/result?*")
    assert "status=paid" in fan.url
    await fan.wait_for_selector(".order[data-status=paid]")
    assert toss.captured == 2 * show.grade_prices["VIP"]
    assert await internal.totals() == (0, 0)  # type: ignore[attr-defined]
    orders = "SELECT count(*) FROM orders_orders WHERE show_id = :s AND provider = 'toss'"
    assert await count_rows(shop.runtime, orders, s=show.show_id) == 1  # not placed again
    everything = "SELECT count(*) FROM orders_orders WHERE show_id = :s"
    assert await count_rows(shop.runtime, everything, s=show.show_id) == 1
    assert not fan.js_errors, fan.js_errors


async def test_a_payment_the_gateway_gave_up_on_is_looked_up_not_failed(
    shop: Shop, browser: object
) -> None:
    """The API places the order and pays it, but each first answer comes back as the
    gateway's 504 (it stopped waiting): the checkout places again with the same
    Idempotency-Key (the order it placed), reads the order after paying, finds it paid and
    shows the result, as if answered."""
    show = await open_show(shop.http, shop.runtime, rows=2, seats_per_row=10)
    fan: Any = await _at_checkout(shop, browser, show)
    placed = await count_answers(fan, "**/api/v1/orders", first_too_late=True)
    paid = await count_answers(fan, "**/api/v1/orders/*/pay", first_too_late=True)
    await fan.check("input[name=provider][value=internal]")
    await fan.click("#pay")
    await fan.wait_for_url("**/checkout/result?*")
    assert "status=paid" in fan.url
    await fan.wait_for_selector(".order[data-status=paid]")
    assert (placed, paid) == ([201, 200], [200])  # placed once (then its replay), paid once
    await screenshot(fan, "paid-after-gateway-timeout")
    assert not fan.js_errors, fan.js_errors


async def test_an_expired_hold_says_the_seats_were_released(shop: Shop, browser: object) -> None:
    show = await open_show(shop.http, shop.runtime, rows=2, seats_per_row=10, hold_minutes=2)
    fan = await _at_checkout(shop, browser, show)
    shop.clock.advance(timedelta(minutes=3))  # the hold's minutes pass
    await fan.click("#pay")
    await expect(fan.locator("[data-hold-ended]")).to_contain_text("시간이 지나")
    # Said once, beside the way back to the seats (not again under the page).
    await expect(fan.locator("#checkout-message")).to_be_hidden()
    await expect(fan.get_by_role("link", name="좌석 다시 선택하기")).to_be_visible()
    await screenshot(fan, "hold-expired")


async def test_a_sold_out_show_says_so_on_its_page_and_in_the_waiting_room(
    shop: Shop, browser: object
) -> None:
    show = await open_show(
        shop.http,
        shop.runtime,
        rows=1,
        seats_per_row=2,
        grades=(("VIP", 165_000),),
        queue={"enabled": True, "admit_per_second": 10, "max_active": 10},
    )
    buyer = await customer(shop.http, "early")
    joined = await shop.http.post(f"{API}/shows/{show.show_id}/queue", headers=buyer.headers)
    entry = joined.json()

    async def admitted() -> str | None:
        state = await shop.http.get(f"{API}/queue/{entry['entry_id']}", headers=buyer.headers)
        return state.json().get("admission_token")

    token = await eventually(admitted)
    assert token, "the early buyer was never admitted"
    hold = await shop.http.post(
        f"{API}/shows/{show.show_id}/holds",
        json={"seat_ids": show.seat_ids},
        headers={**buyer.headers, "X-Admission-Token": token},
    )
    assert hold.status_code == 201, hold.text
    order = (await place_order(shop.http, buyer, hold.json()["hold_id"])).json()
    paid = await shop.http.post(f"{API}/orders/{order['id']}/pay", headers=buyer.headers)
    assert paid.status_code == 200, paid.text

    fan = await new_page(browser)
    await sign_up(fan, shop.url)
    await fan.goto(f"{shop.url}/events/{show.event_id}")
    assert await fan.locator(".badge-sold_out").count() == 1
    await screenshot(fan, "event-sold-out")

    async def told() -> bool:  # the dispatcher notices within a tick or two
        await fan.goto(f"{shop.url}/shows/{show.show_id}/queue")
        await fan.wait_for_selector(
            "#queue-message:not([hidden]), #queue-position[data-position]:visible"
        )
        return await fan.locator("#queue-message").filter(has_text="매진").count() == 1

    assert await eventually(told), await fan.text_content("#queue")
    await screenshot(fan, "waiting-room-sold-out")
