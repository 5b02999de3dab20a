"""A fan whose seats are taken while their map lags is offered the nearest free ones; a fan
who lets the shop choose gets the best seats together, or is told there are none."""

from __future__ import annotations

import pytest

from tests.e2e.web.conftest import Shop, new_page
from tests.e2e.web.helpers import hold_and_checkout, log_in
from tests.support.api import API, customer
from tests.support.browser import screenshot
from tests.support.catalog import open_show

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("backend", "use_redis"), [("sqlite", False)], ids=["embedded"])
async def test_taken_seats_are_replaced_by_an_offer_the_fan_can_hold(
    shop: Shop, browser: object
) -> None:
    setup = await open_show(
        shop.http, shop.runtime, rows=2, seats_per_row=6, grades=(("R", 132000),)
    )
    row_a = setup.seat_ids[:6]
    fan_account, rival = await customer(shop.http, "minji"), await customer(shop.http, "rival")
    fan = await new_page(browser)
    await log_in(fan, shop.url, fan_account.email, f"/shows/{setup.show_id}/seats")
    await fan.wait_for_selector("#picker[data-ready]")
    # From now on the fan's map does not refresh: it lags, as in a busy sale.
    await fan.route("**/api/v1/shows/*/seats", lambda route: route.abort())
    for seat_id in row_a[2:4]:
        await fan.click(f'circle[data-id="{seat_id}"]')
    assert await fan.text_content("#chosen-count") == "2"

    taken = await shop.http.post(
        f"{API}/shows/{setup.show_id}/holds", json={"seat_ids": row_a[2:4]}, headers=rival.headers
    )
    assert taken.status_code == 201, taken.text
    # Others keep looking at the map, so the server's copy of the board is current.
    assert (await shop.http.get(f"{API}/shows/{setup.show_id}/seats")).status_code == 200

    said = await fan.eval_on_selector("#messages", "n => JSON.parse(n.textContent).seat_offered")
    await fan.click("#hold")
    await fan.wait_for_function(
        "said => document.getElementById('picker-message').textContent === said", arg=said
    )
    mine = await fan.eval_on_selector_all(
        "circle.seat.mine", "nodes => nodes.map(n => n.dataset.id)"
    )
    # One of the four nearest pairs side by side (tests/e2e/seating/test_seating_api.py).
    row_b = setup.seat_ids[6:12]
    nearest = [row_a[:2], row_a[4:], row_b[2:4], row_b[:2]]
    assert sorted(mine) in [sorted(pair) for pair in nearest], mine
    for seat_id in row_a[2:4]:
        classes = await fan.get_attribute(f'circle[data-id="{seat_id}"]', "class") or ""
        assert "taken" in classes.split(), classes
    await screenshot(fan, "seat-map-offer")
    hold_id = await hold_and_checkout(fan)
    held = await shop.http.get(f"{API}/holds/{hold_id}", headers=fan_account.headers)
    assert sorted(held.json()["seat_ids"]) == sorted(mine)


@pytest.mark.parametrize(("backend", "use_redis"), [("sqlite", False)], ids=["embedded"])
async def test_a_fan_lets_the_shop_choose_the_best_seats_together(
    shop: Shop, browser: object
) -> None:
    # VIP in row A, R in row B, four seats each.
    setup = await open_show(shop.http, shop.runtime, rows=2, seats_per_row=4)
    row_a, row_b = setup.seat_ids[:4], setup.seat_ids[4:]
    fan_account = await customer(shop.http, "jisoo")
    fan = await new_page(browser)
    await log_in(fan, shop.url, fan_account.email, f"/shows/{setup.show_id}/seats")
    await fan.wait_for_selector("#picker[data-ready]")
    # Three VIP seats asked for: once a rival holds the VIP row's second seat, no three are
    # free together there, so the fan is told so and nothing is held.
    rival = await customer(shop.http, "rival")
    taken = await shop.http.post(
        f"{API}/shows/{setup.show_id}/holds", json={"seat_ids": row_a[1:2]}, headers=rival.headers
    )
    assert taken.status_code == 201, taken.text
    await fan.select_option("#best-quantity", "3")
    await fan.select_option("#best-grade", "VIP")
    said = await fan.eval_on_selector(
        "#messages", "n => JSON.parse(n.textContent).best_none.replace('{n}', '3')"
    )
    await fan.click("#best-hold")
    await fan.wait_for_function(
        "said => document.getElementById('picker-message').textContent === said", arg=said
    )
    await screenshot(fan, "seat-map-best-none")
    # Two of grade R: the shop holds two side by side and the fan goes on to pay.
    await fan.select_option("#best-quantity", "2")
    await fan.select_option("#best-grade", "R")
    await fan.click("#best-hold")
    await fan.wait_for_url("**/checkout/*")
    await fan.wait_for_selector("#pay-form")
    hold_id = fan.url.rsplit("/", 1)[1]
    held = await shop.http.get(f"{API}/holds/{hold_id}", headers=fan_account.headers)
    seats = held.json()["seat_ids"]
    assert len(seats) == 2, seats
    assert set(seats) <= set(row_b), seats
    positions = sorted(row_b.index(seat) for seat in seats)
    assert positions[1] == positions[0] + 1, positions
    assert not fan.js_errors
