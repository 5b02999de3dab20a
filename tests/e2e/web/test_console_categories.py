"""The admin's categories in the console, in real Chromium: add one, rename it, hide it
and show it again; the shop's public list follows, and only an admin sees the hidden ones."""

from __future__ import annotations

import pytest

from boxoffice.platform.security import Role
from tests.e2e.web.conftest import Shop, new_page
from tests.e2e.web.helpers import eventually, log_in
from tests.support.api import API, assert_problem, customer, user_with_role
from tests.support.browser import screenshot

pytestmark = pytest.mark.slow


async def _public_names(shop: Shop) -> dict[str, str]:
    listed = (await shop.http.get(f"{API}/categories")).json()
    return {c["code"]: c["name"] for c in listed}


async def test_an_admin_adds_renames_hides_and_shows_a_category(
    shop: Shop, browser: object
) -> None:
    admin = await user_with_role(shop.http, shop.runtime, Role.ADMIN)
    page = await new_page(browser, locale="en-US")
    await page.set_viewport_size({"width": 1280, "height": 900})
    await log_in(page, shop.url, admin.email, "/console/admin")
    await page.wait_for_selector("#categories[data-loaded]")
    await page.fill("#category-code", "jazz-club")
    await page.fill("#category-name", "Jazz")
    await page.fill("#category-position", "7")
    await page.click("#category-new button[type=submit]")
    row = page.locator('tr[data-category="jazz-club"]')
    await row.wait_for()
    assert (await _public_names(shop))["jazz-club"] == "Jazz"

    await row.locator("input").fill("Jazz & Blues")
    await row.locator("input").press("Tab")  # change → saved
    assert await eventually(lambda: _renamed(shop))
    await row.locator("button[data-category]").click()  # hide
    await page.wait_for_selector('tr[data-category="jazz-club"] button[data-active="true"]')
    assert "jazz-club" not in await _public_names(shop)
    await shop.check_accessibility(page, "console categories")
    await screenshot(page, "console-categories")
    await row.locator("button[data-category]").click()  # show again
    await page.wait_for_selector('tr[data-category="jazz-club"] button[data-active="false"]')
    assert (await _public_names(shop))["jazz-club"] == "Jazz & Blues"
    assert not page.js_errors, page.js_errors
    assert not shop.violations, shop.violations

    fan = await customer(shop.http, "curious")
    refused = await shop.http.get(f"{API}/admin/categories", headers=fan.headers)
    assert_problem(refused, 403, "forbidden")


async def _renamed(shop: Shop) -> bool:
    return (await _public_names(shop)).get("jazz-club") == "Jazz & Blues"
