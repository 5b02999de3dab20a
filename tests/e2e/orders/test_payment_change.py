"""Paying a pending order another way (``POST /orders/{id}/payment``), over HTTP against the
stand-ins: after a declined card the buyer pays the same order, with the same seats held,
by KakaoPay; a KakaoPay payment the buyer cancelled is opened again; and what may not
change (another's order, a paid one, one being confirmed) is refused, counted at the
stand-ins and in the database."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from boxoffice.orders import service as orders
from boxoffice.orders.payments.registry import providers_of
from boxoffice.orders.payments.toss import TossProvider
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.runtime import Runtime
from tests.conftest import BACKENDS
from tests.stubs.kakaopay import KakaoPayStandIn
from tests.stubs.toss import TossStandIn
from tests.support.api import API, Caller, assert_problem, customer
from tests.support.catalog import ShowSetup
from tests.support.orders import count_rows, new_order, pay, read_order

HELD = "SELECT count(*) FROM seating_seats WHERE show_id = :s AND status = 'held'"


async def _change(
    client: httpx.AsyncClient, caller: Caller, order_id: str, provider: str
) -> httpx.Response:
    return await client.post(
        f"{API}/orders/{order_id}/payment",
        json={"payment_provider": provider},
        headers=caller.headers,
    )


async def _status(client: httpx.AsyncClient, caller: Caller, order_id: str) -> str:
    return str((await read_order(client, caller, order_id))["status"])


async def _card_confirm_answered(
    client: httpx.AsyncClient,
    runtime: Runtime,
    toss: TossStandIn,
    fan: Caller,
    order: dict[str, Any],
    test_code: str,
) -> tuple[httpx.Response, dict[str, Any]]:
    """The fan's card authorised at Toss, and the confirm answered as Toss's ``test_code``
    makes it (a refusal, a failure of Toss's own); returns that answer and the confirm's
    body, to send again."""
    key = toss.authorize(order["id"], order["amount"])
    toss_client = providers_of(runtime).get("toss")
    assert isinstance(toss_client, TossProvider)
    confirm = {"paymentKey": key, "orderId": order["id"], "amount": order["amount"]}
    toss_client.test_code = test_code
    try:
        answer = await client.post(
            f"{API}/payments/toss/confirm", json=confirm, headers=fan.headers
        )
    finally:
        toss_client.test_code = None
    return answer, confirm


async def test_after_a_declined_card_kakaopay_pays_the_same_order_and_seats(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    order = await new_order(client, fan, show, "toss")
    declined, confirm = await _card_confirm_answered(
        client, runtime, toss, fan, order, "REJECT_CARD_PAYMENT"
    )
    assert_problem(declined, 422, "payment_rejected")

    changed = await _change(client, fan, order["id"], "kakaopay")

    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["id"], body["status"], body["amount"]) == (order["id"], "pending", order["amount"])
    assert body["payment"]["provider"] == "kakaopay"
    assert body["payment"]["tid"] in kakaopay.payments
    assert body["payment"]["redirect_url"]
    assert await count_rows(runtime, HELD, s=show.show_id) == 2  # the seats stayed the fan's
    # The card's way in is closed now: a late confirm of it takes nothing.
    late = await client.post(f"{API}/payments/toss/confirm", json=confirm, headers=fan.headers)
    assert_problem(late, 409, "order_not_payable")

    paid = await pay(client, fan, body, toss, kakaopay)

    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    assert (toss.captured, kakaopay.captured) == (0, order["amount"])
    tickets = await count_rows(
        runtime, "SELECT count(*) FROM tickets_tickets WHERE order_id = :o", o=order["id"]
    )
    assert tickets == 2


async def test_a_kakaopay_payment_the_buyer_cancelled_is_opened_again(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    order = await new_order(client, fan, show, "kakaopay")
    first = order["payment"]["tid"]
    kakaopay.quit(first)
    cancelled = await client.get(kakaopay.redirect(first, "cancel"))  # the buyer's way back
    assert cancelled.status_code == 302
    assert "status=cancelled" in cancelled.headers["location"]

    again = await _change(client, fan, order["id"], "kakaopay")

    assert again.status_code == 200, again.text
    second = again.json()["payment"]["tid"]
    assert second != first
    states = await count_rows(
        runtime,
        "SELECT count(*) FROM orders_payments WHERE order_id = :o AND status = 'ready'",
        o=order["id"],
    )
    assert states == 1  # only the new one can still be approved
    paid = await pay(client, fan, again.json(), toss, kakaopay)
    assert paid.status_code == 200, paid.text
    assert kakaopay.captured == order["amount"]


async def test_what_may_not_change_is_refused_and_kept(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    order = await new_order(client, fan, show, "toss")
    assert_problem(await _change(client, other, order["id"], "kakaopay"), 404, "not_found")
    assert_problem(await _change(client, fan, "no-such-order", "kakaopay"), 404, "not_found")
    bad = await client.post(
        f"{API}/orders/{order['id']}/payment",
        json={"payment_provider": "cash"},
        headers=fan.headers,
    )
    assert_problem(bad, 422, "validation_error")
    anonymous = await client.post(
        f"{API}/orders/{order['id']}/payment", json={"payment_provider": "internal"}
    )
    assert anonymous.status_code == 401

    # KakaoPay cannot open its checkout: the order stays pending and payable, its seats held.
    kakaopay.fail_next["ready"] = (500, -9999, "system error")
    failed = await _change(client, fan, order["id"], "kakaopay")
    assert_problem(failed, 502, "payment_provider_error")
    assert await _status(client, fan, order["id"]) == "pending"
    assert await count_rows(runtime, HELD, s=show.show_id) == 2

    paid = await _change(client, fan, order["id"], "internal")
    assert paid.status_code == 200, paid.text
    assert (await client.post(f"{API}/orders/{order['id']}/pay", headers=fan.headers)).is_success
    refused = await _change(client, fan, order["id"], "toss")
    assert_problem(refused, 409, "order_not_payable")
    assert await _status(client, fan, order["id"]) == "paid"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_change_racing_the_confirm_never_takes_money_for_a_way_given_up(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    """The card confirm and changes to KakaoPay at once, many times: either the card paid
    the order (and every change that came after was refused), or a change came first (and
    the confirm was refused, the card charged nothing). Counted at the stand-ins and in the
    orders' payments, never both."""
    for round_ in range(4):
        fan = await customer(client, f"racer-{round_}")  # each within the show's limit of 4
        order = await new_order(client, fan, show, "toss", offset=2 * round_)
        key = toss.authorize(order["id"], order["amount"])
        confirm = {"paymentKey": key, "orderId": order["id"], "amount": order["amount"]}
        captured_before = (toss.captured, kakaopay.captured)
        answers = await asyncio.gather(
            client.post(f"{API}/payments/toss/confirm", json=confirm, headers=fan.headers),
            *[_change(client, fan, order["id"], "kakaopay") for _ in range(3)],
        )
        confirmed, changes = answers[0], answers[1:]
        assert {a.status_code for a in changes} <= {200, 409}, [a.text for a in changes]
        status = await _status(client, fan, order["id"])
        captured = await count_rows(
            runtime,
            "SELECT count(*) FROM orders_payments WHERE order_id = :o AND status = 'captured'",
            o=order["id"],
        )
        toss_taken = toss.captured - captured_before[0]
        if confirmed.status_code == 200:
            assert (status, captured, toss_taken) == ("paid", 1, order["amount"])
        else:
            assert confirmed.status_code == 409, confirmed.text
            assert (status, captured, toss_taken) == ("pending", 0, 0)
            assert any(a.status_code == 200 for a in changes)
        assert kakaopay.captured == captured_before[1]


async def test_a_buyer_changing_one_order_in_a_loop_is_stopped_and_a_stranger_spends_nothing(
    client: httpx.AsyncClient,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    kakaopay: KakaoPayStandIn,
) -> None:
    """Each change may call KakaoPay's ready: ten per order in ten minutes, then 429."""
    order = await new_order(client, fan, show, "internal")
    for _ in range(5):  # a stranger's tries: refused, and not counted against the buyer
        assert_problem(await _change(client, other, order["id"], "kakaopay"), 404, "not_found")
    for _ in range(10):
        changed = await _change(client, fan, order["id"], "kakaopay")
        assert changed.status_code == 200, changed.text
    stopped = await _change(client, fan, order["id"], "internal")
    assert_problem(stopped, 429, "rate_limited")
    assert int(stopped.headers["retry-after"]) > 0
    assert len(kakaopay.payments) == 10
    assert (await read_order(client, fan, order["id"]))["payment"]["provider"] == "kakaopay"


async def test_an_outcome_not_known_yet_comes_first_then_the_order_may_change(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    """Toss answered 500 to the confirm: whether the card was charged is not known, so the
    order may not change its way until reconciliation has settled it (not captured)."""
    order = await new_order(client, fan, show, "toss")
    unknown, _ = await _card_confirm_answered(
        client, runtime, toss, fan, order, "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING"
    )
    assert_problem(unknown, 502, "payment_provider_error")

    assert_problem(await _change(client, fan, order["id"], "kakaopay"), 409, "conflict")
    assert kakaopay.payments == {}  # nothing opened at KakaoPay meanwhile

    clock.advance(timedelta(seconds=61))
    assert await orders.reconcile_payments(runtime) == 1  # Toss: not captured
    changed = await _change(client, fan, order["id"], "kakaopay")
    assert changed.status_code == 200, changed.text
    assert (toss.captured, changed.json()["status"]) == (0, "pending")
