"""The endpoints the console needs, as any API client sees them: a seller's own events, a
show's orders, attendees and sales figures (its seller or an admin only), the admin's user
search; keyset pages, problem+json refusals."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role
from tests.conftest import BACKENDS
from tests.stubs.kakaopay import KakaoPayStandIn
from tests.stubs.toss import TossStandIn
from tests.support.api import API, Caller, assert_problem, customer, user_with_role
from tests.support.catalog import ShowSetup, create_venue, ensure_categories, event_body
from tests.support.orders import bought, count_rows, new_order

_paid = bought


async def _pages(
    client: httpx.AsyncClient, url: str, caller: Caller, limit: int, **query: str
) -> list[Any]:
    """Every item, following ``next_cursor`` ``limit`` at a time."""
    items: list[Any] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit, **query}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(url, params=params, headers=caller.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def test_seller_events_lists_own_events_in_every_state(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, fan: Caller
) -> None:
    seller = show.seller
    await ensure_categories(runtime)
    venue = await create_venue(client, seller)
    drafts = []
    for title in ("Winter Jazz Night", "Spring Jazz Picnic", "Opera Gala"):
        created = await client.post(
            f"{API}/events",
            json=event_body(venue["id"], runtime, title=title),
            headers=seller.headers,
        )
        assert created.status_code == 201, created.text
        drafts.append(created.json()["id"])
    rival = await user_with_role(client, runtime, Role.SELLER, tag="rival")
    rival_venue = await create_venue(client, rival)
    theirs = await client.post(
        f"{API}/events",
        json=event_body(rival_venue["id"], runtime, title="Rival Jazz"),
        headers=rival.headers,
    )
    assert theirs.status_code == 201

    mine = await _pages(client, f"{API}/seller/events", seller, limit=2)
    assert [e["id"] for e in mine] == [*reversed(drafts), show.event_id]  # newest first
    assert {e["status"] for e in mine} == {"draft", "published"}
    assert mine[-1]["show_count"] == 1

    jazz = await client.get(f"{API}/seller/events", params={"q": "jAZZ"}, headers=seller.headers)
    assert [e["title"] for e in jazz.json()["items"]] == ["Spring Jazz Picnic", "Winter Jazz Night"]
    published = await client.get(
        f"{API}/seller/events", params={"status": "published"}, headers=seller.headers
    )
    assert [e["id"] for e in published.json()["items"]] == [show.event_id]

    assert_problem(await client.get(f"{API}/seller/events", headers=fan.headers), 403, "forbidden")
    assert_problem(await client.get(f"{API}/seller/events"), 401, "unauthorized")
    assert_problem(
        await client.get(f"{API}/seller/events?status=sold", headers=seller.headers),
        422,
        "validation_error",
    )
    admin = await user_with_role(client, runtime, Role.ADMIN)
    everyone = await _pages(client, f"{API}/seller/events", admin, limit=100)
    assert {theirs.json()["id"], *drafts} <= {e["id"] for e in everyone}


async def test_show_orders_for_the_seller_only_with_search_filters_and_pages(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    first = await _paid(client, fan, show, toss, kakaopay, offset=0)
    second = await _paid(client, other, show, toss, kakaopay, offset=2)
    pending = await new_order(client, fan, show, seats=1, offset=4)
    url = f"{API}/shows/{show.show_id}/orders"

    listed = await _pages(client, url, show.seller, limit=2)
    assert [o["id"] for o in listed] == [pending["id"], second["id"], first["id"]]
    assert listed[1]["buyer"] == {"id": other.id, "email": other.email, "name": "Fan"}
    assert (listed[2]["status"], listed[2]["ticket_count"]) == ("paid", 2)

    paid = await client.get(url, params={"status": "paid"}, headers=show.seller.headers)
    assert [o["id"] for o in paid.json()["items"]] == [second["id"], first["id"]]
    by_mail = await client.get(url, params={"q": fan.email.upper()}, headers=show.seller.headers)
    assert [o["id"] for o in by_mail.json()["items"]] == [pending["id"], first["id"]]
    by_id = await client.get(url, params={"q": second["id"]}, headers=show.seller.headers)
    assert [o["id"] for o in by_id.json()["items"]] == [second["id"]]
    nobody = await client.get(url, params={"q": "no@one.example"}, headers=show.seller.headers)
    assert nobody.json() == {"items": [], "next_cursor": None}

    rival = await user_with_role(client, runtime, Role.SELLER, tag="rival")
    assert_problem(await client.get(url, headers=rival.headers), 403, "forbidden")
    assert_problem(await client.get(url, headers=fan.headers), 403, "forbidden")
    assert_problem(await client.get(url), 401, "unauthorized")
    assert_problem(
        await client.get(f"{API}/shows/nope/orders", headers=show.seller.headers), 404, "not_found"
    )
    assert_problem(
        await client.get(url, params={"status": "lost"}, headers=show.seller.headers),
        422,
        "validation_error",
    )
    admin = await user_with_role(client, runtime, Role.ADMIN)
    assert len((await client.get(url, headers=admin.headers)).json()["items"]) == 3


async def test_attendees_and_the_door_count(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    await _paid(client, fan, show, toss, kakaopay, offset=0, seats=3)
    theirs = await _paid(client, other, show, toss, kakaopay, offset=3)
    url = f"{API}/shows/{show.show_id}/attendees"
    listed = await _pages(client, url, show.seller, limit=2)
    assert len(listed) == 5
    assert [a["ticket_id"] for a in listed] == sorted(a["ticket_id"] for a in listed)
    assert {a["holder_email"] for a in listed} == {fan.email, other.email}
    assert {a["seat"]["id"] for a in listed} == set(show.seat_ids[:5])

    code = await client.get(f"{API}/tickets/{theirs['ticket_ids'][0]}", headers=other.headers)
    scanned = await client.post(
        f"{API}/checkin",
        json={"code": code.json()["code"], "show_id": show.show_id},
        headers=show.seller.headers,
    )
    assert scanned.status_code == 200, scanned.text
    body = (await client.get(url, params={"status": "used"}, headers=show.seller.headers)).json()
    assert [a["ticket_id"] for a in body["items"]] == [theirs["ticket_ids"][0]]
    assert (body["live"], body["checked_in"]) == (5, 1)
    by_order = await client.get(url, params={"q": theirs["id"]}, headers=show.seller.headers)
    assert len(by_order.json()["items"]) == 2

    rival = await user_with_role(client, runtime, Role.SELLER, tag="rival")
    assert_problem(await client.get(url, headers=rival.headers), 403, "forbidden")
    staff = await user_with_role(client, runtime, Role.STAFF)
    assert_problem(await client.get(url, headers=staff.headers), 403, "forbidden")
    assert_problem(
        await client.get(url, params={"limit": 0}, headers=show.seller.headers),
        422,
        "validation_error",
    )


@pytest.mark.parametrize("kind", ["orders", "attendees"])
async def test_csv_exports_match_the_database_and_are_the_sellers_only(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
    kind: str,
) -> None:
    await _paid(client, fan, show, toss, kakaopay, offset=0)
    await _paid(client, other, show, toss, kakaopay, offset=2, seats=1)
    url = f"{API}/shows/{show.show_id}/{kind}/export"
    response = await client.get(url, headers=show.seller.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    lines = response.text.lstrip("\ufeff").splitlines()
    table = "orders_orders" if kind == "orders" else "tickets_tickets"
    expected = await count_rows(
        runtime, f"SELECT count(*) FROM {table} WHERE show_id = :s", s=show.show_id
    )
    assert len(lines) == 1 + expected == 1 + (2 if kind == "orders" else 3)
    assert fan.email in response.text
    assert other.email in response.text

    rival = await user_with_role(client, runtime, Role.SELLER, tag="rival")
    assert_problem(await client.get(url, headers=rival.headers), 403, "forbidden")
    assert_problem(await client.get(url, headers=fan.headers), 403, "forbidden")
    assert_problem(
        await client.get(f"{API}/shows/nope/{kind}/export", headers=show.seller.headers),
        404,
        "not_found",
    )


@pytest.mark.parametrize("backend", BACKENDS)  # one aggregate query, on every database
async def test_sales_figures(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    url = f"{API}/shows/{show.show_id}/sales"
    empty = (await client.get(url, headers=show.seller.headers)).json()
    assert (empty["paid_orders"], empty["revenue"], empty["orders_last_minute"]) == (0, 0, 0)
    first = await _paid(client, fan, show, toss, kakaopay, offset=0)
    await _paid(client, other, show, toss, kakaopay, offset=2, seats=1)
    await new_order(client, fan, show, seats=1, offset=5)  # pending: not counted
    figures = (await client.get(url, headers=show.seller.headers)).json()
    revenue = await count_rows(
        runtime,
        "SELECT sum(amount) FROM orders_orders WHERE show_id = :s AND status = 'paid'",
        s=show.show_id,
    )
    assert (figures["paid_orders"], figures["tickets_sold"]) == (2, 3)
    assert figures["revenue"] == revenue == first["amount"] + show.grade_prices["VIP"]
    assert figures["orders_last_minute"] == 2
    assert sum(figures["orders_per_minute"]) == 2
    assert figures["orders_per_minute"][-1] == 2
    # the fan gives one of their two seats back: the order stays paid, one ticket fewer
    returned = await client.post(
        f"{API}/orders/{first['id']}/refunds",
        json={"lines": [{"position": 1}]},
        headers=fan.headers,
    )
    assert returned.status_code == 201, returned.text
    after = (await client.get(url, headers=show.seller.headers)).json()
    assert (after["paid_orders"], after["tickets_sold"]) == (2, 2)
    assert after["refunded"] == returned.json()["amount"]
    assert after["revenue"] == revenue - returned.json()["amount"]
    rival = await user_with_role(client, runtime, Role.SELLER, tag="rival")
    assert_problem(await client.get(url, headers=rival.headers), 403, "forbidden")


async def test_admin_user_search(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await user_with_role(client, runtime, Role.ADMIN)
    fans = [await customer(client, "searchme") for _ in range(3)]
    applicant = fans[0]
    applied = await client.post(
        f"{API}/users/me/seller",
        json={"business_name": "Jazz Co.", "business_number": "123-45-67890"},
        headers=applicant.headers,
    )
    assert applied.status_code == 201, applied.text
    url = f"{API}/admin/users"
    found = await _pages(client, url, admin, limit=2, q="SEARCHME")
    assert [u["id"] for u in found] == [f.id for f in reversed(fans)]
    pending = await client.get(url, params={"seller_status": "pending"}, headers=admin.headers)
    assert [(u["id"], u["seller_status"]) for u in pending.json()["items"]] == [
        (applicant.id, "pending")
    ]
    staff = await client.get(url, params={"role": "admin"}, headers=admin.headers)
    assert [u["id"] for u in staff.json()["items"]] == [admin.id]
    assert_problem(await client.get(url, headers=applicant.headers), 403, "forbidden")
    assert_problem(await client.get(url), 401, "unauthorized")
    assert_problem(
        await client.get(url, params={"limit": 500}, headers=admin.headers),
        422,
        "validation_error",
    )


async def test_door_count_for_staff_and_the_show_seller(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    order = await _paid(client, fan, show, toss, kakaopay, offset=0)
    ticket = await client.get(f"{API}/tickets/{order['ticket_ids'][0]}", headers=fan.headers)
    staff = await user_with_role(client, runtime, Role.STAFF)
    scanned = await client.post(
        f"{API}/checkin",
        json={"code": ticket.json()["code"], "show_id": show.show_id},
        headers=staff.headers,
    )
    assert scanned.status_code == 200, scanned.text
    url = f"{API}/shows/{show.show_id}/checkins"
    for caller in (staff, show.seller):
        counted = await client.get(url, headers=caller.headers)
        assert counted.json() == {"show_id": show.show_id, "live": 2, "checked_in": 1}
    rival = await user_with_role(client, runtime, Role.SELLER, tag="rival")
    assert_problem(await client.get(url, headers=rival.headers), 403, "forbidden")
    assert_problem(await client.get(url, headers=fan.headers), 403, "forbidden")
    assert_problem(
        await client.get(f"{API}/shows/nope/checkins", headers=staff.headers), 404, "not_found"
    )
