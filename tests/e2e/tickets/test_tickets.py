"""Tickets: read and QR for their holder only; check-in by staff or the event's seller,
once; forged and voided codes refused."""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx
import pytest

from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role
from tests.conftest import BACKENDS
from tests.stubs.kakaopay import KakaoPayStandIn
from tests.stubs.toss import TossStandIn
from tests.support.api import API, Caller, assert_problem, user_with_role
from tests.support.catalog import ShowSetup
from tests.support.orders import count_rows, new_order, pay


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
        await client.post(f"{API}/checkin", json={"code": first["code"]}, headers=fan.headers),
        403,
        "forbidden",
    )
    assert_problem(
        await client.post(f"{API}/checkin", json={"code": first["code"]}, headers=rival.headers),
        403,
        "forbidden",
    )
    scanned = await client.post(
        f"{API}/checkin", json={"code": first["code"].lower()}, headers=show.seller.headers
    )
    assert scanned.status_code == 200, scanned.text
    body = scanned.json()
    assert (body["ticket_id"], body["status"]) == (first["id"], "used")
    again = await client.post(f"{API}/checkin", json={"code": first["code"]}, headers=staff.headers)
    problem = assert_problem(again, 409, "already_checked_in")
    first_scan = datetime.fromisoformat(body["checked_in_at"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(problem["checked_in_at"]) == first_scan
    by_staff = await client.post(
        f"{API}/checkin", json={"code": second["code"]}, headers=staff.headers
    )
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
        response = await client.post(f"{API}/checkin", json={"code": bad}, headers=staff.headers)
        assert_problem(response, 422, "invalid_ticket_code")
    cancelled = await client.post(f"{API}/orders/{ticket['order_id']}/cancel", headers=fan.headers)
    assert cancelled.json()["status"] == "refunded"
    void = await client.post(f"{API}/checkin", json={"code": code}, headers=staff.headers)
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
            client.post(f"{API}/checkin", json={"code": ticket["code"]}, headers=gate.headers)
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
