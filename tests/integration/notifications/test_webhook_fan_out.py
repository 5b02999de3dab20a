"""The webhook fan-out of a sale's payments under group commit: every payment reaches the
seller's endpoint once, and the seller's endpoints are read once per transaction, not
once per payment."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from boxoffice.notifications.consumers import CONSUMERS
from boxoffice.notifications.models import WebhookDelivery, WebhookEndpoint
from boxoffice.orders.events import OrderPaid
from boxoffice.platform.config import Settings
from boxoffice.platform.messaging import Dispatcher, Envelope
from boxoffice.platform.runtime import build_runtime
from tests.conftest import BACKENDS
from tests.support.budget import counting

PAYMENTS = 40


def paid(seller_id: str) -> Envelope:
    event = OrderPaid(
        order_id=str(uuid.uuid4()), user_id="fan", amount=10_000, currency="KRW",
        show_id="show", ticket_ids=["t"], seller_id=seller_id,
    )  # fmt: skip
    return Envelope(
        event_id=str(uuid.uuid4()),
        topic="boxoffice.orders.OrderPaid",
        event_type="OrderPaid",
        version=1,
        aggregate_id=event.order_id,
        payload={k: v for k, v in asdict(event).items() if k != "event_id"},
        occurred_at=datetime.now(UTC),
    )


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_sales_payments_read_the_sellers_endpoints_once_per_transaction(
    make_settings: Callable[..., Settings],
) -> None:
    runtime = build_runtime(make_settings())
    [consumer] = [c for c in CONSUMERS if c.name == "notifications.webhooks_order_paid"]
    try:
        async with runtime.uow() as uow:
            uow.session.add(
                WebhookEndpoint(
                    id="endpoint-1",
                    seller_id="seller-1",
                    url="https://example.com/hook",
                    events="order.paid order.refunded",
                    secret="s",
                    active=True,
                    failure_streak=0,
                    created_at=uow.clock.now(),
                    disabled_at=None,
                )
            )
            await uow.commit()
        dispatcher = Dispatcher(runtime)
        payments = [paid("seller-1") for _ in range(PAYMENTS)]
        async with counting(runtime.engine) as cost:
            outcomes = await asyncio.gather(*(dispatcher.deliver(consumer, e) for e in payments))
        assert outcomes == ["processed"] * PAYMENTS
        async with runtime.uow(read_only=True) as uow:
            made = await uow.session.scalar(select(func.count(WebhookDelivery.id)))
        assert made == PAYMENTS
        endpoint_reads = sum(
            q.startswith("SELECT notifications_webhook_endpoints.") for q in cost.sql
        )
        assert endpoint_reads <= cost.transactions < PAYMENTS, cost
    finally:
        await runtime.close()
