"""Moving a show to another time: its tickets follow, each holder is e-mailed the new time
and until when a refund is free (through the real SMTP path), and cancelling costs no fee
until then even where the fee windows would charge one; a retry moves and tells nothing
twice; a stranger cannot move it, nor onto another show's time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import pytest

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import PaymentSettings, Settings
from boxoffice.platform.messaging.worker import InProcessBus
from boxoffice.platform.runtime import Runtime
from tests.support.api import API, Caller, assert_problem
from tests.support.catalog import ShowSetup
from tests.support.messaging import SmtpServer
from tests.support.orders import paid_order


@pytest.fixture
def settings(
    make_settings: Callable[..., Settings], payment_settings: PaymentSettings, smtp: SmtpServer
) -> Settings:
    return make_settings(payment=payment_settings, **smtp.settings())


async def _move(
    client: httpx.AsyncClient, caller: Caller, show_id: str, to: datetime
) -> httpx.Response:
    return await client.post(
        f"{API}/shows/{show_id}/reschedule",
        json={"starts_at": to.isoformat(), "refund_days": 10},
        headers=caller.headers,
    )


async def test_a_moved_show_takes_its_tickets_and_refunds_without_a_fee(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    smtp: SmtpServer,
) -> None:
    english = await client.patch(f"{API}/users/me", json={"locale": "en"}, headers=other.headers)
    assert english.status_code == 200, english.text
    orders = []
    for buyer, offset in ((fan, 0), (other, 2)):
        orders.append(await paid_order(client, buyer, show, offset=offset))
    event = (await client.get(f"{API}/events/{show.event_id}")).json()
    old = datetime.fromisoformat(event["shows"][0]["starts_at"])
    new = old + timedelta(days=14, hours=2)

    assert_problem(await _move(client, fan, show.show_id, new), 403, "forbidden")
    moved = await _move(client, show.seller, show.show_id, new)
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["starts_at"]) == new
    again = await _move(client, show.seller, show.show_id, new)  # a retry
    assert again.status_code == 200
    bus = runtime.adapters.get(InProcessBus)
    while await bus.run_once():
        pass

    tickets = (await client.get(f"{API}/users/me/tickets", headers=fan.headers)).json()["items"]
    assert {datetime.fromisoformat(t["starts_at"]) for t in tickets} == {new}
    (korean,) = [m for m in smtp.inbox.to(fan.email) if "일정이" in str(m["Subject"])]
    (english_mail,) = [m for m in smtp.inbox.to(other.email) if "moved to" in str(m["Subject"])]
    text = english_mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "without any fee" in text
    assert "KST" in text
    assert korean is not None

    clock.advance(timedelta(days=8))  # past the free week: normally a fee
    terms = await client.get(f"{API}/orders/{orders[0]['id']}/cancellation", headers=fan.headers)
    assert (terms.json()["fee"], terms.json()["rule"]) == (0, "rescheduled")


async def test_a_show_is_not_moved_onto_another(
    client: httpx.AsyncClient, clock: FrozenClock, show: ShowSetup
) -> None:
    taken = clock.now() + timedelta(days=45)
    made = await client.post(
        f"{API}/events/{show.event_id}/shows",
        json={"starts_at": taken.isoformat()},
        headers=show.seller.headers,
    )
    assert made.status_code == 201, made.text
    assert_problem(await _move(client, show.seller, show.show_id, taken), 409, "conflict")
    past = clock.now() - timedelta(days=1)
    assert_problem(await _move(client, show.seller, show.show_id, past), 422, "validation_error")
