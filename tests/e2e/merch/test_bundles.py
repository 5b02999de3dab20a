"""Bundles: hold and order responses offer the event's goods that are on sale and in stock."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from boxoffice.platform.runtime import Runtime
from tests.e2e.merch.conftest import Shop
from tests.support.api import API, customer
from tests.support.catalog import open_show


async def _product(
    client: httpx.AsyncClient, shop: Shop, name: str, stock: int, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        f"{API}/events/{shop.event_id}/products",
        headers=shop.seller.headers,
        json={
            "name": name,
            "description": f"{name} for the tour",
            "price": 35000,
            "variants": [
                {"sku": f"{name[:3].upper()}-{uuid.uuid4().hex[:6]}", "option": "", "stock": stock}
            ],
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_hold_and_order_offer_goods_on_sale_and_in_stock(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop
) -> None:
    stick = await _product(client, shop, "Light stick", stock=10)
    await _product(client, shop, "Sold-out towel", stock=0)
    fan = await customer(client)
    seats = (await client.get(f"{API}/shows/{shop.show_id}/seats")).json()["seats"]

    hold = await client.post(
        f"{API}/shows/{shop.show_id}/holds",
        headers=fan.headers,
        json={"seat_ids": [seats[0]["id"]]},
    )
    assert hold.status_code == 201, hold.text
    offered = hold.json()["suggested_products"]
    assert [p["product_id"] for p in offered] == [stick["id"]]
    assert offered[0]["variants"][0]["in_stock"] is True
    again = await client.get(f"{API}/holds/{hold.json()['hold_id']}", headers=fan.headers)
    assert [p["product_id"] for p in again.json()["suggested_products"]] == [stick["id"]]

    order = await client.post(
        f"{API}/orders",
        headers={**fan.headers, "Idempotency-Key": uuid.uuid4().hex},
        json={"hold_id": hold.json()["hold_id"], "items": [], "payment_provider": "internal"},
    )
    assert order.status_code == 201, order.text
    assert [p["product_id"] for p in order.json()["suggested_products"]] == [stick["id"]]
    read = await client.get(f"{API}/orders/{order.json()['id']}", headers=fan.headers)
    assert [p["product_id"] for p in read.json()["suggested_products"]] == [stick["id"]]

    paid = await client.post(f"{API}/orders/{order.json()['id']}/pay", headers=fan.headers)
    assert paid.status_code == 200, paid.text
    assert paid.json()["suggested_products"] == []  # nothing is offered on a closed sale


async def test_an_event_without_goods_offers_nothing(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show = await open_show(client, runtime)
    fan = await customer(client)
    seats = (await client.get(f"{API}/shows/{show.show_id}/seats")).json()["seats"]
    hold = await client.post(
        f"{API}/shows/{show.show_id}/holds",
        headers=fan.headers,
        json={"seat_ids": [seats[0]["id"]]},
    )
    assert hold.status_code == 201, hold.text
    assert hold.json()["suggested_products"] == []
