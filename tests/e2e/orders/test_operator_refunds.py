"""Refunds by the order's operators — the event's seller and admins — from the console's
orders list: the buyer's terms shown first (``GET /orders/{id}/cancellation``), then a
refund in full at any time, or on the buyer's terms with ``charge_fee``. Nobody else sees
or refunds the order, nor a seller whose approval was withdrawn."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import httpx

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role
from tests.stubs.kakaopay import KakaoPayStandIn
from tests.stubs.toss import TossStandIn
from tests.support.api import API, Caller, assert_problem, user_with_role
from tests.support.catalog import ShowSetup, open_show
from tests.support.orders import bought, cancel_order


def _terms(client: httpx.AsyncClient, caller: Caller, order_id: str) -> object:
    return client.get(f"{API}/orders/{order_id}/cancellation", headers=caller.headers)


_refund = partial(cancel_order, reason="the organiser refunds")


_paid = partial(bought, provider="toss")


async def test_the_seller_sees_the_buyers_fee_and_refunds_in_full_or_on_the_buyers_terms(
    client: httpx.AsyncClient,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    full = await _paid(client, fan, show, toss, kakaopay)
    kept = await _paid(client, fan, show, toss, kakaopay, offset=2)
    clock.advance(timedelta(days=8))  # past the free week: 4,000 a ticket
    for caller in (show.seller, fan):
        terms = await _terms(client, caller, str(kept["id"]))
        assert terms.status_code == 200, terms.text
        lines = terms.json().pop("lines")
        assert [(line["position"], line["refunded_quantity"]) for line in lines] == [(0, 0), (1, 0)]
        assert {k: v for k, v in terms.json().items() if k != "lines"} == {
            "order_id": kept["id"],
            "status": "paid",
            "currency": "KRW",
            "cancellable": True,
            "allowed": True,
            "fee": 8000,
            "refund": kept["amount"] - 8000,
            "rule": "fixed_fee",
            "refundable": kept["amount"],
        }

    body = (await _refund(client, show.seller, str(kept["id"]), charge_fee=True)).json()
    assert (body["status"], body["fee"], body["refunded_amount"]) == (
        "partially_refunded",
        8000,
        kept["amount"] - 8000,
    )
    body = (await _refund(client, show.seller, str(full["id"]))).json()
    assert (body["status"], body["fee"], body["refunded_amount"]) == (
        "refunded",
        0,
        full["amount"],
    )
    assert body["cancel_reason"] == "the organiser refunds"
    assert toss.captured - toss.refunded == 8000
    # the buyer's tickets of both orders are void
    tickets = (await client.get(f"{API}/users/me/tickets", headers=fan.headers)).json()["items"]
    assert {t["status"] for t in tickets} == {"void"}
    after = (await _terms(client, show.seller, str(full["id"]))).json()
    assert (after["cancellable"], after["allowed"], after["refundable"], after["rule"]) == (
        False,
        False,
        0,
        "refunded",
    )


async def test_after_the_cutoff_the_seller_refunds_in_full_but_not_on_the_buyers_terms(
    client: httpx.AsyncClient,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    order = await _paid(client, fan, show, toss, kakaopay)
    clock.advance(timedelta(days=39, hours=12))  # inside the show's last 24 hours
    terms = (await _terms(client, show.seller, str(order["id"]))).json()
    assert (terms["allowed"], terms["rule"], terms["refundable"]) == (
        False,
        "after_cutoff",
        order["amount"],
    )
    assert_problem(await _refund(client, fan, str(order["id"])), 409, "cancellation_closed")
    assert_problem(
        await _refund(client, show.seller, str(order["id"]), charge_fee=True),
        409,
        "cancellation_closed",
    )
    body = (await _refund(client, show.seller, str(order["id"]))).json()
    assert (body["status"], body["refunded_amount"]) == ("refunded", order["amount"])
    assert toss.refunded == order["amount"]


async def test_the_buyer_pays_the_fee_whatever_they_send(
    client: httpx.AsyncClient,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    order = await _paid(client, fan, show, toss, kakaopay)
    clock.advance(timedelta(days=8))
    body = (await _refund(client, fan, str(order["id"]), charge_fee=False)).json()
    assert (body["status"], body["fee"]) == ("partially_refunded", 8000)


async def test_nobody_else_sees_or_refunds_the_order(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    order = await _paid(client, fan, show, toss, kakaopay)
    another_seller = (await open_show(client, runtime, rows=1, seats_per_row=2)).seller
    for stranger in (other, another_seller):
        assert_problem(await _terms(client, stranger, str(order["id"])), 404, "not_found")
        assert_problem(await _refund(client, stranger, str(order["id"])), 404, "not_found")
    assert_problem(await _terms(client, fan, "0" * 26), 404, "not_found")

    # the seller's approval withdrawn: the order is no longer theirs to see, at once,
    # though the token still says seller
    admin = await user_with_role(client, runtime, Role.ADMIN)
    withdrawn = await client.patch(
        f"{API}/admin/users/{show.seller.id}",
        json={"seller_status": "rejected"},
        headers=admin.headers,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert_problem(await _refund(client, show.seller, str(order["id"])), 404, "not_found")
    assert toss.refunded == 0
    # the admin still can, in full
    body = (await _refund(client, admin, str(order["id"]))).json()
    assert (body["status"], body["refunded_amount"]) == ("refunded", order["amount"])
