"""Where the basket stands beside the seat map. On a phone it stays out of the map's way
until the fan has chosen a seat, then follows them as a bar along the bottom; on a wide
screen it stands beside the map, so the hold button is in sight without scrolling."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.web.conftest import Shop, new_page
from tests.e2e.web.helpers import log_in
from tests.support.api import customer
from tests.support.browser import screenshot
from tests.support.catalog import open_show

pytestmark = pytest.mark.slow


async def box(page: Any, selector: str) -> dict[str, float]:
    """Where an element stands on the screen now (CSS pixels from the viewport's corner)."""
    return await page.eval_on_selector(  # type: ignore[no-any-return]
        selector,
        "n => { const r = n.getBoundingClientRect();"
        " return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }",
    )


async def seat_picker(
    shop: Shop, browser: object, viewport: dict[str, int] | None = None
) -> tuple[list[str], Any]:
    """A fan on the seat picker of a show taller than a screen: its seat ids and the page."""
    setup = await open_show(shop.http, shop.runtime, rows=14, seats_per_row=8)
    fan_account = await customer(shop.http, "yuna")
    fan = await new_page(browser)
    if viewport:
        await fan.set_viewport_size(viewport)
    await log_in(fan, shop.url, fan_account.email, f"/shows/{setup.show_id}/seats")
    await fan.wait_for_selector("#picker[data-ready]")
    return setup.seat_ids, fan


@pytest.mark.parametrize(("backend", "use_redis"), [("sqlite", False)], ids=["embedded"])
async def test_the_basket_covers_the_map_only_once_it_holds_a_seat(
    shop: Shop, browser: object
) -> None:
    seat_ids, fan = await seat_picker(shop, browser)
    screen = await fan.evaluate("() => window.innerHeight")

    # Nothing chosen: the basket waits below the map and the list, not over them.
    house, basket = await box(fan, ".map-wrap"), await box(fan, ".basket")
    assert house["bottom"] > screen, "the map should run past the screen, as a real house's does"
    assert basket["top"] >= house["bottom"], (basket, house)

    await fan.click(f'circle[data-id="{seat_ids[0]}"]')
    await fan.click(f'circle[data-id="{seat_ids[1]}"]')
    assert await fan.text_content("#chosen-count") == "2"
    await fan.evaluate("() => window.scrollTo(0, 0)")
    # Chosen: the basket is a bar at the screen's bottom, the hold button on it, and it
    # leaves most of the screen to the map.
    bar, hold = await box(fan, ".basket"), await box(fan, "#hold")
    assert bar["bottom"] == pytest.approx(screen, abs=1), (bar, screen)
    assert bar["top"] <= hold["top"], (bar, hold)
    assert hold["bottom"] <= screen, (hold, screen)
    assert bar["bottom"] - bar["top"] < screen / 5, (bar, screen)
    # Both seats named on the bar without scrolling it (their prices are in its total).
    shown = await box(fan, "#chosen")
    for n in (1, 2):
        seat = await box(fan, f"#chosen li:nth-child({n})")
        assert seat["bottom"] <= shown["bottom"] + 0.5, (n, seat, shown)
    await screenshot(fan, "seat-picker-phone-basket")
    assert await fan.is_enabled("#hold")


@pytest.mark.parametrize(("backend", "use_redis"), [("sqlite", False)], ids=["embedded"])
async def test_on_a_wide_screen_the_basket_stands_beside_the_map(
    shop: Shop, browser: object
) -> None:
    seat_ids, fan = await seat_picker(shop, browser, {"width": 1280, "height": 900})
    await fan.click(f'circle[data-id="{seat_ids[0]}"]')
    await fan.evaluate("() => window.scrollTo(0, 0)")

    house, basket = await box(fan, ".map-wrap"), await box(fan, ".basket")
    hold = await box(fan, "#hold")
    assert basket["left"] >= house["right"], (basket, house)
    assert hold["bottom"] <= await fan.evaluate("() => window.innerHeight"), hold
    await screenshot(fan, "seat-picker-wide-basket")
