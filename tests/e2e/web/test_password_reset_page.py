"""A fan who forgot the password asks for a link from the login page, opens the e-mailed
link and sets a new one, in real Chromium: the link's secret leaves the address bar, the
new password signs in and the old one does not."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from tests.e2e.web.conftest import Shop, new_page
from tests.support.api import API, PASSWORD, customer
from tests.support.browser import screenshot

pytestmark = pytest.mark.slow

NEW_PASSWORD = "a-brand-new-one-2026"


async def _reset_url(shop: Shop, user_id: str) -> str:
    """The link the e-mail carries, as the outbox holds it for the worker."""
    async with shop.runtime.uow(read_only=True) as uow:
        rows = await uow.session.execute(
            text(
                "SELECT payload FROM platform_outbox"
                " WHERE event_type = 'PasswordResetRequested' AND aggregate_id = :u"
            ),
            {"u": user_id},
        )
        (payload,) = rows.scalars().all()
    url: str = json.loads(payload)["reset_url"]
    return url


async def test_a_forgotten_password_is_reset_from_the_emailed_link(
    shop: Shop, browser: object
) -> None:
    fan_account = await customer(shop.http, "forgot")
    page = await new_page(browser)
    await page.goto(f"{shop.url}/login")
    await page.click("a[href='/forgot-password']")
    # The login page has an #email field too: fill only once the forgot page is there.
    await page.wait_for_selector("#forgot-form")
    await page.fill("#email", fan_account.email)
    await page.click("#forgot-form button[type=submit]")
    await page.wait_for_selector("#forgot-sent:not([hidden])")
    await screenshot(page, "password-forgotten")

    link = await _reset_url(shop, fan_account.id)
    assert link.startswith(f"{shop.url}/reset-password?token=")
    await page.goto(link)
    await page.wait_for_function("() => location.search === ''")  # the secret left the bar
    await page.fill("#password", NEW_PASSWORD)
    await page.click("#reset-form button[type=submit]")
    await page.wait_for_selector("#reset-done:not([hidden])")
    await shop.check_accessibility(page, "reset password")
    await screenshot(page, "password-reset")
    assert not page.js_errors, page.js_errors
    assert not shop.violations, shop.violations

    login = f"{API}/auth/login"
    old = await shop.http.post(login, json={"email": fan_account.email, "password": PASSWORD})
    new = await shop.http.post(login, json={"email": fan_account.email, "password": NEW_PASSWORD})
    assert (old.status_code, new.status_code) == (401, 200)
