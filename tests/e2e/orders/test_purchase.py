"""The whole sale over HTTP for each provider: hold → order → pay → tickets."""

from __future__ import annotations

import httpx
import pytest

from boxoffice.platform.runtime import Runtime
from tests.conftest import BACKENDS
from tests.stubs.kakaopay import KakaoPayStandIn
from tests.stubs.toss import TossStandIn
from tests.support.api import API, Caller
from tests.support.catalog import ShowSetup
from tests.support.orders import count_rows, hold_seats, pay, place_order


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("provider", ["internal", "toss", "kakaopay"])
async def test_hold_order_pay_tickets(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
    provider: str,
) -> None:
    seats = show.seat_ids[:2]
    hold = await hold_seats(client, fan, show.show_id, seats)
    created = await place_order(client, fan, hold["hold_id"], provider)
    assert created.status_code == 201, created.text
    order = created.json()
    expected = sum(show.grade_prices["VIP"] for _ in seats)
    assert (order["status"], order["amount"], order["currency"]) == ("pending", expected, "KRW")
    assert order["expires_at"] == hold["expires_at"]
    assert [line["ref"] for line in order["lines"]] == seats
    assert order["payment"]["provider"] == provider
    if provider == "toss":
        checkout = order["payment"]
        assert checkout["order_id"] == order["id"]
        assert checkout["amount"] == expected
        assert checkout["success_url"].endswith("/api/v1/payments/toss/success")
        assert set(checkout) >= {"order_name", "client_key", "fail_url"}
    if provider == "kakaopay":
        assert order["payment"]["tid"] in kakaopay.payments
        assert order["payment"]["redirect_url"]

    paid = await pay(client, fan, order, toss, kakaopay)
    assert paid.status_code == 200, paid.text
    body = paid.json()
    assert body["status"] == "paid"
    assert len(body["ticket_ids"]) == 2

    mine = (await client.get(f"{API}/users/me/tickets", headers=fan.headers)).json()["items"]
    assert {t["seat"]["id"] for t in mine} == set(seats)
    assert all(t["status"] == "valid" and t["order_id"] == order["id"] for t in mine)
    ticket = (await client.get(f"{API}/tickets/{mine[0]['id']}", headers=fan.headers)).json()
    assert ticket["code"].startswith("T1")
    sold = await count_rows(
        runtime,
        "SELECT count(*) FROM seating_seats WHERE show_id = :s AND status = 'sold'",
        s=show.show_id,
    )
    assert sold == 2
    if provider == "toss":
        assert toss.captured == expected
    if provider == "kakaopay":
        assert kakaopay.captured == expected
    listed = (await client.get(f"{API}/users/me/orders", headers=fan.headers)).json()
    assert [o["id"] for o in listed["items"]] == [order["id"]]
