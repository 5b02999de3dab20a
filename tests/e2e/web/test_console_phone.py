"""The console on a phone: a table wider than the screen scrolls sideways in its own box,
so the page itself never does (the door is worked on phones, and sellers look in on the
sale from one)."""

from __future__ import annotations

import pytest

from boxoffice.platform.security import Role
from tests.e2e.web.conftest import Shop, new_page
from tests.e2e.web.helpers import log_in
from tests.support.api import user_with_role
from tests.support.browser import screenshot

pytestmark = pytest.mark.slow

WIDTHS = """() => ({
  page: document.documentElement.scrollWidth,
  screen: document.documentElement.clientWidth,
  tables: [...document.querySelectorAll('.grid-wrap')].map(b => b.scrollWidth - b.clientWidth),
})"""


@pytest.mark.parametrize(("backend", "use_redis"), [("sqlite", False)], ids=["embedded"])
async def test_wide_tables_scroll_in_their_box_and_the_page_stays_the_screens_width(
    shop: Shop, browser: object
) -> None:
    seller = await user_with_role(shop.http, shop.runtime, Role.SELLER)
    page = await new_page(browser, locale="en-US")
    await log_in(page, shop.url, seller.email, "/console/new")
    await page.wait_for_selector("#sections tbody tr")
    widths = await page.evaluate(WIDTHS)
    assert widths["page"] == widths["screen"], widths
    # The venue editor's sections table is wider than a phone: it scrolls, by itself.
    assert max(widths["tables"]) > 0, widths
    await screenshot(page, "console-venue-editor-phone")
