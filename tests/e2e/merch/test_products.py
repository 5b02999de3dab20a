"""Goods as sellers and fans see them over HTTP: create, list, read, edit, stock audit,
and every refusal (another seller, a customer, nobody signed in, bad input)."""

from __future__ import annotations

import httpx
import pytest

from boxoffice.catalog.contracts import SaleNotOpen
from boxoffice.merch import service as merch
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role
from tests.conftest import BACKENDS
from tests.e2e.merch.conftest import Shop
from tests.support.api import API, assert_problem, customer, user_with_role
from tests.support.catalog import event_body, venue_body
from tests.support.merch import create_product, product_body

SHIRT = [
    {"sku": "TS-S", "option": "S", "stock": 10},
    {"sku": "TS-M", "option": "M", "stock": 20},
]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_seller_sells_goods_for_their_event(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop
) -> None:
    seller = shop.seller.headers
    created = await create_product(
        client, shop.seller, shop.event_id, name="Tour T-shirt", price=45000, variants=SHIRT
    )
    assert created["event_id"] == shop.event_id
    assert created["seller_id"] == shop.seller.id
    assert (created["price"], created["currency"], created["status"]) == (45000, "KRW", "on_sale")
    assert created["max_per_user"] is None
    assert created["variants"] == [
        {"sku": "TS-S", "option": "S", "in_stock": True, "stock": 10},
        {"sku": "TS-M", "option": "M", "in_stock": True, "stock": 20},
    ]
    product_url = f"{API}/products/{created['id']}"

    # Fans see the goods without stock counts; nobody needs to sign in.
    listed = await client.get(f"{API}/events/{shop.event_id}/products")
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()["items"]] == [created["id"]]
    public = (await client.get(product_url)).json()
    assert [(v["sku"], v["in_stock"], v["stock"]) for v in public["variants"]] == [
        ("TS-S", True, None),
        ("TS-M", True, None),
    ]

    edited = await client.patch(
        product_url, headers=seller, json={"price": 39000, "max_per_user": 2, "name": " Tee "}
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["price"], edited.json()["max_per_user"], edited.json()["name"]) == (
        39000,
        2,
        "Tee",
    )
    cleared = await client.patch(product_url, headers=seller, json={"max_per_user": None})
    assert cleared.json()["max_per_user"] is None

    added = await client.post(
        f"{product_url}/variants", headers=seller, json={"sku": "TS-XL", "option": "XL"}
    )
    assert added.status_code == 201, added.text
    assert added.json()["variants"][-1] == {
        "sku": "TS-XL",
        "option": "XL",
        "in_stock": False,
        "stock": 0,
    }

    restock = await client.post(
        f"{product_url}/variants/TS-XL/stock",
        headers=seller,
        json={"delta": 15, "reason": "second shipment"},
    )
    assert restock.status_code == 200, restock.text
    assert {k: restock.json()[k] for k in ("sku", "delta", "stock_after", "actor_id")} == {
        "sku": "TS-XL",
        "delta": 15,
        "stock_after": 15,
        "actor_id": shop.seller.id,
    }
    damaged = await client.post(
        f"{product_url}/variants/TS-S/stock",
        headers=seller,
        json={"delta": -3, "reason": "damaged"},
    )
    assert damaged.json()["stock_after"] == 7
    too_many = await client.post(
        f"{product_url}/variants/TS-S/stock", headers=seller, json={"delta": -8, "reason": "lost"}
    )
    assert assert_problem(too_many, 409, "conflict")["stock"] == 7

    audit = await client.get(f"{product_url}/stock-adjustments", headers=seller)
    assert audit.status_code == 200
    trail = [(a["sku"], a["delta"], a["stock_after"], a["reason"]) for a in audit.json()["items"]]
    assert trail == [
        ("TS-S", -3, 7, "damaged"),
        ("TS-XL", 15, 15, "second shipment"),
        ("TS-M", 20, 20, "initial stock"),
        ("TS-S", 10, 10, "initial stock"),
    ]
    assert all(a["actor_id"] == shop.seller.id and a["created_at"] for a in audit.json()["items"])

    # Stopping the sale shows the product sold out; running out of stock does too.
    stopped = await client.patch(product_url, headers=seller, json={"status": "sold_out"})
    assert stopped.json()["status"] == "sold_out"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_hidden_goods_are_seen_by_their_seller_only(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop
) -> None:
    shown = await create_product(client, shop.seller, shop.event_id)
    hidden = await create_product(
        client,
        shop.seller,
        shop.event_id,
        name="Secret photo book",
        status="hidden",
        variants=[{"sku": "PB-1", "stock": 5}],
    )
    fan = await customer(client)
    for headers in ({}, fan.headers):
        listed = await client.get(f"{API}/events/{shop.event_id}/products", headers=headers)
        assert [p["id"] for p in listed.json()["items"]] == [shown["id"]]
        assert_problem(
            await client.get(f"{API}/products/{hidden['id']}", headers=headers), 404, "not_found"
        )
    own = await client.get(f"{API}/events/{shop.event_id}/products", headers=shop.seller.headers)
    assert {p["id"] for p in own.json()["items"]} == {shown["id"], hidden["id"]}
    mine = await client.get(f"{API}/products/{hidden['id']}", headers=shop.seller.headers)
    assert mine.status_code == 200
    assert mine.json()["status"] == "hidden"
    admin = await user_with_role(client, runtime, Role.ADMIN)
    seen = await client.get(f"{API}/products/{hidden['id']}", headers=admin.headers)
    assert seen.status_code == 200


@pytest.mark.parametrize("backend", BACKENDS)
async def test_only_the_events_seller_may_change_its_goods(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop
) -> None:
    product = await create_product(client, shop.seller, shop.event_id)
    url = f"{API}/products/{product['id']}"
    rival = await user_with_role(client, runtime, Role.SELLER, tag="rival")
    fan = await customer(client)
    attempts = [
        ("POST", f"{API}/events/{shop.event_id}/products", product_body(variants=[{"sku": "X-1"}])),
        ("PATCH", url, {"price": 1}),
        ("POST", f"{url}/variants", {"sku": "X-2"}),
        ("POST", f"{url}/variants/LS-01/stock", {"delta": -50, "reason": "sabotage"}),
        ("GET", f"{url}/stock-adjustments", None),
    ]
    for method, path, body in attempts:
        for who, status, code in ((rival, 403, "forbidden"), (fan, 403, "forbidden")):
            response = await client.request(method, path, json=body, headers=who.headers)
            assert_problem(response, status, code)
        assert_problem(await client.request(method, path, json=body), 401, "unauthorized")
    unchanged = (await client.get(url, headers=shop.seller.headers)).json()
    assert (unchanged["price"], unchanged["variants"][0]["stock"]) == (35000, 50)

    # An admin may act for the seller; the product stays the seller's.
    admin = await user_with_role(client, runtime, Role.ADMIN)
    by_admin = await client.post(
        f"{API}/events/{shop.event_id}/products",
        headers=admin.headers,
        json=product_body("Poster", variants=[{"sku": "PO-1", "stock": 1}]),
    )
    assert by_admin.status_code == 201, by_admin.text
    assert by_admin.json()["seller_id"] == shop.seller.id


@pytest.mark.parametrize("backend", BACKENDS)
async def test_bad_input_is_refused_with_the_api_codes(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop
) -> None:
    seller = shop.seller.headers
    create = f"{API}/events/{shop.event_id}/products"
    invalid = [
        product_body(price=-1),
        product_body(price="free"),
        product_body(variants=[]),
        product_body(variants=[{"sku": "A-1"}, {"sku": "A-1"}]),
        product_body(variants=[{"sku": "has space"}]),
        product_body(variants=[{"sku": "A-1", "stock": -1}]),
        product_body(name=""),
        product_body(status="deleted"),
        product_body(max_per_user=0),
        {**product_body(), "colour": "red"},
    ]
    for body in invalid:
        body_errors = assert_problem(
            await client.post(create, json=body, headers=seller), 422, "validation_error"
        )
        assert body_errors["errors"], body
    assert_problem(
        await client.post(
            create, content=b"{not json", headers={**seller, "content-type": "application/json"}
        ),
        400,
        "bad_request",
    )
    assert_problem(
        await client.post(
            f"{API}/events/no-such-event/products", json=product_body(), headers=seller
        ),
        404,
        "not_found",
    )

    product = await create_product(client, shop.seller, shop.event_id)
    taken = await client.post(
        create, json=product_body(variants=[{"sku": "LS-01"}]), headers=seller
    )
    assert assert_problem(taken, 409, "conflict")["sku"] == "LS-01"
    url = f"{API}/products/{product['id']}"
    for patch in ({"name": None}, {"price": None}, {"status": "gone"}, {"stock": 3}):
        assert_problem(await client.patch(url, json=patch, headers=seller), 422, "validation_error")
    for adjustment in ({"delta": 0, "reason": "x"}, {"delta": 1}, {"delta": 1, "reason": " "}):
        response = await client.post(f"{url}/variants/LS-01/stock", json=adjustment, headers=seller)
        assert_problem(response, 422, "validation_error")
    missing = await client.post(
        f"{url}/variants/NOPE/stock", json={"delta": 1, "reason": "x"}, headers=seller
    )
    assert_problem(missing, 404, "not_found")
    assert_problem(await client.get(f"{API}/products/nope"), 404, "not_found")
    assert_problem(await client.get(f"{API}/events/nope/products"), 404, "not_found")
    assert_problem(
        await client.patch(f"{API}/products/nope", json={}, headers=seller), 404, "not_found"
    )


async def test_goods_follow_their_events_state(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop
) -> None:
    """A draft event's goods are the seller's secret and cannot be bought; a cancelled
    event takes no new goods and sells none."""
    seller = shop.seller.headers
    venue = await client.post(f"{API}/venues", json=venue_body(1, 4, ["R"]), headers=seller)
    draft = await client.post(
        f"{API}/events",
        json=event_body(venue.json()["id"], runtime, grades=[("R", 99000)]),
        headers=seller,
    )
    assert draft.status_code == 201, draft.text
    draft_id = draft.json()["id"]
    product = await create_product(
        client, shop.seller, draft_id, variants=[{"sku": "DR-1", "stock": 5}]
    )
    assert_problem(await client.get(f"{API}/events/{draft_id}/products"), 404, "not_found")
    assert_problem(await client.get(f"{API}/products/{product['id']}"), 404, "not_found")
    mine = await client.get(f"{API}/events/{draft_id}/products", headers=seller)
    assert [p["id"] for p in mine.json()["items"]] == [product["id"]]
    async with runtime.uow() as uow:
        with pytest.raises(SaleNotOpen) as caught:
            await merch.reserve_items(
                uow, runtime, order_id=new_id(), user_id=new_id(), items=[("DR-1", 1)]
            )
    assert caught.value.extra["sku"] == "DR-1"

    await create_product(client, shop.seller, shop.event_id)
    cancelled = await client.post(
        f"{API}/events/{shop.event_id}/cancel", json={"reason": "weather"}, headers=seller
    )
    assert cancelled.status_code == 200, cancelled.text
    late = await client.post(
        f"{API}/events/{shop.event_id}/products",
        json=product_body(variants=[{"sku": "LATE-1", "stock": 1}]),
        headers=seller,
    )
    assert_problem(late, 409, "conflict")
    listed = await client.get(f"{API}/events/{shop.event_id}/products")
    assert [p["variants"][0]["sku"] for p in listed.json()["items"]] == ["LS-01"]
    async with runtime.uow() as uow:
        with pytest.raises(SaleNotOpen):
            await merch.reserve_items(
                uow, runtime, order_id=new_id(), user_id=new_id(), items=[("LS-01", 1)]
            )
