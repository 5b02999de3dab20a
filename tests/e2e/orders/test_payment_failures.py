"""What goes wrong with payments, over HTTP against the stand-ins: refusals, provider
errors, timeouts settled by reconciliation, tampering, late confirms, duplicates, webhooks."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text

from boxoffice.orders import service as orders
from boxoffice.orders.payments.registry import providers_of
from boxoffice.orders.payments.toss import TossProvider
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.runtime import Runtime
from boxoffice.seating import service as seating
from tests.stubs.kakaopay import KakaoPayStandIn
from tests.stubs.toss import TossStandIn
from tests.support.api import API, Caller, assert_problem
from tests.support.catalog import ShowSetup
from tests.support.orders import count_rows, hold_seats, new_order, pay, place_order, read_order


def _toss_client(runtime: Runtime) -> TossProvider:
    provider = providers_of(runtime).get("toss")
    assert isinstance(provider, TossProvider)
    return provider


async def _confirm(
    client: httpx.AsyncClient,
    fan: Caller,
    order: dict,
    key: str,
    amount: int | None = None,  # type: ignore[type-arg]
) -> httpx.Response:
    return await client.post(
        f"{API}/payments/toss/confirm",
        json={"paymentKey": key, "orderId": order["id"], "amount": amount or order["amount"]},
        headers=fan.headers,
    )


async def test_card_rejected_leaves_the_order_payable(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, fan: Caller, toss: TossStandIn
) -> None:
    order = await new_order(client, fan, show, "toss")
    key = toss.authorize(order["id"], order["amount"])
    _toss_client(runtime).test_code = "REJECT_CARD_PAYMENT"
    refused = await _confirm(client, fan, order, key)
    body = assert_problem(refused, 422, "payment_rejected")
    assert body["provider_code"] == "REJECT_CARD_PAYMENT"
    assert (await read_order(client, fan, order["id"]))["status"] == "pending"
    assert toss.captured == 0
    _toss_client(runtime).test_code = None
    paid = await _confirm(client, fan, order, key)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"


async def test_internal_switch_refuses(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, fan: Caller
) -> None:
    order = await new_order(client, fan, show, "internal")
    internal = providers_of(runtime).get("internal")
    internal.mode = "fail"  # type: ignore[attr-defined]
    refused = await client.post(f"{API}/orders/{order['id']}/pay", headers=fan.headers)
    assert_problem(refused, 422, "payment_rejected")
    internal.mode = "succeed"  # type: ignore[attr-defined]
    paid = await client.post(f"{API}/orders/{order['id']}/pay", headers=fan.headers)
    assert paid.json()["status"] == "paid"


async def test_provider_500_is_reconciled_as_not_captured(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
) -> None:
    order = await new_order(client, fan, show, "toss")
    key = toss.authorize(order["id"], order["amount"])
    _toss_client(runtime).test_code = "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING"
    failed = await _confirm(client, fan, order, key)
    assert_problem(failed, 502, "payment_provider_error")
    _toss_client(runtime).test_code = None
    # Unknown outcome: the order waits, and cannot be paid twice meanwhile.
    assert (await read_order(client, fan, order["id"]))["status"] == "pending"
    assert_problem(await _confirm(client, fan, order, key), 409, "conflict")
    assert await orders.reconcile_payments(runtime) == 0  # too fresh to give up on
    clock.advance(timedelta(seconds=61))
    assert await orders.reconcile_payments(runtime) == 1
    assert toss.captured == 0
    paid = await _confirm(client, fan, order, key)  # free to pay again
    assert paid.json()["status"] == "paid"


@pytest.mark.parametrize("provider", ["toss", "kakaopay", "internal"])
async def test_timeout_then_reconciliation_pays(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
    provider: str,
) -> None:
    order = await new_order(client, fan, show, provider)
    internal = providers_of(runtime).get("internal")
    if provider == "toss":
        toss.confirm_delay = 6.0  # the app gives up after 5 s; the money is taken
    elif provider == "kakaopay":
        kakaopay.delay_next["approve"] = 6.0
    else:
        internal.mode = "timeout"  # type: ignore[attr-defined]
    answer = await pay(client, fan, order, toss, kakaopay)
    if provider == "kakaopay":
        assert "status=failed" in answer.headers["location"]
        assert "code=payment_provider_error" in answer.headers["location"]
    else:
        assert_problem(answer, 502, "payment_provider_error")
    pending = await read_order(client, fan, order["id"])
    assert (pending["status"], pending["ticket_ids"]) == ("pending", [])
    assert await orders.reconcile_payments(runtime) == 1
    paid = await read_order(client, fan, order["id"])
    assert paid["status"] == "paid"
    assert len(paid["ticket_ids"]) == 2
    assert await orders.reconcile_payments(runtime) == 0  # nothing left to settle


async def test_amount_tampering_confirms_nothing(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, toss: TossStandIn
) -> None:
    order = await new_order(client, fan, show, "toss")
    key = toss.authorize(order["id"], 1000)  # the buyer's page was edited to pay 1,000
    tampered = await _confirm(client, fan, order, key, amount=1000)
    body = assert_problem(tampered, 422, "payment_amount_mismatch")
    assert body["expected"] == order["amount"]
    assert toss.payment(key)["status"] == "IN_PROGRESS"
    assert not [r for r in toss.requests if r[1] == "/v1/payments/confirm"]
    assert (await read_order(client, fan, order["id"]))["status"] == "pending"


async def test_confirm_after_hold_expired_and_seats_taken_refunds_in_full(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
) -> None:
    order = await new_order(client, fan, show, "toss")
    key = toss.authorize(order["id"], order["amount"])
    clock.advance(timedelta(minutes=8))  # past the 7-minute hold
    assert await seating.expire_holds(runtime) == 1
    await hold_seats(client, other, show.show_id, show.seat_ids[:1])  # one seat is gone
    late = await _confirm(client, fan, order, key)
    body = assert_problem(late, 409, "order_not_payable")
    assert body["refunded"] is True
    failed = await read_order(client, fan, order["id"])
    assert failed["status"] == "failed"
    assert "refunded in full" in failed["failure_reason"]
    assert failed["ticket_ids"] == []
    assert toss.captured == order["amount"]
    assert toss.refunded == order["amount"]
    assert toss.payment(key)["status"] == "CANCELED"


async def test_confirm_after_hold_expired_with_seats_still_free_is_honoured(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
) -> None:
    order = await new_order(client, fan, show, "toss")
    key = toss.authorize(order["id"], order["amount"])
    clock.advance(timedelta(minutes=8))
    await seating.expire_holds(runtime)
    paid = await _confirm(client, fan, order, key)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    assert toss.refunded == 0


async def test_expired_order_is_not_confirmed(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
) -> None:
    order = await new_order(client, fan, show, "toss")
    key = toss.authorize(order["id"], order["amount"])
    clock.advance(timedelta(minutes=8))
    assert await orders.expire_orders(runtime) == 1
    assert_problem(await _confirm(client, fan, order, key), 409, "order_not_payable")
    assert toss.captured == 0
    seats = await count_rows(
        runtime,
        "SELECT count(*) FROM seating_seats WHERE show_id = :s AND status = 'available'",
        s=show.show_id,
    )
    assert seats == len(show.seat_ids)


async def test_duplicate_confirm_returns_the_paid_order_once(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, toss: TossStandIn
) -> None:
    order = await new_order(client, fan, show, "toss")
    key = toss.authorize(order["id"], order["amount"])
    first = await _confirm(client, fan, order, key)
    second = await _confirm(client, fan, order, key)
    assert first.status_code == second.status_code == 200
    assert first.json()["ticket_ids"] == second.json()["ticket_ids"]
    confirms = [r for r in toss.requests if r[1] == "/v1/payments/confirm"]
    assert len(confirms) == 1
    assert toss.captured == order["amount"]


async def test_webhook_settles_after_a_lost_answer_and_is_deduplicated(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, toss: TossStandIn
) -> None:
    order = await new_order(client, fan, show, "toss")
    key = toss.authorize(order["id"], order["amount"])
    toss.confirm_delay = 6.0
    assert_problem(await _confirm(client, fan, order, key), 502, "payment_provider_error")
    event = {"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "now", "data": toss.payment(key)}
    headers = {"tosspayments-webhook-transmission-id": "wh-1"}
    first = await client.post(f"{API}/webhooks/toss", json=event, headers=headers)
    assert first.json() == {"status": "settled"}
    again = await client.post(f"{API}/webhooks/toss", json=event, headers=headers)
    assert again.json() == {"status": "duplicate"}
    other = await client.post(
        f"{API}/webhooks/toss", json=event, headers={"tosspayments-webhook-transmission-id": "wh-2"}
    )
    assert other.json() == {"status": "already_settled"}
    paid = await read_order(client, fan, order["id"])
    assert (paid["status"], len(paid["ticket_ids"])) == ("paid", 2)
    assert toss.captured == order["amount"]


async def test_forged_webhooks_change_nothing(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, toss: TossStandIn
) -> None:
    order = await new_order(client, fan, show, "toss")
    key = toss.authorize(order["id"], order["amount"])  # authenticated, never confirmed
    claimed_done = {
        **toss.payment(key),
        "status": "DONE",
        "approvedAt": "2026-01-01T00:00:00+09:00",
    }
    invented = {**claimed_done, "paymentKey": "tgen_invented_by_an_attacker"}
    for n, data in enumerate([claimed_done, invented]):
        response = await client.post(
            f"{API}/webhooks/toss",
            json={"eventType": "PAYMENT_STATUS_CHANGED", "data": data},
            headers={"tosspayments-webhook-transmission-id": f"forged-{n}"},
        )
        assert response.status_code == 200
    assert (await read_order(client, fan, order["id"]))["status"] == "pending"
    missing_id = await client.post(f"{API}/webhooks/toss", json={"data": claimed_done})
    assert_problem(missing_id, 400, "bad_request")
    garbage = await client.post(
        f"{API}/webhooks/toss",
        content=b"not json",
        headers={"tosspayments-webhook-transmission-id": "x", "content-type": "application/json"},
    )
    assert_problem(garbage, 400, "bad_request")


async def test_toss_redirects(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, toss: TossStandIn
) -> None:
    order = await new_order(client, fan, show, "toss")
    key = toss.authorize(order["id"], order["amount"])
    failed = await client.get(
        f"{API}/payments/toss/fail",
        params={"code": "PAY_PROCESS_CANCELED", "message": "cancelled", "orderId": order["id"]},
    )
    assert failed.status_code == 302
    assert failed.headers["location"].startswith("https://front.example/checkout/result?")
    assert "code=PAY_PROCESS_CANCELED" in failed.headers["location"]
    success = await client.get(
        f"{API}/payments/toss/success",
        params={
            "paymentType": "NORMAL",
            "orderId": order["id"],
            "paymentKey": key,
            "amount": order["amount"],
        },
    )
    assert success.status_code == 302
    assert "status=paid" in success.headers["location"]
    assert (await read_order(client, fan, order["id"]))["status"] == "paid"


async def test_kakaopay_cancel_redirect_takes_nothing(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, kakaopay: KakaoPayStandIn
) -> None:
    order = await new_order(client, fan, show, "kakaopay")
    kakaopay.quit(order["payment"]["tid"])
    cancelled = await client.get(kakaopay.redirect(order["payment"]["tid"], "cancel"))
    assert cancelled.status_code == 302
    assert "status=cancelled" in cancelled.headers["location"]
    forged = await client.get(
        f"{API}/payments/kakaopay/approve", params={"order_id": order["id"], "pg_token": "guess"}
    )
    assert "status=failed" in forged.headers["location"]
    assert kakaopay.captured == 0
    assert (await read_order(client, fan, order["id"]))["status"] == "pending"


async def test_kakaopay_ready_failure_fails_the_order(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    kakaopay: KakaoPayStandIn,
) -> None:
    hold = await hold_seats(client, fan, show.show_id, show.seat_ids[:2])
    kakaopay.fail_next["ready"] = (400, -780, "approval failure!")
    response = await place_order(client, fan, hold["hold_id"], "kakaopay")
    body = assert_problem(response, 502, "payment_provider_error")
    assert (await read_order(client, fan, body["order_id"]))["status"] == "failed"
    held = await count_rows(
        runtime,
        "SELECT count(*) FROM seating_seats WHERE show_id = :s AND status = 'held'",
        s=show.show_id,
    )
    assert held == 0


@pytest.mark.parametrize("outcome", ["cancel", "fail"])
async def test_kakaopay_abort_redirects_need_the_url_kakaopay_was_given(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    kakaopay: KakaoPayStandIn,
    outcome: str,
) -> None:
    order = await new_order(client, fan, show, "kakaopay")
    tid = order["payment"]["tid"]
    signed = kakaopay.redirect(tid, outcome)
    assert "sig=" in signed
    state = "SELECT status FROM orders_payments WHERE order_id = :o"
    for forged in (
        {"order_id": order["id"]},  # a stranger who knows (or guesses) the order id
        {"order_id": order["id"], "sig": "A" * 43},
    ):
        for caller in ({}, other.headers):
            answer = await client.get(
                f"{API}/payments/kakaopay/{outcome}", params=forged, headers=caller
            )
            assert answer.status_code == 302
            assert "code=invalid_state" in answer.headers["location"]
    async with runtime.uow() as uow:
        assert (await uow.session.execute(text(state), {"o": order["id"]})).scalar_one() == "ready"
    # the buyer's browser, back from KakaoPay, can still approve or abort
    aborted = await client.get(signed)
    assert aborted.status_code == 302
    assert "invalid_state" not in aborted.headers["location"]
    async with runtime.uow() as uow:
        assert (
            await uow.session.execute(text(state), {"o": order["id"]})
        ).scalar_one() == "aborted"
