"""The chaos run's counts after the sale (bench/chaos_report.py ``emails_and_tickets``), read
from a real database: a paid order without its e-mail is counted, and the report says where
such e-mails may be (the read that crashed the CI run once, on a connection already closed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from bench.chaos_report import emails_and_tickets
from sqlalchemy import insert

from boxoffice.orders.models import Order
from boxoffice.platform.db import create_engine
from boxoffice.platform.ids import new_id


async def _paid_order(database_url: str, show_id: str) -> None:
    now = datetime.now(UTC)
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(Order),
                [
                    {
                        "id": new_id(),
                        "user_id": new_id(),
                        "status": "paid",
                        "provider": "internal",
                        "currency": "KRW",
                        "amount": 50_000,
                        "ticket_amount": 50_000,
                        "ticket_count": 1,
                        "name": "A show",
                        "show_id": show_id,
                        "idempotency_key": new_id(),
                        "request_hash": "0" * 64,
                        "created_at": now,
                        "updated_at": now,
                        "expires_at": now + timedelta(minutes=10),
                        "paid_at": now,
                    }
                ],
            )
    finally:
        await engine.dispose()


@pytest.mark.services
@pytest.mark.parametrize("backend", ["postgresql"])
async def test_an_email_still_missing_is_counted_and_its_backlog_read(database_url: str) -> None:
    show_id = new_id()
    await _paid_order(database_url, show_id)

    counts = await emails_and_tickets(database_url, show_id, wait_seconds=0)

    assert counts["confirmations_missing"] == 1
    assert counts["emails_missing"] == 1
    assert counts["refund_notices_missing"] == 0
    assert set(counts["mail_backlog"]) == {
        "retries_waiting",
        "dead_letters",
        "events_not_relayed",
        "claims_open",
    }


@pytest.mark.services
@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_sale_without_paid_orders_misses_nothing(database_url: str) -> None:
    counts = await emails_and_tickets(database_url, new_id(), wait_seconds=0)

    assert counts["emails_missing"] == 0
    assert "mail_backlog" not in counts
