"""Helpers for merch tests: products through the HTTP API, stock read from the database."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from boxoffice.merch.models import Reservation, Variant
from boxoffice.platform.runtime import Runtime
from tests.support.api import API, Caller


def product_body(
    name: str = "Official light stick",
    *,
    price: int = 35000,
    variants: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "name": name,
        "description": "Bluetooth-synced light stick for the tour.",
        "price": price,
        "variants": [{"sku": "LS-01", "option": "", "stock": 50}] if variants is None else variants,
        **fields,
    }


async def create_product(
    client: httpx.AsyncClient, seller: Caller, event_id: str, **body: Any
) -> dict[str, Any]:
    response = await client.post(
        f"{API}/events/{event_id}/products", json=product_body(**body), headers=seller.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def stock_of(runtime: Runtime, sku: str) -> int:
    async with runtime.uow() as uow:
        value = await uow.session.scalar(select(Variant.stock).where(Variant.sku == sku))
    assert value is not None, f"no variant {sku}"
    return int(value)


async def units_in(runtime: Runtime, sku: str, status: str) -> int:
    """Units of ``sku`` whose reservations are in ``status``, counted in the database."""
    async with runtime.uow() as uow:
        value = await uow.session.scalar(
            select(func.coalesce(func.sum(Reservation.quantity), 0)).where(
                Reservation.sku == sku, Reservation.status == status
            )
        )
    return int(value or 0)
