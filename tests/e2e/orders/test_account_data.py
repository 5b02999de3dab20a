"""The account's own data: the export (profile, orders, tickets, transfers as one JSON file)
and the deletion (the person erased, every login ended, orders kept for accounting under
no name; refused while a ticket for a show to come is held, for a seller, or without the
password)."""

from __future__ import annotations

import json

import httpx
import pytest

from boxoffice.platform.runtime import Runtime
from tests.support.api import API, Caller, assert_problem, log_in
from tests.support.catalog import ShowSetup
from tests.support.orders import count_rows, paid_order


async def test_the_export_holds_the_profile_orders_tickets_and_transfers(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, other: Caller
) -> None:
    order = await paid_order(client, fan, show)
    tickets = (await client.get(f"{API}/users/me/tickets", headers=fan.headers)).json()["items"]
    offered = await client.post(
        f"{API}/tickets/{tickets[0]['id']}/transfers",
        json={"to_email": other.email},
        headers=fan.headers,
    )
    assert offered.status_code == 201, offered.text
    exported = await client.get(f"{API}/users/me/export", headers=fan.headers)
    assert exported.status_code == 200, exported.text
    assert "attachment" in exported.headers["content-disposition"]
    data = json.loads(exported.content)
    assert data["format"] == "boxoffice-account-export/1"
    assert (data["profile"]["id"], data["profile"]["email"]) == (fan.id, fan.email)
    assert [o["id"] for o in data["orders"]] == [order["id"]]
    assert data["orders"][0]["lines"]
    assert sorted(t["id"] for t in data["tickets"]) == sorted(t["id"] for t in tickets)
    assert [(t["direction"], t["to_email"]) for t in data["transfers"]] == [("sent", other.email)]
    # nobody else's data
    theirs = json.loads((await client.get(f"{API}/users/me/export", headers=other.headers)).content)
    assert theirs["orders"] == []
    assert [t["direction"] for t in theirs["transfers"]] == ["received"]
    assert_problem(await client.get(f"{API}/users/me/export"), 401, "unauthorized")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_deleting_an_account_erases_the_person_and_keeps_the_orders(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, fan: Caller
) -> None:
    order = await paid_order(client, fan, show)
    delete = {"password": fan.password}
    refused = await client.request("DELETE", f"{API}/users/me", json=delete, headers=fan.headers)
    body = assert_problem(refused, 409, "account_not_deletable")
    assert body["reason"] == "upcoming_tickets"
    wrong = await client.request(
        "DELETE", f"{API}/users/me", json={"password": "not-my-password"}, headers=fan.headers
    )
    assert_problem(wrong, 403, "wrong_password")
    seller = await client.request(
        "DELETE",
        f"{API}/users/me",
        json={"password": show.seller.password},
        headers=show.seller.headers,
    )
    assert assert_problem(seller, 409, "account_not_deletable")["reason"] == "has_duties"

    cancelled = await client.post(f"{API}/orders/{order['id']}/cancel", headers=fan.headers)
    assert cancelled.status_code == 200, cancelled.text
    gone = await client.request("DELETE", f"{API}/users/me", json=delete, headers=fan.headers)
    assert gone.status_code == 204, gone.text

    assert_problem(await client.get(f"{API}/users/me", headers=fan.headers), 401, "invalid_token")
    assert_problem(await log_in(client, fan.email), 401, "unauthorized")
    erased = await count_rows(
        runtime,
        "SELECT count(*) FROM identity_users WHERE id = :u AND email LIKE 'deleted-%'"
        " AND password_hash IS NULL AND phone IS NULL AND deleted_at IS NOT NULL",
        u=fan.id,
    )
    assert erased == 1
    assert (
        await count_rows(runtime, "SELECT count(*) FROM orders_orders WHERE user_id = :u", u=fan.id)
        == 1
    )
    # the seller's list keeps the order, under no name
    listed = await client.get(f"{API}/shows/{show.show_id}/orders", headers=show.seller.headers)
    (item,) = [o for o in listed.json()["items"] if o["id"] == order["id"]]
    assert item["buyer"]["email"].startswith("deleted-")
    assert fan.email not in listed.text
