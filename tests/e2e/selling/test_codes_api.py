"""Presale codes and vouchers over HTTP: a fan-club code opens the sale early at a hidden
type, is spent when paid and given back on cancellation; batches export as CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
import pytest

from boxoffice.platform.runtime import Runtime
from tests.support.api import API, Caller, assert_problem, customer
from tests.support.catalog import ShowSetup, open_show
from tests.support.orders import place_order


@pytest.fixture
async def presale(client: httpx.AsyncClient, runtime: Runtime) -> ShowSetup:
    return await open_show(client, runtime, sale_open=False)  # the public sale opens tomorrow


async def hold(
    client: httpx.AsyncClient, fan: Caller, show: ShowSetup, seats: list[str], **extra: object
) -> httpx.Response:
    body = {"seat_ids": seats, **extra}
    return await client.post(f"{API}/shows/{show.show_id}/holds", json=body, headers=fan.headers)


async def test_a_fan_club_code_opens_the_presale_at_a_hidden_type_and_is_audited(
    client: httpx.AsyncClient, runtime: Runtime, presale: ShowSetup, fan: Caller, other: Caller
) -> None:
    seller = presale.seller.headers
    hidden = await client.post(
        f"{API}/events/{presale.event_id}/ticket-types",
        json={"grade": "VIP", "name": "Fan club", "price": 150_000, "hidden": True},
        headers=seller,
    )
    early = (runtime.clock.now() - timedelta(hours=1)).isoformat()
    created = await client.post(
        f"{API}/events/{presale.event_id}/codes",
        json={
            "code": "iu-fan",
            "presale_opens_at": early,
            "ticket_type_id": hidden.json()["id"],
            "max_uses": 5,
            "max_uses_per_user": 1,
        },
        headers=seller,
    )
    assert created.status_code == 201, created.text
    code = created.json()["codes"][0]
    assert code["code"] == "IU-FAN"
    seat = presale.seat_ids[0]
    typed = {seat: hidden.json()["id"]}
    assert_problem(await hold(client, fan, presale, [seat]), 422, "sale_not_open")
    assert_problem(
        await hold(client, fan, presale, [seat], ticket_types=typed), 422, "sale_not_open"
    )
    assert_problem(await hold(client, fan, presale, [seat], code="NOPE"), 422, "code_invalid")
    held = await hold(client, fan, presale, [seat], code="iu-fan", ticket_types=typed)
    assert held.status_code == 201, held.text
    assert held.json()["amount"] == 150_000
    order = await place_order(client, fan, held.json()["hold_id"])
    paid = await client.post(f"{API}/orders/{order.json()['id']}/pay", headers=fan.headers)
    assert paid.status_code == 200, paid.text
    again = await hold(client, fan, presale, presale.seat_ids[1:2], code="IU-FAN")
    assert assert_problem(again, 422, "code_exhausted")["scope"] == "user"

    audit = await client.get(f"{API}/codes/{code['id']}/redemptions", headers=seller)
    assert [(r["status"], r["order_id"]) for r in audit.json()] == [("spent", order.json()["id"])]
    cancelled = await client.post(
        f"{API}/orders/{order.json()['id']}/cancel", json={"reason": "x"}, headers=fan.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    audit = await client.get(f"{API}/codes/{code['id']}/redemptions", headers=seller)
    assert [r["status"] for r in audit.json()] == ["released"]
    assert (await hold(client, fan, presale, [seat], code="IU-FAN")).status_code == 201

    denied = await client.get(f"{API}/codes/{code['id']}/redemptions", headers=other.headers)
    assert denied.status_code == 403


async def test_a_batch_of_unique_voucher_codes_exports_as_csv_and_takes_money_off(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller
) -> None:
    seller = show.seller.headers
    made = await client.post(
        f"{API}/events/{show.event_id}/codes",
        json={"count": 5, "prefix": "VIP", "percent_off": 10, "max_uses": 1},
        headers=seller,
    )
    assert made.status_code == 201, made.text
    batch = made.json()
    texts = [c["code"] for c in batch["codes"]]
    assert len(set(texts)) == 5
    assert all(t.startswith("VIP") for t in texts)
    exported = await client.get(
        f"{API}/events/{show.event_id}/codes.csv",
        params={"batch_id": batch["batch_id"]},
        headers=seller,
    )
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(r["code"] for r in rows) == sorted(texts)
    assert {r["percent_off"] for r in rows} == {"10"}

    held = await hold(client, fan, show, show.seat_ids[:2], code=texts[0].lower())
    assert held.status_code == 201, held.text
    assert held.json()["amount"] == 2 * 165_000 * 9 // 10
    stranger = await customer(client, "stranger")
    used = await hold(client, stranger, show, show.seat_ids[2:3], code=texts[0])
    assert assert_problem(used, 422, "code_exhausted")["scope"] == "code"
    stopped = await client.patch(
        f"{API}/codes/{batch['codes'][1]['id']}", json={"active": False}, headers=seller
    )
    assert stopped.json()["active"] is False
    assert_problem(
        await hold(client, stranger, show, show.seat_ids[2:3], code=texts[1]), 422, "code_invalid"
    )
    bad = await client.post(
        f"{API}/events/{show.event_id}/codes", json={"code": "NOTHING"}, headers=seller
    )
    assert_problem(bad, 422, "validation_error")
    dup = await client.post(
        f"{API}/events/{show.event_id}/codes",
        json={"code": texts[0], "amount_off": 1000},
        headers=seller,
    )
    assert_problem(dup, 409, "conflict")


async def test_the_openapi_document_describes_the_selling_routes(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    paths = document["paths"]
    for path in (
        "/api/v1/events/{event_id}/ticket-types",
        "/api/v1/ticket-types/{ticket_type_id}",
        "/api/v1/shows/{show_id}/waitlist",
        "/api/v1/waitlist/{entry_id}",
        "/api/v1/events/{event_id}/codes",
        "/api/v1/events/{event_id}/codes.csv",
        "/api/v1/codes/{code_id}",
        "/api/v1/codes/{code_id}/redemptions",
    ):
        assert path in paths, path
    hold = paths["/api/v1/shows/{show_id}/holds"]["post"]["requestBody"]
    hold_body = hold["content"]["application/json"]["schema"]["properties"]
    assert {"seat_ids", "ticket_types", "code"} <= set(hold_body)
