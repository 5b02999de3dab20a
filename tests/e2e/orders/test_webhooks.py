"""Sellers' webhooks against a real local HTTP receiver: deliveries signed (checked here by
an independent HMAC), retried after a 500 and after a timeout, in order per order (its
refund waits behind its payment), visible with every attempt, the endpoint disabled after
failing in a row, enabled again and a delivery resent by hand; nobody else's endpoints."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiohttp import web

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import PaymentSettings, Settings
from boxoffice.platform.messaging.worker import InProcessBus
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role
from tests.support.api import API, Caller, assert_problem, user_with_role
from tests.support.catalog import ShowSetup, open_show
from tests.support.orders import new_order, paid_order
from tests.support.receiver import serving


class Receiver:
    """A seller's server: answers each request with the next planned reply (a status, or
    "slow": longer than the webhook timeout), 200 when the plan is spent."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.plan: list[int | str] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        reply = self.plan.pop(0) if self.plan else 200
        if reply == "slow":
            await asyncio.sleep(1.5)
            return web.Response(status=200)
        return web.Response(status=int(reply))

    def types(self) -> list[str]:
        return [json.loads(body)["type"] for _, body in self.received]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    async with serving(hook.handle) as url:
        hook.url = url
        yield hook


@pytest.fixture
def settings(make_settings: Callable[..., Settings], payment_settings: PaymentSettings) -> Settings:
    return make_settings(
        payment=payment_settings,
        notifications={
            "webhook_allow_private_targets": True,  # the receiver is on this machine
            "webhook_timeout_seconds": 0.5,
            "webhook_disable_after_failures": 3,
        },
        retry_delays_seconds=[1.0] * 8,
    )


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The recipe of docs/webhooks.md, written again: HMAC-SHA256 over "<t>.<body>"."""
    parts = dict(item.split("=", 1) for item in headers["Boxoffice-Signature"].split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts["v1"])


async def _settle(runtime: Runtime, clock: FrozenClock, receiver: Receiver, count: int) -> None:
    """Run the worker's work, moving time past each retry delay, until ``count`` requests
    reached the receiver (or enough rounds passed)."""
    bus = runtime.adapters.get(InProcessBus)
    for _ in range(12):
        await bus.run_once()
        if len(receiver.received) >= count:
            await bus.run_once()
            return
        clock.advance(timedelta(seconds=2))


async def _register(
    client: httpx.AsyncClient, show: ShowSetup, receiver: Receiver, events: list[str]
) -> dict[str, Any]:
    made = await client.post(
        f"{API}/seller/webhooks",
        json={"url": receiver.url, "events": events},
        headers=show.seller.headers,
    )
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


async def test_signed_deliveries_retried_and_in_order(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    receiver: Receiver,
) -> None:
    endpoint = await _register(client, show, receiver, ["order.paid", "order.refunded"])
    assert endpoint["secret"].startswith("whsec_")
    listed = (await client.get(f"{API}/seller/webhooks", headers=show.seller.headers)).json()
    assert [e["id"] for e in listed["items"]] == [endpoint["id"]]
    assert "secret" not in listed["items"][0]  # shown once

    receiver.plan = [500]  # the payment's first delivery fails
    order = await new_order(client, fan, show, seats=2)
    paid = await client.post(f"{API}/orders/{order['id']}/pay", headers=fan.headers)
    assert paid.status_code == 200, paid.text
    await runtime.adapters.get(InProcessBus).run_once()
    assert receiver.types() == ["order.paid"]
    cancelled = await client.post(f"{API}/orders/{order['id']}/cancel", headers=fan.headers)
    assert cancelled.status_code == 200, cancelled.text
    await runtime.adapters.get(InProcessBus).run_once()
    assert receiver.types() == ["order.paid"]  # the refund waits behind the payment
    await _settle(runtime, clock, receiver, 3)

    assert receiver.types() == ["order.paid", "order.paid", "order.refunded"]
    for headers, body in receiver.received:
        assert verified(endpoint["secret"], headers, body)
        assert json.loads(body)["data"]["order_id"] == order["id"]
    assert not verified("whsec_someone-else", *receiver.received[0])
    deliveries = (
        await client.get(
            f"{API}/seller/webhooks/{endpoint['id']}/deliveries", headers=show.seller.headers
        )
    ).json()["items"]
    by_type = {d["event_type"]: d for d in deliveries}
    assert [a["status_code"] for a in by_type["order.paid"]["attempts"]] == [500, 200]
    assert [a["status_code"] for a in by_type["order.refunded"]["attempts"]] == [200]
    assert {d["status"] for d in deliveries} == {"delivered"}


async def test_a_failing_endpoint_is_disabled_then_enabled_and_resent_by_hand(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    receiver: Receiver,
) -> None:
    endpoint = await _register(client, show, receiver, ["order.paid"])
    receiver.plan = ["slow", 503, 500]  # a timeout, then two errors: three in a row
    order = await new_order(client, fan, show, seats=1)
    assert (
        await client.post(f"{API}/orders/{order['id']}/pay", headers=fan.headers)
    ).status_code == 200
    await _settle(runtime, clock, receiver, 3)
    base = f"{API}/seller/webhooks/{endpoint['id']}"
    state = (await client.get(f"{API}/seller/webhooks", headers=show.seller.headers)).json()
    assert state["items"][0]["active"] is False
    (delivery,) = (await client.get(f"{base}/deliveries", headers=show.seller.headers)).json()[
        "items"
    ]
    assert [(a["status_code"], a["error"]) for a in delivery["attempts"]] == [
        (None, "timeout"),
        (503, None),
        (500, None),
    ]
    assert delivery["status"] == "pending"
    resend = f"{base}/deliveries/{delivery['id']}/resend"
    assert_problem(
        await client.post(resend, headers=show.seller.headers), 409, "webhook_endpoint_disabled"
    )

    enabled = await client.patch(base, json={"active": True}, headers=show.seller.headers)
    assert enabled.json()["active"] is True
    assert (await client.post(resend, headers=show.seller.headers)).status_code == 202
    await _settle(runtime, clock, receiver, 4)
    (delivery,) = (await client.get(f"{base}/deliveries", headers=show.seller.headers)).json()[
        "items"
    ]
    assert delivery["status"] == "delivered"
    assert delivery["attempts"][-1]["status_code"] == 200


async def test_a_comp_is_an_order_its_seller_hears_of(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    other: Caller,
    receiver: Receiver,
) -> None:
    """Complimentary tickets are a paid order of 0 on the seller's show: the seller's
    systems (guest lists, access control) hear of them as of any other order."""
    endpoint = await _register(client, show, receiver, ["order.paid"])
    body = {"seat_ids": show.seat_ids[:2], "recipient_email": other.email, "note": "press"}
    comp = await client.post(
        f"{API}/shows/{show.show_id}/comps", json=body, headers=show.seller.headers
    )
    assert comp.status_code == 201, comp.text
    await runtime.adapters.get(InProcessBus).run_once()
    assert receiver.types() == ["order.paid"]
    headers, delivered = receiver.received[0]
    assert verified(endpoint["secret"], headers, delivered)
    data = json.loads(delivered)["data"]
    assert (data["order_id"], data["amount"]) == (comp.json()["id"], 0)
    assert sorted(data["ticket_ids"]) == sorted(comp.json()["ticket_ids"])


async def test_endpoints_are_the_sellers_own(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, fan: Caller, receiver: Receiver
) -> None:
    endpoint = await _register(client, show, receiver, ["ticket.checked_in"])
    other = await user_with_role(client, runtime, Role.SELLER)
    base = f"{API}/seller/webhooks/{endpoint['id']}"
    assert_problem(await client.get(f"{base}/deliveries", headers=other.headers), 404, "not_found")
    assert_problem(await client.delete(base, headers=other.headers), 404, "not_found")
    assert_problem(
        await client.get(f"{API}/seller/webhooks", headers=fan.headers), 403, "forbidden"
    )
    bad = await client.post(
        f"{API}/seller/webhooks",
        json={"url": receiver.url, "events": ["order.exploded"]},
        headers=show.seller.headers,
    )
    assert_problem(bad, 422, "validation_error")
    assert (await client.delete(base, headers=show.seller.headers)).status_code == 204


async def test_a_show_that_sells_its_last_seat_tells_its_seller_once(
    client: httpx.AsyncClient, runtime: Runtime, fan: Caller, receiver: Receiver
) -> None:
    small = await open_show(client, runtime, rows=1, seats_per_row=3, grades=(("R", 50000),))
    endpoint = await _register(client, small, receiver, ["show.sold_out", "order.refunded"])
    bus = runtime.adapters.get(InProcessBus)
    await paid_order(client, fan, small, seats=2)
    await bus.run_once()
    assert receiver.types() == []  # one seat is left
    last = await paid_order(client, fan, small, seats=1, offset=2)
    await bus.run_once()
    await bus.run_once()
    assert receiver.types() == ["show.sold_out"]
    headers, body = receiver.received[0]
    assert verified(endpoint["secret"], headers, body)
    assert json.loads(body)["data"]["show_id"] == small.show_id
    # a seat comes back and sells again: the show sold out once, and said so once
    returned = await client.post(
        f"{API}/orders/{last['id']}/refunds", json={"lines": [{"position": 0}]}, headers=fan.headers
    )
    assert returned.status_code == 201, returned.text
    await paid_order(client, fan, small, seats=1, offset=2)
    await bus.run_once()
    await bus.run_once()
    assert receiver.types() == ["show.sold_out", "order.refunded"]
    refunded = json.loads(receiver.received[1][1])["data"]
    assert (refunded["partial"], refunded["positions"]) == (False, [0])
