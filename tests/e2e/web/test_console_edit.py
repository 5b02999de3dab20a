"""The console in real Chromium, after the event is made: the seller edits it and adds a
show (through PATCH /events/{id} and POST /events/{id}/shows), keeps seats for the house
on the box-office page (POST /shows/{id}/blocks and /blocks/release)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from playwright.async_api import expect

from boxoffice.platform.security import Role
from boxoffice.waitroom import service as waitroom
from tests.e2e.web.conftest import Shop, new_page
from tests.e2e.web.helpers import eventually, log_in
from tests.support.api import API, assert_problem, customer, user_with_role
from tests.support.browser import screenshot
from tests.support.catalog import ensure_categories, event_body, open_show, venue_body
from tests.support.orders import hold_seats

pytestmark = pytest.mark.slow
KST = timezone(timedelta(hours=9))
LOCAL = "%Y-%m-%dT%H:%M"


async def console_page(browser: Any) -> Any:
    page = await new_page(browser, locale="en-US")
    await page.set_viewport_size({"width": 1280, "height": 900})
    return page


async def test_a_seller_edits_an_event_and_adds_a_show(shop: Shop, browser: object) -> None:
    show = await open_show(shop.http, shop.runtime, rows=2, seats_per_row=5)
    before = (await shop.http.get(f"{API}/events/{show.event_id}")).json()
    page = await console_page(browser)
    await log_in(page, shop.url, show.seller.email, f"/console/events/{show.event_id}")
    await page.wait_for_selector("#edit-form[data-ready]")
    assert await page.input_value("#edit-title-field") == before["title"]
    # published with a show: the prices are the API's to refuse, so the form locks them
    assert await page.locator("#edit-prices input").first.is_disabled()
    await shop.check_accessibility(page, "console event editor")

    closes = shop.clock.now().astimezone(KST).replace(second=0, microsecond=0)
    closes += timedelta(days=20)
    await page.fill("#edit-title-field", "Renamed Jazz Night")
    await page.fill("#edit-closes", closes.strftime(LOCAL))
    await page.fill("#edit-pre-queue", "30")
    await page.click("#edit-form button[type=submit]")
    await expect(page.locator("#event [data-field=title]")).to_have_text("Renamed Jazz Night")

    starts = closes + timedelta(days=30, hours=2)
    await page.fill("#new-show-at", starts.strftime(LOCAL))
    await page.click("#add-show-form button[type=submit]")
    await expect(page.locator("#shows tbody tr")).to_have_count(2)

    event = (await shop.http.get(f"{API}/events/{show.event_id}")).json()
    assert event["title"] == "Renamed Jazz Night"
    assert datetime.fromisoformat(event["sale_closes_at"]) == closes
    assert event["queue"]["pre_queue_minutes"] == 30
    # untouched fields were not sent: the opening keeps its seconds, prices their values
    assert event["sale_opens_at"] == before["sale_opens_at"]
    assert event["grades"] == before["grades"]
    added = [s for s in event["shows"] if s["id"] != show.show_id]
    assert len(added) == 1
    assert datetime.fromisoformat(added[0]["starts_at"]).astimezone(UTC) == starts
    assert added[0]["seat_count"] == 10
    assert not page.js_errors, page.js_errors
    assert not shop.violations, shop.violations


async def test_a_draft_without_shows_has_its_prices_changed(shop: Shop, browser: object) -> None:
    await ensure_categories(shop.runtime)
    seller = await user_with_role(shop.http, shop.runtime, Role.SELLER)
    venue = await shop.http.post(f"{API}/venues", json=venue_body(2, 4), headers=seller.headers)
    body = event_body(venue.json()["id"], shop.runtime)
    draft = (await shop.http.post(f"{API}/events", json=body, headers=seller.headers)).json()
    page = await console_page(browser)
    await log_in(page, shop.url, seller.email, f"/console/events/{draft['id']}")
    await page.wait_for_selector("#edit-form[data-ready]")
    assert await page.is_hidden("#prices-locked")
    await page.fill("#edit-price-VIP", "170000")
    await page.click("#edit-form button[type=submit]")
    await page.wait_for_selector("#edit-message:not([hidden])")
    mine = await shop.http.get(f"{API}/events/{draft['id']}", headers=seller.headers)
    assert {g["code"]: g["price"] for g in mine.json()["grades"]} == {"VIP": 170000, "R": 132000}
    assert mine.json()["title"] == draft["title"]  # nothing else sent, nothing else changed
    assert not page.js_errors, page.js_errors


async def _statuses(shop: Shop, show_id: str) -> dict[str, str]:
    seats = (await shop.http.get(f"{API}/shows/{show_id}/seats")).json()["seats"]
    return {seat["id"]: seat["status"] for seat in seats}


async def test_a_seller_keeps_two_seats_back_and_releases_them(shop: Shop, browser: object) -> None:
    show = await open_show(shop.http, shop.runtime, rows=2, seats_per_row=5)
    fan = await customer(shop.http, "boxfan")
    held = await hold_seats(shop.http, fan, show.show_id, show.seat_ids[4:5])
    house = show.seat_ids[:2]
    page = await console_page(browser)
    await log_in(page, shop.url, show.seller.email, f"/console/shows/{show.show_id}")
    await page.click(f'a[href="/console/shows/{show.show_id}/box-office"]')
    await page.wait_for_selector("#box-office[data-loaded]")
    assert await page.is_disabled(f'[data-seat="{held["seat_ids"][0]}"]')  # held: not ours
    assert await page.text_content("#count-available") == "9"
    for seat in house:
        await page.click(f'[data-seat="{seat}"]')
    await page.fill("#block-reason", "press")
    await page.click("#block-seats")
    await expect(page.locator("#count-blocked")).to_have_text("2")
    for seat in house:
        await expect(page.locator(f'[data-seat="{seat}"]')).to_have_attribute(
            "data-state", "blocked"
        )
    await shop.check_accessibility(page, "console box office")
    await screenshot(page, "console-box-office")

    blocks = await shop.http.get(f"{API}/shows/{show.show_id}/blocks", headers=show.seller.headers)
    assert blocks.json() == [{"seat_id": s, "reason": "press"} for s in sorted(house)]
    public = await _statuses(shop, show.show_id)
    assert {public[s] for s in house} == {"sold"}  # the fans' map: not on sale
    refused = await shop.http.post(
        f"{API}/shows/{show.show_id}/holds", json={"seat_ids": house[:1]}, headers=fan.headers
    )
    assert_problem(refused, 409, "seat_unavailable")

    for seat in house:
        await page.click(f'[data-seat="{seat}"]')
    await page.click("#release-seats")
    await expect(page.locator("#count-blocked")).to_have_text("0")
    await expect(page.locator("#count-available")).to_have_text("9")
    public = await _statuses(shop, show.show_id)
    assert {public[s] for s in house} == {"available"}
    blocks = await shop.http.get(f"{API}/shows/{show.show_id}/blocks", headers=show.seller.headers)
    assert blocks.json() == []
    assert not page.js_errors, page.js_errors
    assert not shop.violations, shop.violations


async def test_the_box_office_is_the_sellers_only(shop: Shop, browser: object) -> None:
    show = await open_show(shop.http, shop.runtime, rows=1, seats_per_row=4)
    other = await user_with_role(shop.http, shop.runtime, Role.SELLER)
    page = await console_page(browser)
    await log_in(page, shop.url, other.email, f"/console/shows/{show.show_id}/box-office")
    await page.wait_for_selector("#denied:not([hidden])")
    assert await page.locator("#house-map button").count() == 0
    assert not page.js_errors, page.js_errors


async def _crowd_sampled(shop: Shop, show_id: str) -> bool:
    return any(p["waiting"] == 3 for p in await waitroom.line_history(shop.runtime, show_id))


async def test_the_dashboard_charts_the_waiting_line_over_the_sale(
    shop: Shop, browser: object
) -> None:
    queue = {"enabled": True, "admit_per_second": 5, "max_active": 100, "paused": True}
    show = await open_show(shop.http, shop.runtime, rows=1, seats_per_row=4, queue=queue)
    page = await console_page(browser)
    await log_in(page, shop.url, show.seller.email, f"/console/shows/{show.show_id}")
    await expect(page.locator("#stat-waiting")).to_have_text("0")
    await expect(page.locator("#line-chart path")).to_have_count(1)

    for n in range(3):  # the line is paused: they wait
        fan = await customer(shop.http, f"liner{n}")
        joined = await shop.http.post(f"{API}/shows/{show.show_id}/queue", headers=fan.headers)
        assert joined.status_code == 201, joined.text
    await expect(page.locator("#stat-waiting")).to_have_text("3")
    chart = page.locator("#line-chart")
    await expect(chart).to_have_attribute("data-last", "3")
    # the dispatcher samples the line every 10 s: wait until one sample saw the crowd
    assert await eventually(lambda: _crowd_sampled(shop, show.show_id), seconds=30)

    await page.uncheck("#queue-paused")  # resumed from the dashboard: the line empties
    await page.click("#queue-form button[type=submit]")
    # The dispatcher sees the change on a tick after the sale info's memo lapses: allow
    # for a loaded machine (a wait, not a timing assertion).
    await expect(page.locator("#stat-waiting")).to_have_text("0", timeout=20_000)
    await expect(chart).to_have_attribute("data-last", "0")
    assert await chart.get_attribute("data-peak") == "3"  # the chart remembers the crowd
    assert int(await chart.get_attribute("data-points") or 0) >= 3
    assert await page.text_content("#line-peak") == "(peak 3)"
    # another screen opened later draws the line since the sale opened, from the server
    later = await console_page(browser)
    await log_in(later, shop.url, show.seller.email, f"/console/shows/{show.show_id}")
    await expect(later.locator("#stat-waiting")).to_have_text("0")
    assert int(await later.locator("#line-chart").get_attribute("data-seeded") or 0) >= 1
    assert await later.locator("#line-chart").get_attribute("data-peak") == "3"
    assert not later.js_errors, later.js_errors
    await shop.check_accessibility(page, "console dashboard charts")
    await screenshot(page, "console-dashboard-charts")
    assert not page.js_errors, page.js_errors
    assert not shop.violations, shop.violations


async def test_a_seller_moves_then_cancels_a_show_from_the_event_page(
    shop: Shop, browser: object
) -> None:
    show = await open_show(shop.http, shop.runtime, rows=1, seats_per_row=4)
    event = (await shop.http.get(f"{API}/events/{show.event_id}")).json()
    moved_to = datetime.fromisoformat(event["shows"][0]["starts_at"]).astimezone(KST)
    moved_to = moved_to.replace(second=0, microsecond=0) + timedelta(days=3, hours=1)
    page = await console_page(browser)
    await log_in(page, shop.url, show.seller.email, f"/console/events/{show.event_id}")
    await page.wait_for_selector("#event[data-loaded]")
    await page.click(f'[data-show-change=move][data-show="{show.show_id}"]')
    await page.fill("#move-to", moved_to.strftime(LOCAL))
    await shop.check_accessibility(page, "console move a show")
    await page.click("#show-change-form button[type=submit]")
    await expect(page.locator("#show-dialog")).not_to_be_visible()

    async def starts() -> datetime:
        body = (await shop.http.get(f"{API}/events/{show.event_id}")).json()
        return datetime.fromisoformat(body["shows"][0]["starts_at"])

    assert await eventually(lambda: _equals(starts, moved_to))
    await page.wait_for_selector(f'[data-show-change=cancel][data-show="{show.show_id}"]')
    await page.click(f'[data-show-change=cancel][data-show="{show.show_id}"]')
    await page.fill("#cancel-reason", "the hall flooded")
    await page.click("#show-change-form button[type=submit]")
    await expect(page.locator(f'[data-show-change][data-show="{show.show_id}"]')).to_have_count(0)
    body = (await shop.http.get(f"{API}/events/{show.event_id}")).json()
    assert body["shows"][0]["status"] == "cancelled"
    assert not page.js_errors, page.js_errors
    assert not shop.violations, shop.violations


async def _equals(read: Any, expected: datetime) -> bool:
    return bool(await read() == expected)
