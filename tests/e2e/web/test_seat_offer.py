"""A fan whose seats are taken while their map lags is offered the nearest free ones."""

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
