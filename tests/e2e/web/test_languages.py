"""The pages in Korean and English: chosen by Accept-Language, changed by the switch, and
served with their security headers; Swagger UI from the app's own files."""

from __future__ import annotations

import pytest

from tests.e2e.web.conftest import Shop, new_page
from tests.support.browser import screenshot
from tests.support.catalog import open_show

pytestmark = pytest.mark.slow


async def test_korean_and_english_pages(shop: Shop, browser: object) -> None:
    show = await open_show(shop.http, shop.runtime, rows=2, seats_per_row=10)
    english = await new_page(browser, locale="en-US")
    await english.goto(f"{shop.url}/events/{show.event_id}")
    assert await english.get_attribute("html", "lang") == "en"
    assert await english.locator("text=Grades and prices").count() == 1
    assert await english.locator("text=132,000").count() >= 1  # ₩132,000
    await screenshot(english, "event-en")

    korean = await new_page(browser, locale="ko-KR")
    await korean.goto(f"{shop.url}/events/{show.event_id}")
    assert await korean.get_attribute("html", "lang") == "ko"
    assert await korean.locator("text=등급과 가격").count() == 1
    assert await korean.locator("text=132,000원").count() >= 1
    await screenshot(korean, "event-ko")

    await korean.click("a[hreflang=en]")  # the switch wins over Accept-Language, and stays
    await korean.wait_for_selector("html[lang=en]")
    await korean.goto(f"{shop.url}/")
    assert await korean.get_attribute("html", "lang") == "en"
    assert not english.js_errors
    assert not korean.js_errors


async def test_pages_carry_security_headers_and_docs_need_no_cdn(shop: Shop) -> None:
    page = await shop.http.get("/", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "<script>" not in page.text  # no inline script on any page

    docs = await shop.http.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower()
    for asset in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"):
        assert (await shop.http.get(asset)).status_code == 200

    # A user's data never comes without the user's token: fragments answer 401.
    assert (await shop.http.get("/fragments/tickets")).status_code == 401
    assert (await shop.http.get("/lang/en?next=//evil.example")).headers["location"] == "/"
