"""The fan's account page in real Chromium: the e-mail and whether it is confirmed, a new
confirmation link, a new password (that then signs in), the data export downloaded and
read, and the account deleted (after which its login is refused)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.web.conftest import Shop, new_page
from tests.e2e.web.helpers import log_in
from tests.support.api import PASSWORD, assert_problem, customer
from tests.support.api import log_in as api_log_in
from tests.support.browser import screenshot

pytestmark = pytest.mark.slow
NEW_PASSWORD = "a-brand-new-secret-99"


async def test_a_fan_manages_their_account(shop: Shop, browser: object, tmp_path: Path) -> None:
    fan = await customer(shop.http, "settings")
    page = await new_page(browser, locale="en-US")
    await log_in(page, shop.url, fan.email, "/account/settings")
    await page.wait_for_selector("#settings[data-loaded]")
    await expect(page.locator("[data-field=email]")).to_have_text(fan.email)
    await expect(page.locator("[data-field=verified]")).to_have_text("not confirmed yet")
    await page.click("#send-verification")
    await expect(page.locator("#verify-message")).to_contain_text("on its way")
    await shop.check_accessibility(page, "account settings")
    await screenshot(page, "account-settings")

    await page.fill("#current-password", PASSWORD)
    await page.fill("#new-password", NEW_PASSWORD)
    await page.click("#password-form button[type=submit]")
    await expect(page.locator("#password-message")).to_have_text("Saved")
    assert (await api_log_in(shop.http, fan.email, NEW_PASSWORD)).status_code == 200

    async with page.expect_download() as waiting:
        await page.click("#export-data")
    saved = tmp_path / "me.json"
    await (await waiting.value).save_as(saved)
    data = json.loads(saved.read_text())
    assert (data["profile"]["id"], data["profile"]["email"]) == (fan.id, fan.email)

    page.on("dialog", lambda dialog: dialog.accept())
    await page.fill("#delete-password", NEW_PASSWORD)
    await page.click("#delete-form button[type=submit]")
    await page.wait_for_url(f"{shop.url}/")
    assert_problem(await api_log_in(shop.http, fan.email, NEW_PASSWORD), 401, "unauthorized")
    assert not page.js_errors, page.js_errors
    assert not shop.violations, shop.violations
