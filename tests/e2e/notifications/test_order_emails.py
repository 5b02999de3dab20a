"""Order e-mails follow orders' events, in the buyer's language, once each."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import select

from boxoffice.app import create_app
from boxoffice.catalog.events import EventCancelled
from boxoffice.orders.events import OrderCancelled, OrderPaid
from boxoffice.platform.config import Settings
from boxoffice.platform.events import DomainEvent
from boxoffice.platform.messaging.models import ProcessedEvent
from boxoffice.platform.messaging.worker import InProcessBus
from boxoffice.platform.runtime import Runtime
from tests.support.api import API, customer, sign_up, unique_email
from tests.support.messaging import SmtpServer, wait_until


async def record(runtime: Runtime, *events: DomainEvent) -> None:
    async with runtime.uow() as uow:
        for event in events:
            uow.record(event)
        await uow.commit()


async def test_paid_then_cancelled_order_sends_confirmation_with_tickets_then_refund_notice(
    client: httpx.AsyncClient, runtime: Runtime, smtp: SmtpServer
) -> None:
    fan = await customer(client)
    changed = await client.patch(f"{API}/users/me", json={"locale": "en"}, headers=fan.headers)
    assert changed.status_code == 200, changed.text
    bus: InProcessBus = runtime.adapters.get(InProcessBus)
    await bus.run_once()  # the welcome e-mail
    order_id, tickets = str(uuid.uuid4()), [str(uuid.uuid4()), str(uuid.uuid4())]
    await record(
        runtime,
        OrderPaid(
            order_id=order_id,
            user_id=fan.id,
            amount=330000,
            currency="KRW",
            show_id=None,
            ticket_ids=tickets,
        ),
        OrderCancelled(
            order_id=order_id,
            user_id=fan.id,
            refund_amount=148500,
            fee=16500,
            currency="KRW",
            reason="one cannot come",
            partial=True,
            positions=(1,),
        ),
        OrderCancelled(
            order_id=order_id,
            user_id=fan.id,
            refund_amount=297000,
            fee=33000,
            currency="KRW",
            reason="changed plans",
        ),
    )
    await bus.run_once()
    welcome, paid, part, cancelled = smtp.inbox.to(fan.email)
    assert "partly refunded" in str(part["Subject"])
    assert "₩148,500" in str(part["Subject"])
    assert "the rest of the order stands" in part.get_body(("plain",)).get_content()
    assert "환영" in str(welcome["Subject"])  # sign-up language; English after the change:
    assert "confirmed" in str(paid["Subject"])
    text = paid.get_body(("plain",)).get_content()
    assert "₩330,000" in text
    for ticket_id in tickets:
        assert f"{runtime.settings.public_url}/tickets/{ticket_id}" in text
    assert "₩297,000" in str(cancelled["Subject"])
    assert "cancellation fee ₩33,000" in cancelled.get_body(("plain",)).get_content()


async def test_cancelled_event_is_handed_to_orders_refunds_once(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    event_id = str(uuid.uuid4())
    cancelled = EventCancelled(event_id=event_id, seller_id="s", title="Live", reason="storm")
    await record(runtime, cancelled)
    await runtime.adapters.get(InProcessBus).run_once()
    async with runtime.uow() as uow:
        rows = (
            await uow.session.execute(
                select(ProcessedEvent).where(
                    ProcessedEvent.consumer == "orders.refund_cancelled_event"
                )
            )
        ).scalars()
        assert [row.claim for row in rows] == [None]  # processed, once


async def test_embedded_run_writes_mail_files_from_its_background_loop(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    mail_dir = tmp_path / "outgoing-mail"
    settings = make_settings(notifications={"mail_dir": mail_dir}, relay_poll_seconds=0.05)
    app = create_app(settings, background=True)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            email = unique_email("embedded")
            assert (await sign_up(http, email, name="Embedded Fan")).status_code == 201
            await wait_until(lambda: any(mail_dir.glob("*.eml")), "the mail file", within=20)
    [path] = list(mail_dir.glob("*.eml"))
    raw = path.read_bytes()
    assert f"To: {email}".encode() in raw
    assert b"Message-ID: <welcome." in raw
