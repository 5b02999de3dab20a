"""The console's event page and goods page in real Chromium: the seller uploads a poster,
sets the transfer rules, creates a product with two variants, changes a variant's stock,
the price and the description, uploads a product image — and the API reads back exactly
that; a customer is shown the refusal, and the API refuses the same call."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import expect

from tests.e2e.web.conftest import Shop, new_page
from tests.e2e.web.helpers import log_in
from tests.support.api import API, assert_problem, customer
from tests.support.browser import screenshot
from tests.support.catalog import open_show

pytestmark = pytest.mark.slow


def _png(path: Path, colour: str) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (400, 560), colour).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


async def console_page(browser: Any) -> Any:
    page = await new_page(browser, locale="en-US")
    await page.set_viewport_size({"width": 1280, "height": 900})
    return page


async def test_a_seller_adds_a_poster_and_sells_goods_with_variants(
    shop: Shop, browser: object, tmp_path: Path
) -> None:
    show = await open_show(shop.http, shop.runtime, rows=1, seats_per_row=4)
    page = await console_page(browser)
    await log_in(page, shop.url, show.seller.email, f"/console/events/{show.event_id}")
    await page.wait_for_selector("#edit-form[data-ready]")
    await expect(page.locator("[data-no-images]")).to_be_visible()

    await page.set_input_files("#image-file", str(_png(tmp_path / "poster.png", "navy")))
    await page.click("#image-form button[type=submit]")
    await expect(page.locator("#image-list img")).to_have_count(1)
    event = (await shop.http.get(f"{API}/events/{show.event_id}")).json()
    assert event["poster_url"] is not None
    assert [i["kind"] for i in event["images"]] == ["poster"]
    # a file that is not an image: the API's refusal is shown, nothing stored
    (tmp_path / "notes.png").write_bytes(b"not an image at all")
    await page.set_input_files("#image-file", str(tmp_path / "notes.png"))
    await page.click("#image-form button[type=submit]")
    await expect(page.locator("#image-message")).not_to_be_empty()
    assert len((await shop.http.get(f"{API}/events/{show.event_id}")).json()["images"]) == 1

    # the transfer rules, through the edit form
    await page.uncheck("#edit-transfers")
    await page.fill("#edit-transfer-cutoff", "48")
    await page.click("#edit-form button[type=submit]")
    await page.wait_for_selector("#edit-message:not([hidden])")
    event = (await shop.http.get(f"{API}/events/{show.event_id}")).json()
    assert (event["transfers_allowed"], event["transfer_cutoff_hours"]) == (False, 48)
    await shop.check_accessibility(page, "console event images")

    await page.click("#goods-link")
    await page.wait_for_selector("#goods[data-loaded]")
    await page.fill("#product-name", "Tour T-shirt")
    await page.fill("#product-price", "35000")
    await page.fill("#product-description", "Cotton, printed in Seoul")
    rows = page.locator("#variant-rows tbody tr")
    await rows.nth(0).locator("[name=sku]").fill("TEE-M")
    await rows.nth(0).locator("[name=option]").fill("M")
    await rows.nth(0).locator("[name=stock]").fill("40")
    await page.click("#add-variant")
    await rows.nth(1).locator("[name=sku]").fill("TEE-L")
    await rows.nth(1).locator("[name=option]").fill("L")
    await rows.nth(1).locator("[name=stock]").fill("25")
    await page.click("#product-new button[type=submit]")
    card = page.locator("#products .product")
    await expect(card).to_have_count(1)
    await expect(card.locator("[data-stock=TEE-L]")).to_have_text("25")

    adjust = card.locator("form[data-adjust=TEE-L]")
    await adjust.locator("[name=delta]").fill("-5")
    await adjust.locator("[name=reason]").fill("damaged in transit")
    await adjust.locator("button[type=submit]").click()
    await expect(page.locator("#products .product [data-stock=TEE-L]")).to_have_text("20")
    edit = page.locator("#products .product [data-form=edit]")
    await edit.locator("[data-input=price]").fill("33000")
    await edit.locator("[data-input=description]").fill("Organic cotton, printed in Seoul")
    async with page.expect_request(lambda r: r.method == "PATCH") as patched:
        await edit.locator("button[type=submit]").click()
    # only what changed is sent (the event editor's rule): name and status stay unsent
    assert (await patched.value).post_data_json == {
        "price": 33000,
        "description": "Organic cotton, printed in Seoul",
    }
    await expect(page.locator("#products .product [data-field=name]")).to_contain_text("33,000")
    image = page.locator("#products .product [data-form=image]")
    await image.locator("[data-input=file]").set_input_files(str(_png(tmp_path / "tee.png", "red")))
    await image.locator("button[type=submit]").click()
    await expect(page.locator("#products .product [data-field=images] img")).to_have_count(1)
    await shop.check_accessibility(page, "console goods")
    await screenshot(page, "console-goods")

    listed = await shop.http.get(
        f"{API}/events/{show.event_id}/products", headers=show.seller.headers
    )
    (product,) = listed.json()["items"]
    assert (product["name"], product["price"], product["description"]) == (
        "Tour T-shirt",
        33000,
        "Organic cotton, printed in Seoul",
    )
    assert {v["sku"]: (v["option"], v["stock"]) for v in product["variants"]} == {
        "TEE-M": ("M", 40),
        "TEE-L": ("L", 20),
    }
    assert len(product["images"]) == 1
    log = await shop.http.get(
        f"{API}/products/{product['id']}/stock-adjustments", headers=show.seller.headers
    )
    changes = {(a["sku"], a["delta"], a["reason"]) for a in log.json()["items"]}
    assert ("TEE-L", -5, "damaged in transit") in changes
    assert not page.js_errors, page.js_errors
    assert not shop.violations, shop.violations


async def test_a_customer_cannot_manage_goods(shop: Shop, browser: object) -> None:
    show = await open_show(shop.http, shop.runtime, rows=1, seats_per_row=2)
    fan = await customer(shop.http, "goodsfan")
    page = await console_page(browser)
    await log_in(page, shop.url, fan.email, f"/console/events/{show.event_id}/goods")
    await page.wait_for_selector("#denied:not([hidden])")
    assert await page.locator("#products .product").count() == 0
    refused = await shop.http.post(
        f"{API}/events/{show.event_id}/products",
        json={"name": "Mug", "price": 1000, "variants": [{"sku": "M1", "option": "-", "stock": 1}]},
        headers=fan.headers,
    )
    assert_problem(refused, 403, "forbidden")
    assert not page.js_errors, page.js_errors
