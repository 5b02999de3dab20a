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
from tests.support.catalog import open_show

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


LINES = """() => {
  const lines = (node) => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  };
  const rows = [...document.querySelectorAll('#events tbody tr')];
  return {
    rows: rows.length,
    state: rows.map((r) => lines(r.cells[1])),
    moments: [...document.querySelectorAll('#events time')].map(lines),
    datetimes: [...document.querySelectorAll('#events time')].map((t) => t.dateTime),
    scrolls: document.querySelector('#events').closest('.grid-wrap').scrollWidth
      > document.querySelector('#events').closest('.grid-wrap').clientWidth,
  };
}"""


@pytest.mark.parametrize(("backend", "use_redis"), [("sqlite", False)], ids=["embedded"])
async def test_a_list_too_wide_for_a_phone_scrolls_instead_of_breaking_its_words(
    shop: Shop, browser: object
) -> None:
    """The events list on a phone in Korean: the state (공개) is one word, not a syllable
    per line, and each date is one line; the table scrolls in its box instead."""
    show = await open_show(shop.http, shop.runtime)
    page = await new_page(browser, locale="ko-KR")
    await page.set_viewport_size({"width": 360, "height": 800})
    await log_in(page, shop.url, show.seller.email, "/console")
    await page.wait_for_selector("#events tbody tr")
    found = await page.evaluate(LINES)
    assert found["rows"] == 1, found
    assert found["state"] == [1], found  # "공개" on one line
    assert found["moments"] == [1, 1], found  # the first show, the sale's opening
    assert all(found["datetimes"]), found  # <time datetime>: the moment, machine-readable
    assert found["scrolls"], found
    widths = await page.evaluate(WIDTHS)
    assert widths["page"] == widths["screen"], widths
    await screenshot(page, "console-events-phone")
