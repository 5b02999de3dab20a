"""Tickets: read and QR for their holder only; check-in by staff or the event's seller,
once; forged and voided codes refused."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from functools import partial

import httpx
import pytest

from boxoffice.orders import service as orders
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role
from tests.conftest import BACKENDS
from tests.stubs.kakaopay import KakaoPayStandIn
from tests.stubs.toss import TossStandIn
from tests.support.api import API, Caller, assert_problem, user_with_role
from tests.support.catalog import ShowSetup, open_show
from tests.support.orders import cancel_order, count_rows, new_order, pay


async def _tickets(
    client: httpx.AsyncClient,
    fan: Caller,
    show: ShowSetup,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
    *,
    offset: int = 0,
) -> list[dict]:  # type: ignore[type-arg]
    order = await new_order(client, fan, show, offset=offset)
    paid = await pay(client, fan, order, toss, kakaopay)
    assert paid.status_code == 200, paid.text
    found = []
    for ticket_id in paid.json()["ticket_ids"]:
        response = await client.get(f"{API}/tickets/{ticket_id}", headers=fan.headers)
        found.append(response.json())
    return found


def _scan(ticket: dict) -> dict[str, str]:  # type: ignore[type-arg]
    """What a door's scanner sends: the code, and the show the door is scanning for."""
    return {"code": ticket["code"], "show_id": ticket["show_id"]}


async def test_ticket_read_and_qr_for_the_holder_only(
    client: httpx.AsyncClient,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    ticket = (await _tickets(client, fan, show, toss, kakaopay))[0]
    assert set(ticket) >= {"id", "order_id", "show_id", "seat", "status", "code"}
    svg = await client.get(f"{API}/tickets/{ticket['id']}/qr", headers=fan.headers)
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content
    png = await client.get(f"{API}/tickets/{ticket['id']}/qr?format=png", headers=fan.headers)
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    assert_problem(
        await client.get(f"{API}/tickets/{ticket['id']}/qr?format=gif", headers=fan.headers),
        422,
        "validation_error",
    )


async def test_another_user_cannot_read_the_ticket(
    client: httpx.AsyncClient,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    ticket = (await _tickets(client, fan, show, toss, kakaopay))[0]
    response = await client.get(f"{API}/tickets/{ticket['id']}", headers=other.headers)
    assert_problem(response, 404, "not_found")
    mine = (await client.get(f"{API}/users/me/tickets", headers=other.headers)).json()
    assert mine["items"] == []


async def test_another_user_cannot_get_the_ticket_qr(
    client: httpx.AsyncClient,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    ticket = (await _tickets(client, fan, show, toss, kakaopay))[0]
    response = await client.get(f"{API}/tickets/{ticket['id']}/qr", headers=other.headers)
    assert_problem(response, 404, "not_found")


async def test_check_in_once_by_the_seller_or_staff(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    first, second = await _tickets(client, fan, show, toss, kakaopay)
    staff = await user_with_role(client, runtime, Role.STAFF)
    rival = await user_with_role(client, runtime, Role.SELLER, tag="rival")
    assert_problem(
        await client.post(f"{API}/checkin", json=_scan(first), headers=fan.headers),
        403,
        "forbidden",
    )
    assert_problem(
        await client.post(f"{API}/checkin", json=_scan(first), headers=rival.headers),
        403,
        "forbidden",
    )
    scanned = await client.post(
        f"{API}/checkin",
        json={"code": first["code"].lower(), "show_id": show.show_id},
        headers=show.seller.headers,
    )
    assert scanned.status_code == 200, scanned.text
    body = scanned.json()
    assert (body["ticket_id"], body["status"]) == (first["id"], "used")
    again = await client.post(f"{API}/checkin", json=_scan(first), headers=staff.headers)
    problem = assert_problem(again, 409, "already_checked_in")
    first_scan = datetime.fromisoformat(body["checked_in_at"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(problem["checked_in_at"]) == first_scan
    by_staff = await client.post(f"{API}/checkin", json=_scan(second), headers=staff.headers)
    assert by_staff.status_code == 200
    held = (await client.get(f"{API}/tickets/{first['id']}", headers=fan.headers)).json()
    assert held["status"] == "used"


async def test_forged_and_voided_codes_are_refused(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    ticket = (await _tickets(client, fan, show, toss, kakaopay))[0]
    staff = await user_with_role(client, runtime, Role.STAFF)
    code = ticket["code"]
    forged = code[:-3] + ("AAA" if not code.endswith("AAA") else "BBB")
    for bad in [forged, "T1" + "A" * 45, "hello", code + "X"]:
        response = await client.post(
            f"{API}/checkin", json={"code": bad, "show_id": show.show_id}, headers=staff.headers
        )
        assert_problem(response, 422, "invalid_ticket_code")
    cancelled = await client.post(f"{API}/orders/{ticket['order_id']}/cancel", headers=fan.headers)
    assert cancelled.json()["status"] == "refunded"
    void = await client.post(
        f"{API}/checkin", json={"code": code, "show_id": show.show_id}, headers=staff.headers
    )
    assert_problem(void, 422, "ticket_void")


@pytest.mark.parametrize("backend", BACKENDS[:2])
async def test_concurrent_scans_of_one_ticket_let_one_in(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    ticket = (await _tickets(client, fan, show, toss, kakaopay))[0]
    gates = [await user_with_role(client, runtime, Role.STAFF) for _ in range(3)]
    scans = await asyncio.gather(
        *[
            client.post(f"{API}/checkin", json=_scan(ticket), headers=gate.headers)
            for gate in gates * 3
        ]
    )
    statuses = sorted(r.status_code for r in scans)
    assert statuses == [200] + [409] * 8, [r.text for r in scans]
    used = await count_rows(
        runtime,
        "SELECT count(*) FROM tickets_tickets WHERE id = :t AND status = 'used'",
        t=ticket["id"],
    )
    assert used == 1


async def test_my_tickets_are_paginated(
    client: httpx.AsyncClient,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    first = await _tickets(client, fan, show, toss, kakaopay)
    second = await _tickets(client, fan, show, toss, kakaopay, offset=2)
    ids = {t["id"] for t in first + second}
    page = (await client.get(f"{API}/users/me/tickets?limit=3", headers=fan.headers)).json()
    rest = (
        await client.get(
            f"{API}/users/me/tickets",
            params={"limit": 3, "cursor": page["next_cursor"]},
            headers=fan.headers,
        )
    ).json()
    assert len(page["items"]) == 3
    assert rest["next_cursor"] is None
    assert {t["id"] for t in page["items"] + rest["items"]} == ids


async def _second_show(client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup) -> str:
    """Another night of the same event (same seller, same venue)."""
    starts_at = runtime.clock.now() + timedelta(days=41)
    response = await client.post(
        f"{API}/events/{show.event_id}/shows",
        json={"starts_at": starts_at.isoformat()},
        headers=show.seller.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.parametrize("backend", BACKENDS[:2])
async def test_a_ticket_of_another_show_is_refused_and_stays_valid(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    ticket = (await _tickets(client, fan, show, toss, kakaopay))[0]
    tomorrow = await _second_show(client, runtime, show)
    staff = await user_with_role(client, runtime, Role.STAFF)
    for gate in (staff, show.seller):
        wrong = await client.post(
            f"{API}/checkin",
            json={"code": ticket["code"], "show_id": tomorrow},
            headers=gate.headers,
        )
        assert assert_problem(wrong, 409, "wrong_show")["ticket_show_id"] == show.show_id
    held = (await client.get(f"{API}/tickets/{ticket['id']}", headers=fan.headers)).json()
    assert (held["status"], held["checked_in_at"]) == ("valid", None)
    right = await client.post(f"{API}/checkin", json=_scan(ticket), headers=staff.headers)
    assert right.status_code == 200, right.text


async def test_check_in_names_a_show_the_caller_may_scan_for(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    ticket = (await _tickets(client, fan, show, toss, kakaopay))[0]
    staff = await user_with_role(client, runtime, Role.STAFF)
    without = await client.post(
        f"{API}/checkin", json={"code": ticket["code"]}, headers=staff.headers
    )
    assert_problem(without, 422, "validation_error")
    unknown = await client.post(
        f"{API}/checkin", json={"code": ticket["code"], "show_id": "nope"}, headers=staff.headers
    )
    assert_problem(unknown, 404, "not_found")
    # a seller scanning at their own show's door learns nothing of another seller's ticket
    rival = await open_show(client, runtime, rows=1, seats_per_row=4)
    elsewhere = await client.post(
        f"{API}/checkin",
        json={"code": ticket["code"], "show_id": rival.show_id},
        headers=rival.seller.headers,
    )
    assert "ticket_show_id" not in assert_problem(elsewhere, 409, "wrong_show")
    held = (await client.get(f"{API}/tickets/{ticket['id']}", headers=fan.headers)).json()
    assert held["status"] == "valid"


_cancel = partial(cancel_order, reason="changed plans")


@pytest.mark.parametrize("backend", BACKENDS[:2])
async def test_an_order_with_a_used_ticket_is_not_refunded(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    first, second = await _tickets(client, fan, show, toss, kakaopay)
    staff = await user_with_role(client, runtime, Role.STAFF)
    assert (
        await client.post(f"{API}/checkin", json=_scan(first), headers=staff.headers)
    ).is_success
    admin = await user_with_role(client, runtime, Role.ADMIN)
    for caller in (fan, admin):
        refused = await _cancel(client, caller, first["order_id"])
        assert assert_problem(refused, 409, "ticket_used")["used_tickets"] == 1
    sneaky = await _cancel(client, fan, first["order_id"], refund_used=True)  # not the buyer's call
    assert_problem(sneaky, 409, "ticket_used")
    async with runtime.uow(read_only=True) as uow:  # the shop's cancel dialog says so first
        buyer = Principal(id=fan.id, email=fan.email, role=Role.CUSTOMER)
        terms = await orders.cancellation_terms(uow, runtime, buyer, first["order_id"])
    assert (terms.allowed, terms.rule) == (False, "ticket_used")
    order = (await client.get(f"{API}/orders/{first['order_id']}", headers=fan.headers)).json()
    assert (order["status"], order["refunded_amount"]) == ("paid", 0)
    statuses = await count_rows(
        runtime,
        "SELECT count(*) FROM tickets_tickets WHERE order_id = :o AND status IN ('used', 'valid')",
        o=first["order_id"],
    )
    assert statuses == 2
    assert (
        await client.post(f"{API}/checkin", json=_scan(second), headers=staff.headers)
    ).is_success
    # an operator may still refund it, saying so explicitly
    refunded = await _cancel(client, admin, first["order_id"], refund_used=True)
    assert refunded.status_code == 200, refunded.text
    assert (refunded.json()["status"], refunded.json()["refunded_amount"]) == (
        "refunded",
        order["amount"],
    )


async def test_event_cancellation_leaves_orders_with_used_tickets_to_an_operator(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    used = (await _tickets(client, fan, show, toss, kakaopay))[0]
    unused = (await _tickets(client, other, show, toss, kakaopay, offset=2))[0]
    staff = await user_with_role(client, runtime, Role.STAFF)
    assert (await client.post(f"{API}/checkin", json=_scan(used), headers=staff.headers)).is_success
    assert await orders.refund_event_orders(runtime, show.event_id) == 1
    kept = (await client.get(f"{API}/orders/{used['order_id']}", headers=fan.headers)).json()
    back = (await client.get(f"{API}/orders/{unused['order_id']}", headers=other.headers)).json()
    assert (kept["status"], back["status"]) == ("paid", "refunded")


async def test_a_ticket_does_not_open_the_door_while_its_refund_is_under_way(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    order = await new_order(client, fan, show, "kakaopay")
    paid = await pay(client, fan, order, toss, kakaopay)
    ticket_id = paid.json()["ticket_ids"][0]
    ticket = (await client.get(f"{API}/tickets/{ticket_id}", headers=fan.headers)).json()
    staff = await user_with_role(client, runtime, Role.STAFF)
    kakaopay.fail_next["cancel"] = (500, -9999, "system error")  # the money may be gone
    assert_problem(await _cancel(client, fan, order["id"]), 502, "payment_provider_error")
    scan = await client.post(f"{API}/checkin", json=_scan(ticket), headers=staff.headers)
    assert_problem(scan, 422, "ticket_void")
    clock.advance(timedelta(minutes=2))
    assert await orders.reconcile_payments(runtime) == 1
    done = (await client.get(f"{API}/orders/{order['id']}", headers=fan.headers)).json()
    assert done["status"] == "refunded"
    seats = await count_rows(
        runtime,
        "SELECT count(*) FROM seating_seats WHERE show_id = :s AND status = 'sold'",
        s=show.show_id,
    )
    assert seats == 0


async def test_a_refused_refund_gives_the_tickets_back(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    order = await new_order(client, fan, show, "kakaopay")
    paid = await pay(client, fan, order, toss, kakaopay)
    ticket_id = paid.json()["ticket_ids"][0]
    kakaopay.fail_next["cancel"] = (400, -721, "refund refused")
    assert_problem(await _cancel(client, fan, order["id"]), 502, "payment_provider_error")
    ticket = (await client.get(f"{API}/tickets/{ticket_id}", headers=fan.headers)).json()
    assert (ticket["status"], ticket["voided_at"]) == ("valid", None)
    staff = await user_with_role(client, runtime, Role.STAFF)
    scan = await client.post(f"{API}/checkin", json=_scan(ticket), headers=staff.headers)
    assert scan.status_code == 200, scan.text


@pytest.mark.parametrize("backend", BACKENDS[:2])
async def test_a_scan_racing_the_buyers_cancel_never_both_wins(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    staff = await user_with_role(client, runtime, Role.STAFF)
    races = []
    for n, buyer in enumerate([fan, fan, other, other]):  # two orders each: the limit is 4
        ticket = (await _tickets(client, buyer, show, toss, kakaopay, offset=2 * n))[0]
        races.append(
            asyncio.gather(
                client.post(f"{API}/checkin", json=_scan(ticket), headers=staff.headers),
                _cancel(client, buyer, ticket["order_id"]),
            )
        )
    for scan, cancel in await asyncio.gather(*races):
        outcome = (scan.status_code, cancel.status_code)
        assert outcome in {(200, 409), (422, 200)}, (scan.text, cancel.text)
    used_and_refunded = await count_rows(
        runtime,
        "SELECT count(*) FROM tickets_tickets WHERE checked_in_at IS NOT NULL AND status = 'void'",
    )
    assert used_and_refunded == 0
