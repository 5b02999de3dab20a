"""Toss webhooks are unsigned, so each costs us a look-up at Toss: deduplicated, bounded
per order and per process, and skipped when the body names nothing of ours."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from boxoffice.orders import webhooks
from boxoffice.platform.runtime import Runtime
from tests.stubs.toss import TossStandIn
from tests.support.api import API, Caller
from tests.support.catalog import ShowSetup
from tests.support.orders import new_order


def _lookups(toss: TossStandIn) -> int:
    return len([r for r in toss.requests if r[0] == "GET" and r[1].startswith("/v1/payments/")])


async def _deliver(
    client: httpx.AsyncClient,
    data: dict,
    transmission_id: str | None = None,  # type: ignore[type-arg]
) -> httpx.Response:
    return await client.post(
        f"{API}/webhooks/toss",
        json={"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "now", "data": data},
        headers={"tosspayments-webhook-transmission-id": transmission_id or uuid.uuid4().hex},
    )


async def test_webhooks_naming_nothing_of_ours_cost_no_lookup(
    client: httpx.AsyncClient, toss: TossStandIn
) -> None:
    for n in range(12):
        data = {"paymentKey": f"tgen_{uuid.uuid4().hex}", "orderId": f"not-ours-{n}"}
        assert (await _deliver(client, data)).status_code == 200
    for bad_key in ("../../v1/payments/x", "a" * 201, "", 42):
        assert (await _deliver(client, {"paymentKey": bad_key, "orderId": "x"})).status_code == 200
    assert _lookups(toss) == 0


async def test_a_flood_of_new_webhook_ids_for_one_order_is_bounded(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, toss: TossStandIn
) -> None:
    order = await new_order(client, fan, show, "toss")
    answers = [
        await _deliver(client, {"paymentKey": f"tgen_{uuid.uuid4().hex}", "orderId": order["id"]})
        for _ in range(3 * webhooks.LOOKUPS_PER_ORDER)
    ]
    assert _lookups(toss) == webhooks.LOOKUPS_PER_ORDER
    refused = [a for a in answers if a.status_code == 503]
    assert len(refused) == 2 * webhooks.LOOKUPS_PER_ORDER
    assert all(int(a.headers["retry-after"]) >= 1 for a in refused)


async def test_concurrent_deliveries_of_one_webhook_look_up_once(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, toss: TossStandIn
) -> None:
    order = await new_order(client, fan, show, "toss")
    key = toss.authorize(order["id"], order["amount"])
    toss.payments[key].update(status="DONE", approvedAt="2026-12-02T10:00:00+09:00")
    answers = await asyncio.gather(
        *[_deliver(client, toss.payment(key), "wh-same") for _ in range(8)]
    )
    outcomes = sorted(a.json()["status"] for a in answers)
    assert outcomes == ["duplicate"] * 7 + ["settled"], outcomes
    assert _lookups(toss) == 1
    # a new delivery about a payment our books already settled needs no look-up
    again = await _deliver(client, toss.payment(key))
    assert again.json() == {"status": "already_settled"}
    assert _lookups(toss) == 1


async def test_lookups_in_flight_are_bounded_per_process(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
) -> None:
    order = await new_order(client, fan, show, "toss")
    gate = webhooks.lookup_gate(runtime)
    for _ in range(webhooks.LOOKUPS_IN_FLIGHT):  # every slot busy with slow look-ups
        await gate.acquire()
    try:
        data = {"paymentKey": f"tgen_{uuid.uuid4().hex}", "orderId": order["id"]}
        busy = await _deliver(client, data, "wh-busy")
        assert busy.status_code == 503
        assert _lookups(toss) == 0
    finally:
        for _ in range(webhooks.LOOKUPS_IN_FLIGHT):
            gate.release()
    retried = await _deliver(client, data, "wh-busy")  # Toss's retry of the same delivery
    assert retried.status_code == 200
    assert retried.json() == {"status": "unknown_payment"}
    assert _lookups(toss) == 1


@pytest.mark.parametrize("use_redis", [True])
async def test_with_redis_concurrent_deliveries_are_deduplicated_there(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, toss: TossStandIn
) -> None:
    order = await new_order(client, fan, show, "toss")
    data = {"paymentKey": f"tgen_{uuid.uuid4().hex}", "orderId": order["id"]}
    answers = await asyncio.gather(*[_deliver(client, data, "wh-r") for _ in range(6)])
    assert sorted(a.json()["status"] for a in answers) == ["duplicate"] * 5 + ["unknown_payment"]
    assert _lookups(toss) == 1
