"""A fan buys tickets in the browser: sign up, find the show, wait in line while the
dispatcher admits a few per second, pick two seats on the map, pay, see the QR codes; a
second fan sees those seats taken without reloading."""

from __future__ import annotations

import pytest

from tests.e2e.web.conftest import Shop, new_page
from tests.e2e.web.helpers import (
    eventually,
    hold_and_checkout,
    load_ms,
    log_in,
    pick_seats,
    sign_up,
)
from tests.support.api import API, customer
from tests.support.browser import screenshot
from tests.support.catalog import open_show

pytestmark = pytest.mark.slow
AHEAD = 16  # fans in line just before ours joins: about eight seconds at 2 admitted a second


@pytest.mark.parametrize(
    ("backend", "use_redis"),
    [("sqlite", False), ("postgresql", True)],
    ids=["embedded", "postgresql-redis"],
)
async def test_a_fan_buys_two_seats_after_waiting_in_line(shop: Shop, browser: object) -> None:
    setup = await open_show(
        shop.http,
        shop.runtime,
        rows=20,
        seats_per_row=100,  # 2,000 seats: the map's timing below is for this size
        queue={"enabled": True, "admit_per_second": 2, "max_active": 500},
    )
    ahead = [await customer(shop.http, f"ahead{i}") for i in range(AHEAD)]

    fan = await new_page(browser)
    await sign_up(fan, shop.url, "Minji")
    await shop.check_accessibility(fan, "home")
    await screenshot(fan, "home")

    # Find the show by searching for it, then open its event page.
    await fan.fill("#q", "HEREH")
    await fan.click("form.search button")
    await fan.click(f'a[href="/events/{setup.event_id}"]')
    await fan.wait_for_selector("a.button.primary")
    print(f"\nevent page (2,000-seat show) loaded in {await load_ms(fan):.0f} ms")
    await shop.check_accessibility(fan, "event")
    await screenshot(fan, "event")

    # The waiting room: a live position that falls, then "it's your turn". The fans ahead
    # join just before ours, so however long the pages above took (a loaded machine), the
    # dispatcher has AHEAD / 2 seconds of them to admit while our fan watches.
    for other in ahead:
        joined = await shop.http.post(f"{API}/shows/{setup.show_id}/queue", headers=other.headers)
        assert joined.status_code == 201, joined.text
    await fan.click("a.button.primary")
    await fan.wait_for_url(f"**/shows/{setup.show_id}/queue")
    seen: list[int] = []

    async def position() -> int | None:
        shown = await fan.get_attribute("#queue-position", "data-position")
        if shown and (not seen or int(shown) != seen[-1]):
            seen.append(int(shown))
        return int(shown) if shown else None

    async def moved() -> bool:
        await position()
        return len(seen) >= 2 or await fan.is_visible("#queue-admitted")

    async def admitted() -> bool:
        await position()
        return await fan.is_visible("#queue-admitted")

    await fan.wait_for_selector("#queue-position[data-position]")
    assert await eventually(moved, seconds=30), f"the position never moved: {seen}"
    second_tab = await fan.context.new_page()  # a second tab keeps the same place
    await second_tab.goto(fan.url)
    await second_tab.wait_for_selector("#queue[data-entry]")
    entry = await fan.get_attribute("#queue", "data-entry")
    assert await second_tab.get_attribute("#queue", "data-entry") == entry
    await second_tab.close()
    await shop.check_accessibility(fan, "waiting room")
    await screenshot(fan, "waiting-room")
    assert await eventually(admitted, seconds=60), f"never admitted; positions seen {seen}"
    assert len(seen) >= 2, f"the position did not move: {seen}"
    assert seen[0] > seen[-1], f"the position did not fall: {seen}"
    await screenshot(fan, "waiting-room-admitted")

    # A second fan looks at the same map, and keeps looking.
    other = await new_page(browser)
    other_email = (await customer(shop.http, "watcher")).email
    await log_in(other, shop.url, other_email, f"/shows/{setup.show_id}/seats")
    await other.wait_for_selector("#picker[data-ready]")

    await fan.click("#queue-go")
    await fan.wait_for_selector("#picker[data-ready]")
    print(
        f"seat map of 2,000 seats drawn in {await fan.get_attribute('#picker', 'data-ready')} ms"
        f" (page loaded in {await load_ms(fan):.0f} ms)"
    )
    chosen = await pick_seats(fan, 2)
    assert await fan.text_content("#chosen-count") == "2"
    await shop.check_accessibility(fan, "seat map")
    await screenshot(fan, "seat-map")
    await hold_and_checkout(fan)

    # The other fan's map greys those seats without a reload.
    for seat_id in chosen:
        await other.wait_for_selector(f'circle.seat.taken[data-id="{seat_id}"]', timeout=10_000)
    await screenshot(other, "seat-map-second-fan")

    await shop.check_accessibility(fan, "checkout")
    await screenshot(fan, "checkout")
    await fan.check("input[name=provider][value=internal]")
    await fan.click("#pay")
    await fan.wait_for_url("**/checkout/result?*")
    await fan.wait_for_selector(".order[data-status=paid]")
    await shop.check_accessibility(fan, "result")
    await screenshot(fan, "payment-result")

    await fan.goto(f"{shop.url}/account/tickets")
    await fan.wait_for_selector(".ticket")
    assert await fan.locator(".ticket .qr svg").count() == 2
    await shop.check_accessibility(fan, "tickets")
    await screenshot(fan, "tickets")

    # Once loaded, the tickets stay readable offline (service worker + the saved copy).
    await fan.wait_for_selector("#tickets[data-offline=ready]")
    await fan.context.set_offline(True)
    await fan.reload()
    await fan.wait_for_selector("#offline-note:not([hidden])")
    assert await fan.locator(".ticket .qr svg").count() == 2
    await screenshot(fan, "tickets-offline")
    await fan.context.set_offline(False)

    assert not fan.js_errors, fan.js_errors
    assert not other.js_errors, other.js_errors
    assert not shop.violations, shop.violations
