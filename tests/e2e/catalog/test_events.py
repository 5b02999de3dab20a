"""Events over HTTP: lifecycle, editing, shows, ownership and every refusal."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text

from boxoffice.platform.runtime import Runtime
from tests.conftest import BACKENDS
from tests.support.api import API, Caller, assert_problem
from tests.support.catalog import event_body, open_show, venue_body


async def _venue(client: httpx.AsyncClient, seller: Caller, **kwargs: object) -> dict:
    response = await client.post(f"{API}/venues", json=venue_body(**kwargs), headers=seller.headers)  # type: ignore[arg-type]
    assert response.status_code == 201, response.text
    return response.json()


async def _draft(client: httpx.AsyncClient, runtime: Runtime, seller: Caller) -> dict:
    venue = await _venue(client, seller)
    response = await client.post(
        f"{API}/events", json=event_body(venue["id"], runtime), headers=seller.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _add_show(
    client: httpx.AsyncClient, runtime: Runtime, caller: Caller, event_id: str, days: int = 40
) -> httpx.Response:
    starts_at = runtime.clock.now() + timedelta(days=days)
    return await client.post(
        f"{API}/events/{event_id}/shows",
        json={"starts_at": starts_at.isoformat()},
        headers=caller.headers,
    )


async def _outbox(runtime: Runtime, event_type: str) -> list[str]:
    async with runtime.uow() as uow:
        rows = await uow.session.execute(
            text("SELECT payload FROM platform_outbox WHERE event_type = :t"), {"t": event_type}
        )
        return [r[0] for r in rows]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_event_lifecycle_draft_publish_cancel(
    client: httpx.AsyncClient, runtime: Runtime, seller: Caller, fan: Caller
) -> None:
    event = await _draft(client, runtime, seller)
    assert event["status"] == "draft"
    assert event["grades"] == [
        {"code": "VIP", "name": "VIP seat", "price": 165000},
        {"code": "R", "name": "R seat", "price": 132000},
    ]
    assert event["hold_minutes"] == 7
    assert event["queue"] == {
        "enabled": False,
        "admit_per_second": 50.0,
        "max_active": 1000,
        "pre_queue_minutes": 0,
        "paused": False,
    }
    assert event["cancellation"]["tiers"][0] == {"days_before": 9, "fee_percent": 10}
    event_id = event["id"]

    # A draft is the seller's alone.
    assert_problem(await client.get(f"{API}/events/{event_id}"), 404, "not_found")
    assert_problem(
        await client.get(f"{API}/events/{event_id}", headers=fan.headers), 404, "not_found"
    )
    assert (await client.get(f"{API}/events/{event_id}", headers=seller.headers)).status_code == 200

    # No show, no publishing.
    assert_problem(
        await client.post(f"{API}/events/{event_id}/publish", headers=seller.headers),
        422,
        "validation_error",
    )
    show = await _add_show(client, runtime, seller, event_id)
    assert show.status_code == 201, show.text
    assert show.json()["seat_count"] == 20
    published = await client.post(f"{API}/events/{event_id}/publish", headers=seller.headers)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    assert [s["id"] for s in published.json()["shows"]] == [show.json()["id"]]
    assert_problem(
        await client.post(f"{API}/events/{event_id}/publish", headers=seller.headers),
        409,
        "conflict",
    )
    public = await client.get(f"{API}/events/{event_id}")
    assert public.status_code == 200
    assert public.json()["status"] == "published"
    assert len(await _outbox(runtime, "EventPublished")) == 1

    cancelled = await client.post(
        f"{API}/events/{event_id}/cancel", json={"reason": "artist ill"}, headers=seller.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "artist ill"
    assert_problem(
        await client.post(f"{API}/events/{event_id}/cancel", headers=seller.headers),
        409,
        "conflict",
    )
    assert_problem(
        await client.patch(f"{API}/events/{event_id}", json={"title": "x"}, headers=seller.headers),
        409,
        "conflict",
    )
    assert_problem(await _add_show(client, runtime, seller, event_id, days=41), 409, "conflict")
    payloads = await _outbox(runtime, "EventCancelled")
    assert len(payloads) == 1
    assert "artist ill" in payloads[0]
    assert (await client.get(f"{API}/events/{event_id}")).json()["status"] == "cancelled"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_owner_and_admin_edit_others_are_refused(
    client: httpx.AsyncClient,
    runtime: Runtime,
    seller: Caller,
    other_seller: Caller,
    fan: Caller,
    admin: Caller,
) -> None:
    event_id = (await _draft(client, runtime, seller))["id"]
    url = f"{API}/events/{event_id}"
    change = {"title": "Renamed", "max_tickets_per_user": 2, "queue": {"enabled": True}}

    assert_problem(await client.patch(url, json=change), 401, "unauthorized")
    assert_problem(await client.patch(url, json=change, headers=fan.headers), 403, "forbidden")
    assert_problem(
        await client.patch(url, json=change, headers=other_seller.headers), 403, "forbidden"
    )
    for action in ("publish", "cancel"):
        assert_problem(await client.post(f"{url}/{action}"), 401, "unauthorized")
        assert_problem(await client.post(f"{url}/{action}", headers=fan.headers), 403, "forbidden")
        assert_problem(
            await client.post(f"{url}/{action}", headers=other_seller.headers), 403, "forbidden"
        )
    assert_problem(await _add_show(client, runtime, other_seller, event_id), 403, "forbidden")
    assert_problem(await _add_show(client, runtime, fan, event_id), 403, "forbidden")

    edited = await client.patch(url, json=change, headers=seller.headers)
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "Renamed"
    assert edited.json()["max_tickets_per_user"] == 2
    assert edited.json()["queue"]["enabled"] is True
    by_admin = await client.patch(url, json={"description": "by admin"}, headers=admin.headers)
    assert by_admin.status_code == 200, by_admin.text
    assert by_admin.json()["description"] == "by admin"
    assert by_admin.json()["seller_id"] == seller.id


@pytest.mark.parametrize("backend", BACKENDS)
async def test_missing_event_is_404_for_every_route(
    client: httpx.AsyncClient, runtime: Runtime, seller: Caller
) -> None:
    url = f"{API}/events/missing"
    assert_problem(await client.get(url), 404, "not_found")
    assert_problem(
        await client.patch(url, json={"title": "x"}, headers=seller.headers), 404, "not_found"
    )
    assert_problem(await client.post(f"{url}/publish", headers=seller.headers), 404, "not_found")
    assert_problem(await client.post(f"{url}/cancel", headers=seller.headers), 404, "not_found")
    assert_problem(await _add_show(client, runtime, seller, "missing"), 404, "not_found")
    assert_problem(await client.get(f"{API}/shows/missing"), 404, "not_found")


@pytest.mark.parametrize(
    ("change", "loc_part"),
    [
        ({"grades": [{"code": "VIP", "price": 1}]}, "grades"),  # R not priced
        (
            {
                "grades": [
                    {"code": "VIP", "price": 1},
                    {"code": "R", "price": 1},
                    {"code": "S", "price": 1},
                ]
            },
            "grades",
        ),
        ({"category": "karaoke"}, "category"),
        ({"venue_id": "nowhere"}, "venue_id"),
        ({"grades": [{"code": "VIP", "price": -5}, {"code": "R", "price": 1}]}, "price"),
        ({"max_tickets_per_user": 0}, "max_tickets_per_user"),
        ({"hold_minutes": 0}, "hold_minutes"),
        ({"queue": {"enabled": True, "admit_per_second": 0}}, "admit_per_second"),
        ({"sale_opens_at": "2030-01-01T00:00:00"}, "sale_opens_at"),  # no offset
        (
            {
                "cancellation": {
                    "tiers": [
                        {"days_before": 2, "fee_percent": 30},
                        {"days_before": 9, "fee_percent": 10},
                    ]
                }
            },
            "tiers",
        ),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
async def test_invalid_events_are_422(
    client: httpx.AsyncClient, runtime: Runtime, seller: Caller, change: dict, loc_part: str
) -> None:
    venue = await _venue(client, seller)
    body = event_body(venue["id"], runtime) | change
    response = await client.post(f"{API}/events", json=body, headers=seller.headers)
    problem = assert_problem(response, 422, "validation_error")
    assert any(loc_part in "/".join(map(str, e["loc"])) for e in problem["errors"]), problem


async def test_sale_window_must_be_ordered(
    client: httpx.AsyncClient, runtime: Runtime, seller: Caller
) -> None:
    venue = await _venue(client, seller)
    body = event_body(venue["id"], runtime)
    body["sale_closes_at"], body["sale_opens_at"] = body["sale_opens_at"], body["sale_closes_at"]
    assert_problem(
        await client.post(f"{API}/events", json=body, headers=seller.headers),
        422,
        "validation_error",
    )
    event_id = (await _draft(client, runtime, seller))["id"]
    past = (runtime.clock.now() - timedelta(days=90)).isoformat()
    response = await client.patch(
        f"{API}/events/{event_id}", json={"sale_closes_at": past}, headers=seller.headers
    )
    assert_problem(response, 422, "validation_error")


async def test_only_approved_sellers_create_events(
    client: httpx.AsyncClient, runtime: Runtime, seller: Caller, fan: Caller
) -> None:
    venue = await _venue(client, seller)
    body = event_body(venue["id"], runtime)
    assert_problem(await client.post(f"{API}/events", json=body), 401, "unauthorized")
    assert_problem(
        await client.post(f"{API}/events", json=body, headers=fan.headers), 403, "forbidden"
    )


@pytest.mark.parametrize("backend", BACKENDS)
async def test_show_rules(client: httpx.AsyncClient, runtime: Runtime, seller: Caller) -> None:
    event_id = (await _draft(client, runtime, seller))["id"]
    moment = {"starts_at": (runtime.clock.now() + timedelta(days=40)).isoformat()}
    url = f"{API}/events/{event_id}/shows"
    assert (await client.post(url, json=moment, headers=seller.headers)).status_code == 201
    assert_problem(await client.post(url, json=moment, headers=seller.headers), 409, "conflict")
    assert_problem(
        await _add_show(client, runtime, seller, event_id, days=-1), 422, "validation_error"
    )
    # Before the sale opens (it opened an hour ago): refused.
    response = await client.post(
        f"{API}/events/{event_id}/shows",
        json={"starts_at": (runtime.clock.now() - timedelta(hours=2)).isoformat()},
        headers=seller.headers,
    )
    assert_problem(response, 422, "validation_error")
    assert_problem(
        await client.post(
            f"{API}/events/{event_id}/shows", json={"starts_at": "soon"}, headers=seller.headers
        ),
        422,
        "validation_error",
    )
    second = await _add_show(client, runtime, seller, event_id, days=41)
    assert second.status_code == 201
    detail = (await client.get(f"{API}/events/{event_id}", headers=seller.headers)).json()
    assert [s["starts_at"] for s in detail["shows"]] == sorted(
        s["starts_at"] for s in detail["shows"]
    )
    # Shows exist: grades and venue are fixed now (seat inventories were made from them).
    response = await client.patch(
        f"{API}/events/{event_id}",
        json={"grades": [{"code": "VIP", "price": 1}, {"code": "R", "price": 2}]},
        headers=seller.headers,
    )
    assert_problem(response, 409, "conflict")


async def test_draft_grades_and_venue_can_change(
    client: httpx.AsyncClient, runtime: Runtime, seller: Caller
) -> None:
    event_id = (await _draft(client, runtime, seller))["id"]
    other = await _venue(client, seller, grades=("S",), name="Small Hall")
    moved = await client.patch(
        f"{API}/events/{event_id}",
        json={"venue_id": other["id"], "grades": [{"code": "S", "name": "S석", "price": 99000}]},
        headers=seller.headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["venue"]["id"] == other["id"]
    assert moved.json()["grades"] == [{"code": "S", "name": "S석", "price": 99000}]
    # Moving back without new prices: the old grades do not fit the old venue's... they do not.
    response = await client.patch(
        f"{API}/events/{event_id}",
        json={"venue_id": (await _venue(client, seller))["id"]},
        headers=seller.headers,
    )
    assert_problem(response, 422, "validation_error")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_show_read_and_sale_terms(client: httpx.AsyncClient, runtime: Runtime) -> None:
    setup = await open_show(
        client, runtime, queue={"enabled": True, "admit_per_second": 10, "max_active": 50}
    )
    show = await client.get(f"{API}/shows/{setup.show_id}")
    assert show.status_code == 200
    body = show.json()
    assert body["event_id"] == setup.event_id
    assert body["queue"]["enabled"] is True
    assert body["queue"]["max_active"] == 50
    assert {g["code"]: g["price"] for g in body["grades"]} == setup.grade_prices


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_seller_whose_approval_is_withdrawn_cannot_change_events(
    client: httpx.AsyncClient, runtime: Runtime, seller: Caller, admin: Caller
) -> None:
    event_id = (await _draft(client, runtime, seller))["id"]
    revoked = await client.patch(
        f"{API}/admin/users/{seller.id}", json={"seller_status": "rejected"}, headers=admin.headers
    )
    assert revoked.status_code == 200
    url = f"{API}/events/{event_id}"
    assert_problem(
        await client.patch(url, json={"title": "x"}, headers=seller.headers), 403, "forbidden"
    )
    assert_problem(await client.post(f"{url}/publish", headers=seller.headers), 403, "forbidden")
    assert_problem(await _add_show(client, runtime, seller, event_id), 403, "forbidden")
    # An admin still can (e.g. to cancel the event of a seller who was struck off).
    cancelled = await client.post(f"{url}/cancel", headers=admin.headers)
    assert cancelled.status_code == 200


async def test_shows_of_a_draft_are_the_sellers_alone(
    client: httpx.AsyncClient, runtime: Runtime, seller: Caller, fan: Caller
) -> None:
    event_id = (await _draft(client, runtime, seller))["id"]
    anonymous = await client.post(
        f"{API}/events/{event_id}/shows",
        json={"starts_at": (runtime.clock.now() + timedelta(days=3)).isoformat()},
    )
    assert_problem(anonymous, 401, "unauthorized")
    show = await _add_show(client, runtime, seller, event_id)
    assert show.status_code == 201
    url = f"{API}/shows/{show.json()['id']}"
    assert_problem(await client.get(url), 404, "not_found")
    assert_problem(await client.get(url, headers=fan.headers), 404, "not_found")
    own = await client.get(url, headers=seller.headers)
    assert own.status_code == 200
    assert own.json()["event_status"] == "draft"
    assert (
        await client.post(f"{API}/events/{event_id}/publish", headers=seller.headers)
    ).status_code == 200
    assert (await client.get(url)).json()["event_status"] == "published"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_racing_requests_for_the_same_show_time_make_one_show(
    client: httpx.AsyncClient, runtime: Runtime, seller: Caller
) -> None:
    event_id = (await _draft(client, runtime, seller))["id"]
    moment = {"starts_at": (runtime.clock.now() + timedelta(days=40)).isoformat()}
    url = f"{API}/events/{event_id}/shows"
    responses = await asyncio.gather(
        *(client.post(url, json=moment, headers=seller.headers) for _ in range(6))
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5
    async with runtime.uow() as uow:
        shows = await uow.session.scalar(
            text("SELECT count(*) FROM catalog_shows WHERE event_id = :e"), {"e": event_id}
        )
        inventories = await uow.session.scalar(
            text(
                "SELECT count(DISTINCT show_id) FROM seating_seats WHERE show_id IN"
                " (SELECT id FROM catalog_shows WHERE event_id = :e)"
            ),
            {"e": event_id},
        )
    assert (shows, inventories) == (1, 1)


@pytest.mark.parametrize("backend", BACKENDS[:2])
async def test_a_seller_cannot_put_events_on_another_sellers_venue(
    client: httpx.AsyncClient,
    runtime: Runtime,
    seller: Caller,
    other_seller: Caller,
    admin: Caller,
) -> None:
    theirs = await _venue(client, seller, name="Their Hall")
    created = await client.post(
        f"{API}/events", json=event_body(theirs["id"], runtime), headers=other_seller.headers
    )
    assert_problem(created, 403, "forbidden")
    mine = (await _draft(client, runtime, other_seller))["id"]
    moved = await client.patch(
        f"{API}/events/{mine}", json={"venue_id": theirs["id"]}, headers=other_seller.headers
    )
    assert_problem(moved, 403, "forbidden")
    events = await client.get(f"{API}/events")  # nothing was made on their venue
    assert all(e["venue"]["id"] != theirs["id"] for e in events.json()["items"])
    by_admin = await client.post(
        f"{API}/events", json=event_body(theirs["id"], runtime), headers=admin.headers
    )
    assert by_admin.status_code == 201, by_admin.text
