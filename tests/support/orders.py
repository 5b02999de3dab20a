"""Fixtures for orders and tickets tests: the payment stand-ins and the app wired to them.

Import the fixtures into a ``conftest.py``: ``from tests.support.orders import *  # noqa``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from boxoffice.platform.config import PaymentSettings
from boxoffice.platform.runtime import Runtime
from tests.stubs.kakaopay import TEST_CID, KakaoPayStandIn
from tests.stubs.kakaopay import TEST_SECRET_KEY as KAKAOPAY_SECRET
from tests.stubs.toss import TEST_CLIENT_KEY, TEST_SECRET_KEY, TossStandIn
from tests.support.api import API, Caller
from tests.support.catalog import ShowSetup


@pytest.fixture(scope="session")
def _toss_server() -> Iterator[TossStandIn]:
    standin = TossStandIn()
    standin.server.start()
    yield standin
    standin.server.stop()


@pytest.fixture(scope="session")
def _kakaopay_server() -> Iterator[KakaoPayStandIn]:
    standin = KakaoPayStandIn()
    standin.server.start()
    yield standin
    standin.server.stop()


@pytest.fixture
def toss(_toss_server: TossStandIn) -> TossStandIn:
    """The Toss stand-in, emptied for this test."""
    _toss_server.reset()
    return _toss_server


@pytest.fixture
def kakaopay(_kakaopay_server: KakaoPayStandIn) -> KakaoPayStandIn:
    """The KakaoPay stand-in, emptied for this test."""
    _kakaopay_server.reset()
    return _kakaopay_server


@pytest.fixture
def payment_settings(toss: TossStandIn, kakaopay: KakaoPayStandIn) -> PaymentSettings:
    """The app's real payment clients pointed at the stand-ins."""
    return PaymentSettings(
        toss_secret_key=TEST_SECRET_KEY,
        toss_client_key=TEST_CLIENT_KEY,
        toss_base_url=toss.server.url,
        kakaopay_secret_key=KAKAOPAY_SECRET,
        kakaopay_cid=TEST_CID,
        kakaopay_base_url=kakaopay.server.url,
        timeout_seconds=5.0,
        frontend_result_url="https://front.example/checkout/result",
    )


# --- driving the sale over HTTP ------------------------------------------------------------


async def hold_seats(
    client: httpx.AsyncClient, caller: Caller, show_id: str, seat_ids: list[str]
) -> dict[str, Any]:
    response = await client.post(
        f"{API}/shows/{show_id}/holds", json={"seat_ids": seat_ids}, headers=caller.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def place_order(
    client: httpx.AsyncClient,
    caller: Caller,
    hold_id: str | None,
    provider: str = "internal",
    *,
    key: str | None = None,
    items: list[dict[str, Any]] | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"payment_provider": provider, "items": items or []}
    if hold_id is not None:
        body["hold_id"] = hold_id
    headers = {**caller.headers, "Idempotency-Key": key or uuid.uuid4().hex}
    return await client.post(f"{API}/orders", json=body, headers=headers)


async def new_order(
    client: httpx.AsyncClient,
    caller: Caller,
    show: ShowSetup,
    provider: str = "internal",
    *,
    seats: int = 2,
    offset: int = 0,
) -> dict[str, Any]:
    hold = await hold_seats(client, caller, show.show_id, show.seat_ids[offset : offset + seats])
    response = await place_order(client, caller, hold["hold_id"], provider)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def read_order(client: httpx.AsyncClient, caller: Caller, order_id: str) -> dict[str, Any]:
    """The order as its buyer reads it (``GET /orders/{id}``), which must answer 200."""
    response = await client.get(f"{API}/orders/{order_id}", headers=caller.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def paid_order(
    client: httpx.AsyncClient, caller: Caller, show: ShowSetup, *, seats: int = 2, offset: int = 0
) -> dict[str, Any]:
    """An order of ``seats`` seats from ``offset``, paid with the internal provider."""
    order = await new_order(client, caller, show, seats=seats, offset=offset)
    paid = await client.post(f"{API}/orders/{order['id']}/pay", headers=caller.headers)
    assert paid.status_code == 200, paid.text
    return order


async def pay(
    client: httpx.AsyncClient,
    caller: Caller,
    order: dict[str, Any],
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> httpx.Response:
    """Pay the order the way its provider's buyer would; returns the order (or the error)."""
    provider = order["payment"]["provider"]
    if provider == "internal":
        return await client.post(f"{API}/orders/{order['id']}/pay", headers=caller.headers)
    if provider == "toss":
        key = toss.authorize(order["id"], order["amount"])
        return await client.post(
            f"{API}/payments/toss/confirm",
            json={"paymentKey": key, "orderId": order["id"], "amount": order["amount"]},
            headers=caller.headers,
        )
    token = kakaopay.authorize(order["payment"]["tid"])
    redirect = await client.get(
        f"{API}/payments/kakaopay/approve",
        params={"order_id": order["id"], "pg_token": token},
    )
    assert redirect.status_code == 302, redirect.text
    response = await client.get(f"{API}/orders/{order['id']}", headers=caller.headers)
    if response.json()["status"] != "paid":
        return redirect
    return response


async def bought(
    client: httpx.AsyncClient,
    caller: Caller,
    show: ShowSetup,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
    *,
    provider: str = "internal",
    seats: int = 2,
    offset: int = 0,
) -> dict[str, Any]:
    """An order of ``seats`` seats from ``offset`` placed and paid through ``provider``'s
    flow; returns the paid order."""
    order = await new_order(client, caller, show, provider, seats=seats, offset=offset)
    paid = await pay(client, caller, order, toss, kakaopay)
    assert paid.status_code == 200, paid.text
    body: dict[str, Any] = paid.json()
    assert body["status"] == "paid", body
    return body


async def cancel_order(
    client: httpx.AsyncClient, caller: Caller, order_id: str, *, reason: str, **body: object
) -> httpx.Response:
    """``POST /orders/{id}/cancel`` as ``caller`` (``charge_fee``, ``refund_used``...)."""
    return await client.post(
        f"{API}/orders/{order_id}/cancel", json={"reason": reason, **body}, headers=caller.headers
    )


async def count_rows(runtime: Runtime, sql: str, **params: Any) -> int:
    async with runtime.uow() as uow:
        return int((await uow.session.execute(text(sql), params)).scalar_one())
