"""Partial refunds: some seats or some units of goods of a paid order go back — through
the providers' partial cancels (Toss ``cancelAmount``, KakaoPay ``cancel_amount``), the
fee window applied per line, the seats and stock back on sale, the order still paid until
its last line is returned. Counted in the database and in the stand-ins' ledgers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from boxoffice.orders.payments.internal import InternalProvider
from boxoffice.orders.payments.registry import providers_of
from boxoffice.orders.payments.toss import TossProvider
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role
from tests.conftest import BACKENDS
from tests.stubs.kakaopay import KakaoPayStandIn
from tests.stubs.toss import TossStandIn
from tests.support.api import API, Caller, assert_problem, customer, user_with_role
from tests.support.catalog import ShowSetup
from tests.support.merch import create_product, stock_of, units_in
from tests.support.orders import (
    count_rows,
    hold_seats,
    new_order,
    paid_order,
    pay,
    place_order,
    read_order,
)


def _refund(
    client: httpx.AsyncClient,
    caller: Caller,
    order_id: str,
    lines: list[dict[str, Any]],
    **body: Any,
) -> Any:
    return client.post(
        f"{API}/orders/{order_id}/refunds", json={"lines": lines, **body}, headers=caller.headers
    )


async def _ticket_statuses(runtime: Runtime, order_id: str, seat_id: str) -> list[str]:
    async with runtime.uow() as uow:
        rows = await uow.session.execute(
            text(
                "SELECT status FROM tickets_tickets WHERE order_id = :o AND seat_id = :s "
                "ORDER BY id"
            ),
            {"o": order_id, "s": seat_id},
        )
        return [row[0] for row in rows]


async def _seat_status(runtime: Runtime, show: ShowSetup, seat_id: str) -> str:
    async with runtime.uow() as uow:
        status = await uow.session.scalar(
            text("SELECT status FROM seating_seats WHERE show_id = :s AND seat_id = :seat"),
            {"s": show.show_id, "seat": seat_id},
        )
    return str(status)


@pytest.mark.parametrize("provider", ["toss", "kakaopay", "internal"])
async def test_a_buyer_returns_one_seat_then_the_other(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
    provider: str,
) -> None:
    order = await new_order(client, fan, show, provider, seats=2)
    assert (await pay(client, fan, order, toss, kakaopay)).json()["status"] == "paid"
    first, second = order["lines"]
    assert [first["position"], second["position"]] == [0, 1]

    refund = await _refund(client, fan, order["id"], [{"position": 0}], reason="one cannot come")
    assert refund.status_code == 201, refund.text
    body = refund.json()
    assert (body["status"], body["amount"], body["fee"], body["kind"]) == (
        "done",
        first["amount"],
        0,
        "cancellation",
    )
    assert body["lines"] == [
        {
            "position": 0,
            "kind": "seat",
            "ref": first["ref"],
            "quantity": 1,
            "amount": first["amount"],
            "fee": 0,
        }
    ]
    now = await read_order(client, fan, order["id"])
    assert (now["status"], now["refunded_amount"]) == ("paid", first["amount"])
    assert [line["refunded_quantity"] for line in now["lines"]] == [1, 0]
    assert await _ticket_statuses(runtime, order["id"], first["ref"]) == ["void"]
    assert await _ticket_statuses(runtime, order["id"], second["ref"]) == ["valid"]
    assert await _seat_status(runtime, show, first["ref"]) == "available"
    assert await _seat_status(runtime, show, second["ref"]) == "sold"
    ledger = {"toss": toss, "kakaopay": kakaopay}.get(provider)
    if ledger is not None:  # the stand-in saw a partial cancel of exactly the seat's price
        assert (ledger.captured, ledger.refunded) == (order["amount"], first["amount"])
    else:
        internal = providers_of(runtime).get("internal")
        assert isinstance(internal, InternalProvider)
        assert await internal.totals() == (order["amount"], first["amount"])

    again = await _refund(client, fan, order["id"], [{"position": 0}])
    assert_problem(again, 409, "line_not_refundable")
    assert again.json()["refundable_quantity"] == 0

    rest = await _refund(client, fan, order["id"], [{"position": 1}])
    assert rest.status_code == 201, rest.text
    done = await read_order(client, fan, order["id"])
    assert (done["status"], done["refunded_amount"], done["fee"]) == (
        "refunded",
        order["amount"],
        0,
    )
    assert done["cancel_reason"] == "requested by the buyer"
    listed = (await client.get(f"{API}/orders/{order['id']}/refunds", headers=fan.headers)).json()
    assert [r["lines"][0]["position"] for r in listed["items"]] == [0, 1]
    assert_problem(await _refund(client, fan, order["id"], [{"position": 1}]), 409, "conflict")
    if ledger is not None:
        assert ledger.refunded == order["amount"]


async def test_the_fee_window_applies_per_line_and_splitting_costs_the_same(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, show: ShowSetup, fan: Caller
) -> None:
    order = await paid_order(client, fan, show, seats=3)
    clock.advance(timedelta(days=35))  # five days before the show: 20 %
    whole = (
        await client.get(f"{API}/orders/{order['id']}/cancellation", headers=fan.headers)
    ).json()
    assert whole["rule"] == "tier_20"
    fees = 0
    for line in order["lines"]:
        quote = await client.post(
            f"{API}/orders/{order['id']}/refunds/quote",
            json={"lines": [{"position": line["position"]}]},
            headers=fan.headers,
        )
        assert quote.status_code == 200, quote.text
        expected_fee = line["amount"] * 20 // 100
        assert (quote.json()["fee"], quote.json()["refund"]) == (
            expected_fee,
            line["amount"] - expected_fee,
        )
        refund = await _refund(client, fan, order["id"], [{"position": line["position"]}])
        assert refund.status_code == 201, refund.text
        assert (refund.json()["amount"], refund.json()["fee"]) == (
            line["amount"] - expected_fee,
            expected_fee,
        )
        fees += expected_fee
    assert fees == whole["fee"]
    done = await read_order(client, fan, order["id"])
    assert (done["status"], done["fee"], done["refunded_amount"]) == (
        "partially_refunded",
        fees,
        order["amount"] - fees,
    )


async def test_operators_refund_a_line_in_full_after_the_buyers_cutoff(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, show: ShowSetup, fan: Caller
) -> None:
    order = await paid_order(client, fan, show, seats=2)
    stranger = await customer(client, "stranger")
    clock.advance(timedelta(days=39, hours=12))  # inside the last 24 hours
    assert_problem(
        await _refund(client, fan, order["id"], [{"position": 1}]), 409, "cancellation_closed"
    )
    assert_problem(
        await _refund(client, stranger, order["id"], [{"position": 1}]), 404, "not_found"
    )
    refund = await _refund(
        client, show.seller, order["id"], [{"position": 1}], reason="seat broken"
    )
    assert refund.status_code == 201, refund.text
    assert (refund.json()["amount"], refund.json()["fee"]) == (order["lines"][1]["amount"], 0)
    seen = await client.get(f"{API}/orders/{order['id']}/refunds", headers=fan.headers)
    assert [r["reason"] for r in seen.json()["items"]] == ["seat broken"]
    assert (await read_order(client, fan, order["id"]))["status"] == "paid"


async def test_goods_are_returned_by_the_unit(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, fan: Caller
) -> None:
    await create_product(
        client,
        show.seller,
        show.event_id,
        price=35000,
        variants=[{"sku": "LS-01", "option": "", "stock": 5}],
    )
    hold = await hold_seats(client, fan, show.show_id, show.seat_ids[:1])
    placed = await place_order(
        client, fan, hold["hold_id"], items=[{"sku": "LS-01", "quantity": 3}]
    )
    order = placed.json()
    paid = await client.post(f"{API}/orders/{order['id']}/pay", headers=fan.headers)
    assert paid.status_code == 200, paid.text
    goods = next(line for line in order["lines"] if line["kind"] == "merch")

    two = await _refund(client, fan, order["id"], [{"position": goods["position"], "quantity": 2}])
    assert two.status_code == 201, two.text
    assert two.json()["amount"] == 70000
    assert await stock_of(runtime, "LS-01") == 4
    assert (
        await units_in(runtime, "LS-01", "consumed"),
        await units_in(runtime, "LS-01", "returned"),
    ) == (1, 2)
    too_many = await _refund(
        client, fan, order["id"], [{"position": goods["position"], "quantity": 2}]
    )
    assert_problem(too_many, 409, "line_not_refundable")
    assert too_many.json()["refundable_quantity"] == 1
    last = await _refund(client, fan, order["id"], [{"position": goods["position"]}])
    assert last.status_code == 201, last.text
    assert await stock_of(runtime, "LS-01") == 5
    after = await read_order(client, fan, order["id"])
    assert (after["status"], after["refunded_amount"]) == ("paid", 3 * 35000)


async def test_a_bad_request_is_refused_clearly_and_changes_nothing(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, fan: Caller
) -> None:
    pending = await new_order(client, fan, show, seats=1)
    assert_problem(await _refund(client, fan, pending["id"], [{"position": 0}]), 409, "conflict")
    order = await paid_order(client, fan, show, seats=2, offset=4)
    for lines in (
        [{"position": 9}],
        [{"position": 0}, {"position": 0}],
        [{"position": 0, "quantity": 0}],
        [{"position": -1}],
        [{"position": "first"}],
        [],
        [{"position": 0, "price": 1}],
    ):
        assert_problem(await _refund(client, fan, order["id"], lines), 422, "validation_error")
    assert_problem(
        await client.post(f"{API}/orders/{order['id']}/refunds", content=b"{", headers=fan.headers),
        422,
        "validation_error",
    )
    assert_problem(await _refund(client, fan, "nope", [{"position": 0}]), 404, "not_found")
    after = await read_order(client, fan, order["id"])
    assert (after["status"], after["refunded_amount"]) == ("paid", 0)
    assert [line["refunded_quantity"] for line in after["lines"]] == [0, 0]
    assert await count_rows(runtime, "SELECT count(*) FROM orders_refunds") == 0


async def test_given_away_and_checked_in_seats_and_a_refused_refund(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    """The buyer cannot return a seat they gave away or that was checked in; the organiser
    can. When the provider refuses, the receiver's ticket works again — and the ticket the
    buyer gave away stays void."""
    order = await new_order(client, fan, show, "toss", seats=3)
    assert (await pay(client, fan, order, toss, kakaopay)).json()["status"] == "paid"
    given, used, kept = order["lines"]
    mine = (await client.get(f"{API}/users/me/tickets", headers=fan.headers)).json()["items"]
    by_seat = {t["seat"]["id"]: t for t in mine}
    offered = await client.post(
        f"{API}/tickets/{by_seat[given['ref']]['id']}/transfers",
        json={"to_email": other.email},
        headers=fan.headers,
    )
    assert offered.status_code == 201, offered.text
    accepted = await client.post(
        f"{API}/transfers/{offered.json()['id']}/accept", headers=other.headers
    )
    assert accepted.status_code == 200, accepted.text
    scanned = await client.post(
        f"{API}/checkin",
        json={"code": by_seat[used["ref"]]["code"], "show_id": show.show_id},
        headers=show.seller.headers,
    )
    assert scanned.status_code == 200, scanned.text

    assert_problem(
        await _refund(client, fan, order["id"], [{"position": 0}]), 409, "ticket_transferred"
    )
    assert_problem(await _refund(client, fan, order["id"], [{"position": 1}]), 409, "ticket_used")
    assert (await _refund(client, fan, order["id"], [{"position": 2}])).status_code == 201

    toss_client = providers_of(runtime).get("toss")
    assert isinstance(toss_client, TossProvider)
    toss_client.test_code = "NOT_CANCELABLE_AMOUNT"
    try:
        refused = await _refund(client, show.seller, order["id"], [{"position": 0}])
    finally:
        toss_client.test_code = None
    assert refused.status_code == 502, refused.text
    assert await _ticket_statuses(runtime, order["id"], given["ref"]) == ["void", "valid"]
    receiver = (await client.get(f"{API}/users/me/tickets", headers=other.headers)).json()
    assert [t["status"] for t in receiver["items"]] == ["valid"]
    after = await read_order(client, fan, order["id"])
    assert [line["refunded_quantity"] for line in after["lines"]] == [0, 0, 1]
    assert await _seat_status(runtime, show, given["ref"]) == "sold"
    failed = (await client.get(f"{API}/orders/{order['id']}/refunds", headers=fan.headers)).json()
    assert [r["status"] for r in failed["items"]] == ["done", "failed"]

    again = await _refund(client, show.seller, order["id"], [{"position": 0}])
    assert again.status_code == 201, again.text
    assert await _ticket_statuses(runtime, order["id"], given["ref"]) == ["void", "void"]
    assert toss.refunded == kept["amount"] + given["amount"]
    assert (await read_order(client, fan, order["id"]))["status"] == "paid"  # the used seat stays
    # the checked-in seat: only an admin, saying so, refunds it — and the order is done
    admin = await user_with_role(client, runtime, Role.ADMIN)
    used_line = [{"position": 1}]
    assert_problem(await _refund(client, show.seller, order["id"], used_line), 409, "ticket_used")
    assert_problem(
        await _refund(client, show.seller, order["id"], used_line, refund_used=True),
        409,
        "ticket_used",
    )
    last = await _refund(client, admin, order["id"], used_line, refund_used=True)
    assert last.status_code == 201, last.text
    done = await read_order(client, fan, order["id"])
    assert (done["status"], done["refunded_amount"]) == ("refunded", order["amount"])
    assert toss.refunded == order["amount"]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_racing_refunds_of_an_order_return_each_unit_once(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, fan: Caller
) -> None:
    """Twelve refunds at once — the same line asked for again and again, and the other
    lines — and a cancellation of the whole order: every unit goes back once, the money
    once, and nothing is left counted as refunded that the provider did not pay back."""
    order = await paid_order(client, fan, show, seats=4)
    picks = [[{"position": n % 2}] for n in range(10)] + [[{"position": 2}, {"position": 3}]]
    answers = await asyncio.gather(
        *[_refund(client, fan, order["id"], lines) for lines in picks],
        client.post(f"{API}/orders/{order['id']}/cancel", headers=fan.headers),
    )
    codes = sorted({a.status_code for a in answers})
    assert set(codes) <= {200, 201, 409}, [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} <= {
        "conflict",
        "line_not_refundable",
    }
    internal = providers_of(runtime).get("internal")
    assert isinstance(internal, InternalProvider)
    _, refunded_at_provider = await internal.totals()
    after = await read_order(client, fan, order["id"])
    refunded_lines = sum(line["refunded_quantity"] for line in after["lines"])
    done = await count_rows(
        runtime,
        "SELECT coalesce(sum(quantity), 0) FROM orders_refund_lines l "
        "JOIN orders_refunds r ON r.id = l.refund_id WHERE r.order_id = :o AND r.status = 'done'",
        o=order["id"],
    )
    worth = sum(line["amount"] for line in after["lines"] if line["refunded_quantity"])
    assert (refunded_lines, done) == (done, refunded_lines)
    assert refunded_at_provider == after["refunded_amount"] == worth
    assert refunded_lines >= 1
    voided = await count_rows(
        runtime,
        "SELECT count(*) FROM tickets_tickets WHERE order_id = :o AND status = 'void'",
        o=order["id"],
    )
    assert voided == refunded_lines
