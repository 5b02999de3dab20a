"""Giving a ticket to a friend from "my tickets", in real Chromium: the holder offers it by
e-mail, the friend sees the offer on their own tickets page and accepts it; the ticket
(with a new code) is the friend's, the holder's copy void — read back from the API."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.e2e.web.conftest import Shop, new_page
from tests.e2e.web.helpers import log_in
from tests.support.api import API, customer
from tests.support.browser import screenshot
from tests.support.catalog import open_show
from tests.support.orders import hold_seats, place_order

pytestmark = pytest.mark.slow


async def test_a_fan_gives_a_ticket_to_a_friend_who_accepts_it(shop: Shop, browser: object) -> None:
    show = await open_show(shop.http, shop.runtime, rows=1, seats_per_row=4)
    fan = await customer(shop.http, "giver")
    friend = await customer(shop.http, "friend")
    hold = await hold_seats(shop.http, fan, show.show_id, show.seat_ids[:1])
    order = (await place_order(shop.http, fan, hold["hold_id"])).json()
    paid = await shop.http.post(f"{API}/orders/{order['id']}/pay", headers=fan.headers)
    assert paid.status_code == 200, paid.text
    (ticket,) = (await shop.http.get(f"{API}/users/me/tickets", headers=fan.headers)).json()[
        "items"
    ]

    page = await new_page(browser, locale="en-US")
    await log_in(page, shop.url, fan.email, "/account/tickets")
    await page.click(f'[data-give="{ticket["id"]}"]')
    await page.fill("#give-email", friend.email)
    await shop.check_accessibility(page, "give a ticket")
    await page.click("#give-form button[type=submit]")
    await expect(page.locator("#transfer-list li[data-status=pending]")).to_have_count(1)
    await expect(page.locator("#transfer-list li")).to_contain_text(friend.email)

    other = await new_page(browser, locale="en-US")
    await log_in(other, shop.url, friend.email, "/account/tickets")
    # The friend is told which show and seat they are offered before answering.
    offer = other.locator("#transfer-list li[data-status=pending]")
    await expect(offer).to_contain_text(ticket["title"])
    seat = ticket["seat"]
    await expect(offer).to_contain_text(
        f"Section {seat['section']}, row {seat['row']}, seat {seat['number']}"
    )
    await other.click("#transfer-list button[data-verb=accept]")
    await expect(other.locator("#transfer-list li[data-status=accepted]")).to_have_count(1)
    await expect(other.locator("#tickets [data-ticket]")).to_have_count(1)
    await screenshot(other, "ticket-received")

    mine = (await shop.http.get(f"{API}/users/me/tickets", headers=fan.headers)).json()["items"]
    theirs = (await shop.http.get(f"{API}/users/me/tickets", headers=friend.headers)).json()[
        "items"
    ]
    assert [(t["id"], t["status"]) for t in mine] == [(ticket["id"], "void")]
    assert [(t["seat"], t["status"]) for t in theirs] == [(ticket["seat"], "valid")]
    assert theirs[0]["code"] != ticket["code"]
    await page.reload()
    await expect(page.locator("#transfer-list li[data-status=accepted]")).to_have_count(1)
    assert not page.js_errors, page.js_errors
    assert not other.js_errors, other.js_errors
    assert not shop.violations, shop.violations
