"""The organisers' console in real Chromium: a customer is refused (and so is the API), a
seller watches a purchase arrive live and changes the admit rate, exports the attendees'
CSV (checked against the database), staff check a ticket in at the door, an admin
approves a seller."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect
from sqlalchemy import text

from boxoffice.platform.ids import new_id
from boxoffice.platform.messaging.models import DeadLetter
from boxoffice.platform.security import Role
from tests.e2e.web.conftest import Shop, new_page
from tests.e2e.web.helpers import eventually, log_in
from tests.support.api import API, Caller, assert_problem, customer, user_with_role
from tests.support.browser import screenshot
from tests.support.catalog import ShowSetup, open_show
from tests.support.orders import hold_seats, place_order

pytestmark = pytest.mark.slow


async def console_page(browser: Any) -> Any:
    """A desk-sized window: the console is used on a laptop at the box office."""
    page = await new_page(browser, locale="en-US")
    await page.set_viewport_size({"width": 1280, "height": 900})
    return page


async def _buy(shop: Shop, show: ShowSetup, fan: Caller, seats: list[str]) -> dict[str, Any]:
    hold = await hold_seats(shop.http, fan, show.show_id, seats)
    order = (await place_order(shop.http, fan, hold["hold_id"])).json()
    paid = await shop.http.post(f"{API}/orders/{order['id']}/pay", headers=fan.headers)
    assert paid.status_code == 200, paid.text
    body: dict[str, Any] = paid.json()
    return body


async def test_a_customer_cannot_open_the_console(shop: Shop, browser: object) -> None:
    show = await open_show(shop.http, shop.runtime, rows=2, seats_per_row=5)
    fan = await customer(shop.http, "curious")
    page = await console_page(browser)
    await log_in(page, shop.url, fan.email, "/console")
    await page.wait_for_selector("#denied:not([hidden])")
    assert await page.locator("#events").is_hidden()
    assert await page.locator("#events tbody tr").count() == 0
    for path in (
        f"/console/shows/{show.show_id}",
        f"/console/shows/{show.show_id}/attendees",
        "/console/admin",
    ):
        await page.goto(f"{shop.url}{path}")
        await page.wait_for_selector("#denied:not([hidden])")
    await screenshot(page, "console-refused")
    for url in (
        f"{API}/seller/events",
        f"{API}/shows/{show.show_id}/orders",
        f"{API}/shows/{show.show_id}/attendees/export",
        f"/console/shows/{show.show_id}/live",
        f"{API}/admin/users",
    ):
        assert_problem(await shop.http.get(url, headers=fan.headers), 403, "forbidden")
    assert not page.js_errors, page.js_errors


async def test_a_seller_watches_a_sale_live_and_exports_the_attendees(
    shop: Shop, browser: object, tmp_path: Path
) -> None:
    show = await open_show(shop.http, shop.runtime, rows=2, seats_per_row=10)
    page = await console_page(browser)
    await log_in(page, shop.url, show.seller.email, "/console")
    await page.click(f'a[href="/console/events/{show.event_id}"]')
    await page.wait_for_selector("#event[data-loaded]")
    await shop.check_accessibility(page, "console event")
    await page.click(f'a[href="/console/shows/{show.show_id}"]')
    await expect(page.locator("#stat-sold")).to_have_text("0")
    await page.evaluate("window.notReloaded = true")

    fan = await customer(shop.http, "livefan")
    await _buy(shop, show, fan, show.seat_ids[:3])
    await expect(page.locator("#stat-sold")).to_have_text("3")
    assert await page.evaluate("window.notReloaded === true")  # pushed, not reloaded
    assert await page.text_content("#stat-orders") == "1"
    assert await page.text_content("#stat-available") == "17"
    await shop.check_accessibility(page, "console dashboard")
    await screenshot(page, "console-dashboard")

    await page.fill("#admit-rate", "25")
    await page.check("#queue-paused")
    await page.click("#queue-form button[type=submit]")
    await page.wait_for_selector("#queue-message:not([hidden])")
    event = (await shop.http.get(f"{API}/events/{show.event_id}")).json()
    assert event["queue"]["admit_per_second"] == 25
    assert event["queue"]["paused"] is True
    await page.wait_for_selector("#paused-badge:not([hidden])")  # the stream says so too

    await page.click(f'a[href="/console/shows/{show.show_id}/attendees"]')
    await page.wait_for_selector("#attendees tbody tr")
    assert await page.locator("#attendees tbody tr").count() == 3
    await screenshot(page, "console-attendees")
    async with page.expect_download() as waiting:
        await page.click("#export-attendees")
    download = await waiting.value
    saved = tmp_path / "attendees.csv"
    await download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text("utf-8-sig"))))
    async with shop.runtime.uow() as uow:
        tickets = (
            await uow.session.execute(
                text("SELECT id, seat_id, status FROM tickets_tickets WHERE show_id = :s"),
                {"s": show.show_id},
            )
        ).all()
    assert {(r["ticket_id"], r["status"], r["holder_email"]) for r in rows} == {
        (t.id, t.status, fan.email) for t in tickets
    }
    assert len(rows) == 3
    assert not page.js_errors, page.js_errors
    assert not shop.violations, shop.violations


async def test_staff_check_a_typed_code_in_once(shop: Shop, browser: object) -> None:
    show = await open_show(shop.http, shop.runtime, rows=2, seats_per_row=5)
    fan = await customer(shop.http, "doorfan")
    order = await _buy(shop, show, fan, show.seat_ids[:2])
    ticket = await shop.http.get(f"{API}/tickets/{order['ticket_ids'][0]}", headers=fan.headers)
    code = ticket.json()["code"]
    staff = await user_with_role(shop.http, shop.runtime, Role.STAFF)
    page = await console_page(browser)
    await log_in(page, shop.url, staff.email, f"/console/door/{show.show_id}")
    await expect(page.locator("#door-count")).to_have_text("0 / 2")
    await page.fill("#code", code)
    await page.press("#code", "Enter")
    await page.wait_for_selector("#verdict[data-kind=ok]")
    await expect(page.locator("#door-count")).to_have_text("1 / 2")
    await shop.check_accessibility(page, "console door")
    await screenshot(page, "console-door")
    await page.fill("#code", code)
    await page.press("#code", "Enter")
    await page.wait_for_selector("#verdict[data-kind=bad]")
    assert "Already used" in (await page.text_content("#verdict") or "")
    await page.fill("#code", code[:-3] + "AAA")
    await page.press("#code", "Enter")
    await eventually(lambda: page.locator("#verdict", has_text="Not a ticket").count())
    used = await shop.http.get(f"{API}/tickets/{ticket.json()['id']}", headers=fan.headers)
    assert used.json()["status"] == "used"
    assert not page.js_errors, page.js_errors
    assert not shop.violations, shop.violations


async def _dead_letter(shop: Shop, applicant: Caller) -> str:
    """A welcome e-mail that failed for good, as the messaging layer records one — with a
    payload the consumer can read, so the retry the admin starts can go through."""
    now = datetime.now(UTC)
    registered = {
        "user_id": applicant.id,
        "email": applicant.email,
        "display_name": "Applicant",
        "locale": "en",
        "via": "password",
    }
    letter = DeadLetter(
        id=new_id(),
        kind="email",
        consumer="notifications.welcome_email",
        event_id=new_id(),
        topic="boxoffice.identity.user_registered",
        event_type="UserRegistered",
        version=1,
        aggregate_id=applicant.id,
        payload=json.dumps(registered),
        occurred_at=now,
        attempts=5,
        last_error="451 mailbox unavailable",
        status="dead",
        failed_at=now,
    )
    async with shop.runtime.uow() as uow:
        uow.session.add(letter)
        await uow.commit()
    return letter.id


async def test_an_admin_approves_a_seller_and_retries_a_dead_letter(
    shop: Shop, browser: object
) -> None:
    applicant = await customer(shop.http, "applicant")
    applied = await shop.http.post(
        f"{API}/users/me/seller",
        json={"business_name": "Indie Live", "business_number": "123-45-67890"},
        headers=applicant.headers,
    )
    assert applied.status_code == 201, applied.text
    letter_id = await _dead_letter(shop, applicant)
    admin = await user_with_role(shop.http, shop.runtime, Role.ADMIN)
    page = await console_page(browser)
    await log_in(page, shop.url, admin.email, "/console/admin")
    await page.wait_for_selector("#dead-letters[data-loaded]")
    retry = page.locator(f'button[data-retry="{letter_id}"]')
    await retry.click()
    await retry.wait_for(state="detached")
    # The list, empty now, says so.
    await expect(page.locator("#dead-letters tbody")).to_have_text("Nothing here yet.")
    async with shop.runtime.uow() as uow:
        letter = await uow.session.get(DeadLetter, letter_id)
        assert letter is not None
        # the retry runs at once in the embedded worker: still under way or already sent
        assert letter.status in {"retrying", "resolved"}, letter.status
        assert letter.retried_by == admin.id
    await page.fill("#user-q", applicant.email)
    await page.click("#user-search button[type=submit]")
    approve = page.locator(f'button[data-approve="{applicant.id}"]')
    await approve.wait_for()
    await shop.check_accessibility(page, "console admin")
    await screenshot(page, "console-admin")
    await approve.click()
    await page.wait_for_selector(f'button[data-approve="{applicant.id}"]', state="detached")
    async with shop.runtime.uow() as uow:
        status = await uow.session.scalar(
            text("SELECT status FROM identity_seller_profiles WHERE user_id = :u"),
            {"u": applicant.id},
        )
    assert status == "approved"
    # The new seller's next token carries the role: the console opens for them.
    page2 = await console_page(browser)
    await log_in(page2, shop.url, applicant.email, "/console")
    await page2.wait_for_selector("#events[data-loaded]")
    assert await page2.locator("#denied").is_hidden()

    # The admin makes a customer staff (the role filter finds them), then withdraws the
    # new seller's approval: both through PATCH /admin/users/{id}, read back from the API.
    door = await customer(shop.http, "doorkeeper")
    await page.fill("#user-q", door.email)
    await page.click("#user-search button[type=submit]")
    await page.select_option(f'select[data-user="{door.id}"]', "staff")
    await page.wait_for_selector("#user-message:not([hidden])")
    await page.fill("#user-q", "")
    await page.select_option("#user-role", "staff")
    await page.click("#user-search button[type=submit]")
    await expect(page.locator(f'#users tr[data-user="{door.id}"]')).to_have_count(1)
    staff = (
        await shop.http.get(f"{API}/admin/users?role=staff&q={door.email}", headers=admin.headers)
    ).json()["items"]
    assert [(u["id"], u["role"]) for u in staff] == [(door.id, "staff")]
    await page.select_option("#user-role", "")
    await page.fill("#user-q", applicant.email)
    await page.click("#user-search button[type=submit]")
    await page.click(f'button[data-user="{applicant.id}"][data-seller-status="rejected"]')
    await expect(
        page.locator(f'#users tr[data-user="{applicant.id}"] button[data-approve]')
    ).to_have_count(1)
    seller = (
        await shop.http.get(f"{API}/admin/users?q={applicant.email}", headers=admin.headers)
    ).json()["items"][0]
    assert seller["seller_status"] == "rejected"
    await shop.check_accessibility(page, "console admin users")
    assert not page.js_errors, page.js_errors
    assert not shop.violations, shop.violations


def _y4m_of(png: bytes, path: Path) -> Path:
    """A still video (Y4M, 4:2:0) of the QR code on white, for Chromium's fake camera."""
    from PIL import Image

    width, height = 640, 480
    frame = Image.new("RGB", (width, height), "white")
    code = Image.open(io.BytesIO(png)).convert("RGB").resize((360, 360), Image.Resampling.NEAREST)
    frame.paste(code, ((width - 360) // 2, (height - 360) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + (b"FRAME\n" + planes) * 10)
    return path


async def test_staff_scan_a_ticket_with_the_camera(shop: Shop, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    from tests.support.browser import CHROMIUM_ARGS, chromium_path

    show = await open_show(shop.http, shop.runtime, rows=2, seats_per_row=5)
    fan = await customer(shop.http, "camerafan")
    order = await _buy(shop, show, fan, show.seat_ids[:1])
    ticket_id = order["ticket_ids"][0]
    png = await shop.http.get(f"{API}/tickets/{ticket_id}/qr?format=png", headers=fan.headers)
    video = _y4m_of(png.content, tmp_path / "ticket.y4m")
    staff = await user_with_role(shop.http, shop.runtime, Role.STAFF)
    camera_args = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=chromium_path(), args=[*CHROMIUM_ARGS, *camera_args]
        )
        try:
            context = await chromium.new_context(
                locale="en-US", viewport={"width": 1280, "height": 900}
            )
            context.set_default_timeout(45_000)
            await context.grant_permissions(["camera"], origin=shop.url)
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await log_in(page, shop.url, staff.email, f"/console/door/{show.show_id}")
            await expect(page.locator("#door-count")).to_have_text("0 / 1")
            await page.click("#camera-start")
            await page.wait_for_selector("#verdict[data-kind=ok]")
            await expect(page.locator("#door-count")).to_have_text("1 / 1")
            # The same ticket held up again a few seconds later: already used.
            await page.wait_for_selector("#verdict[data-kind=bad]", timeout=20_000)
            assert "Already used" in (await page.text_content("#verdict") or "")
            await screenshot(page, "console-door-camera")
            assert not errors, errors
        finally:
            await chromium.close()
    used = await shop.http.get(f"{API}/tickets/{ticket_id}", headers=fan.headers)
    assert used.json()["status"] == "used"


async def test_a_seller_builds_a_venue_and_publishes_an_event_with_two_shows(
    shop: Shop, browser: object
) -> None:
    from datetime import timedelta, timezone

    from tests.support.catalog import ensure_categories

    await ensure_categories(shop.runtime)
    seller = await user_with_role(shop.http, shop.runtime, Role.SELLER)
    page = await console_page(browser)
    await log_in(page, shop.url, seller.email, "/console")
    await page.click('a[href="/console/new"]')
    await page.fill("#venue-name", "Blue Square")
    balcony = page.locator("#sections tbody tr").nth(1)
    await balcony.locator("[name=rows]").fill("2")  # 2 x 10 VIP + 2 x 12 R
    await expect(page.locator("#seat-total")).to_have_text("(44)")
    assert await page.locator("#venue-preview circle").count() == 44
    # paint: the balcony's front row (Shift-click selects the row) becomes grade S, and two
    # seats at the floor's front-row aisle are no seat at all
    await page.click('#venue-preview circle[data-key="2:0:5"]', modifiers=["Shift"])
    await expect(page.locator("#venue-preview circle.selected")).to_have_count(12)
    await page.fill("#paint-grade", "S")
    await page.click("#paint-selected")
    await page.click('#venue-preview circle[data-key="1:0:1"]')
    await page.click('#venue-preview circle[data-key="1:0:2"]')
    await expect(page.locator("#selection-count")).to_have_text("2 seats selected")
    await page.click("#no-seat")
    await expect(page.locator("#seat-total")).to_have_text("(42)")
    await expect(page.locator("#venue-preview circle[data-grade=S]")).to_have_count(12)
    await expect(page.locator("#grade-legend li")).to_have_text(["VIP", "R", "S"])
    await shop.check_accessibility(page, "console venue editor")
    await screenshot(page, "console-venue-editor")
    await page.click("#save-venue")
    await page.wait_for_selector("#event-form:not([hidden])")
    venue_id = await page.get_attribute("#venue-builder", "data-venue")

    kst = timezone(timedelta(hours=9))
    now = shop.clock.now().astimezone(kst)
    local = "%Y-%m-%dT%H:%M"
    await page.fill("#title", "Blue Square Jazz Week")
    await page.fill("#price-VIP", "150000")
    await page.fill("#price-R", "99000")
    await page.fill("#price-S", "120000")
    await page.fill("#opens", (now - timedelta(hours=1)).strftime(local))
    await page.fill("#closes", (now + timedelta(days=30)).strftime(local))
    times = page.locator("#show-times input")
    await times.nth(0).fill((now + timedelta(days=40)).strftime(local))
    await times.nth(1).fill((now + timedelta(days=41)).strftime(local))
    await page.click("#event-form button[type=submit]")
    await page.wait_for_url("**/console/events/*")
    await page.wait_for_selector("#event[data-loaded]")
    assert await page.locator("#shows tbody tr").count() == 2
    event_id = page.url.rsplit("/", 1)[1]
    event = (await shop.http.get(f"{API}/events/{event_id}")).json()  # public: published
    assert (event["status"], event["venue"]["id"], len(event["shows"])) == (
        "published",
        venue_id,
        2,
    )
    assert {g["code"]: g["price"] for g in event["grades"]} == {
        "VIP": 150000,
        "R": 99000,
        "S": 120000,
    }
    assert {s["seat_count"] for s in event["shows"]} == {42}
    venue = (await shop.http.get(f"{API}/venues/{venue_id}")).json()
    rows = {
        row["label"]: [(seat["number"], seat["grade"]) for seat in row["seats"]]
        for section in venue["sections"]
        for row in section["rows"]
    }
    assert rows["A"] == [(str(n), "VIP") for n in range(3, 11)]
    assert rows["B"] == [(str(n), "VIP") for n in range(1, 11)]
    assert rows["C"] == [(str(n), "S") for n in range(1, 13)]
    assert rows["D"] == [(str(n), "R") for n in range(1, 13)]
    assert not page.js_errors, page.js_errors
    assert not shop.violations, shop.violations
