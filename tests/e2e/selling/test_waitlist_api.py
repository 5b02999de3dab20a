"""The sold-out waitlist over HTTP: fans join a sold-out show, a cancelled order's seats
are offered to the first of them with a hold and an e-mail, and the fan buys it."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from boxoffice.platform.config import PaymentSettings, Settings
from boxoffice.platform.messaging.worker import InProcessBus
from boxoffice.platform.runtime import Runtime
from boxoffice.seating import service as seating
from tests.support.api import API, Caller, assert_problem, customer
from tests.support.catalog import ShowSetup, open_show
from tests.support.messaging import SmtpServer
from tests.support.orders import new_order, place_order


@pytest.fixture
def settings(
    make_settings: Callable[..., Settings], payment_settings: PaymentSettings, smtp: SmtpServer
) -> Settings:
    return make_settings(payment=payment_settings, **smtp.settings())


@pytest.fixture
async def show(client: httpx.AsyncClient, runtime: Runtime) -> ShowSetup:
    return await open_show(client, runtime, rows=2, seats_per_row=2)  # 4 seats


async def join(
    client: httpx.AsyncClient, fan: Caller, show: ShowSetup, **body: str
) -> httpx.Response:
    return await client.post(
        f"{API}/shows/{show.show_id}/waitlist", json=body or None, headers=fan.headers
    )


async def test_a_cancelled_seat_is_offered_to_the_first_fan_who_buys_it(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, smtp: SmtpServer
) -> None:
    early, first, second = [await customer(client, tag) for tag in ("early", "first", "second")]
    assert_problem(await join(client, first, show), 409, "seats_available")
    order = await new_order(client, early, show, seats=4)
    paid = await client.post(f"{API}/orders/{order['id']}/pay", headers=early.headers)
    assert paid.status_code == 200, paid.text

    joined = await join(client, first, show)
    assert joined.status_code == 201, joined.text
    entry = joined.json()
    assert (entry["status"], entry["position"]) == ("waiting", 1)
    assert (await join(client, first, show)).json()["id"] == entry["id"]
    assert (await join(client, first, show)).status_code == 200
    behind = (await join(client, second, show, grade="VIP")).json()
    assert behind["position"] == 2
    hidden = await client.get(f"{API}/waitlist/{entry['id']}", headers=second.headers)
    assert_problem(hidden, 404, "not_found")

    cancelled = await client.post(
        f"{API}/orders/{order['id']}/cancel", json={"reason": "cannot go"}, headers=early.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    await seating.expire_holds(runtime)  # the sweeper job offers the returned seats

    offered = (await client.get(f"{API}/waitlist/{entry['id']}", headers=first.headers)).json()
    assert offered["status"] == "offered"
    assert offered["hold_id"]
    second_entry = await client.get(f"{API}/waitlist/{behind['id']}", headers=second.headers)
    assert second_entry.json()["status"] == "offered"  # 4 seats came back, both got one
    hold = await client.get(f"{API}/holds/{offered['hold_id']}", headers=first.headers)
    assert hold.json()["status"] == "active"
    bought = await place_order(client, first, offered["hold_id"])
    assert bought.status_code == 201, bought.text
    paid = await client.post(f"{API}/orders/{bought.json()['id']}/pay", headers=first.headers)
    assert paid.status_code == 200, paid.text

    await runtime.adapters.get(InProcessBus).run_once()
    subjects = [str(m["Subject"]) for m in smtp.inbox.to(first.email)]
    assert any("좌석" in s or "seat came back" in s for s in subjects), subjects
    await seating.expire_holds(runtime)
    done = await client.get(f"{API}/waitlist/{entry['id']}", headers=first.headers)
    assert done.json()["status"] == "bought"
    left = await client.delete(f"{API}/waitlist/{behind['id']}", headers=second.headers)
    assert left.status_code == 204
