"""Listing and search over HTTP: published only, filters, keyset pages in a stable order."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from boxoffice.platform.runtime import Runtime
from tests.conftest import BACKENDS
from tests.support.api import API, Caller, assert_problem
from tests.support.catalog import create_venue, event_body, published_event


async def _all_pages(client: httpx.AsyncClient, params: dict) -> list[dict]:
    items: list[dict] = []
    cursor = None
    for _ in range(50):
        query = params | ({"cursor": cursor} if cursor else {})
        response = await client.get(f"{API}/events", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination does not end")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_listing_filters_and_pages(
    client: httpx.AsyncClient, runtime: Runtime, seller: Caller
) -> None:
    venue = await create_venue(client, seller)
    ids = {}
    for index, (title, category, day) in enumerate(
        [
            ("IU Golden Hour", "concert", 30),
            ("Les Misérables", "musical", 20),
            ("Seoul Phil: Mahler 5", "classical", 50),
            ("NewJeans Bunnies Camp", "concert", 10),
            ("100% Jazz_Night", "concert", 60),
            ("Hamlet", "theatre", 20),
        ]
    ):
        ids[title] = await published_event(
            client,
            runtime,
            seller,
            venue["id"],
            days=(day, day + 1 + index),
            title=title,
            category=category,
        )
    # A draft and a cancelled event are never listed.
    draft = await client.post(
        f"{API}/events",
        json=event_body(venue["id"], runtime, title="Draft IU"),
        headers=seller.headers,
    )
    assert draft.status_code == 201
    cancelled = await published_event(client, runtime, seller, venue["id"], title="Cancelled IU")
    assert (
        await client.post(f"{API}/events/{cancelled}/cancel", headers=seller.headers)
    ).status_code == 200

    everything = await _all_pages(client, {"limit": 2})
    titles = [i["title"] for i in everything]
    assert len(titles) == 6
    assert len(set(titles)) == 6
    assert titles[0] == "NewJeans Bunnies Camp"  # soonest first show first
    firsts = [(i["first_starts_at"], i["id"]) for i in everything]
    assert firsts == sorted(firsts)
    assert everything[0]["min_price"] == 132000
    assert everything[0]["venue"]["name"] == "Olympic Hall"

    single = (await client.get(f"{API}/events", params={"limit": 100})).json()
    assert [i["id"] for i in single["items"]] == [i["id"] for i in everything]
    assert single["next_cursor"] is None

    async def titles_for(**params: str) -> set[str]:
        return {i["title"] for i in await _all_pages(client, params)}

    assert await titles_for(q="iu") == {"IU Golden Hour"}
    assert await titles_for(q="MAHLER") == {"Seoul Phil: Mahler 5"}
    assert await titles_for(q="100%") == {"100% Jazz_Night"}
    assert await titles_for(q="z_n") == {"100% Jazz_Night"}
    assert await titles_for(q="%") == {"100% Jazz_Night"}  # wildcards are literal
    assert await titles_for(q="no such show") == set()
    assert await titles_for(q="live in seoul") == set(ids)  # description matches too
    assert await titles_for(category="concert") == {
        "IU Golden Hour",
        "NewJeans Bunnies Camp",
        "100% Jazz_Night",
    }
    now = runtime.clock.now()
    window = {
        "starts_from": (now + timedelta(days=19)).isoformat(),
        "starts_to": (now + timedelta(days=31)).isoformat(),
    }
    assert await titles_for(**window) == {"IU Golden Hour", "Les Misérables", "Hamlet"}
    assert await titles_for(category="musical", **window) == {"Les Misérables"}


async def test_listing_refuses_bad_parameters(client: httpx.AsyncClient) -> None:
    assert_problem(
        await client.get(f"{API}/events", params={"cursor": "garbage!"}), 400, "bad_request"
    )
    assert_problem(await client.get(f"{API}/events", params={"limit": 0}), 422, "validation_error")
    assert_problem(
        await client.get(f"{API}/events", params={"limit": 101}), 422, "validation_error"
    )
    assert_problem(
        await client.get(f"{API}/events", params={"starts_from": "yesterday"}),
        422,
        "validation_error",
    )


@pytest.mark.parametrize("backend", BACKENDS)
async def test_categories_are_listed_and_admin_managed(
    client: httpx.AsyncClient, admin: Caller, seller: Caller
) -> None:
    listed = await client.get(f"{API}/categories")
    assert listed.status_code == 200
    codes = [c["code"] for c in listed.json()]
    assert codes[:6] == ["concert", "musical", "theatre", "classical", "sports", "exhibition"]

    body = {"code": "k-pop", "name": "K-Pop", "position": 5}
    assert_problem(await client.post(f"{API}/categories", json=body), 401, "unauthorized")
    assert_problem(
        await client.post(f"{API}/categories", json=body, headers=seller.headers), 403, "forbidden"
    )
    created = await client.post(f"{API}/categories", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    assert_problem(
        await client.post(f"{API}/categories", json=body, headers=admin.headers), 409, "conflict"
    )
    assert_problem(
        await client.post(
            f"{API}/categories", json={"code": "Bad Code", "name": "x"}, headers=admin.headers
        ),
        422,
        "validation_error",
    )
    assert (await client.get(f"{API}/categories")).json()[0]["code"] == "k-pop"

    retired = await client.patch(
        f"{API}/categories/k-pop", json={"active": False, "name": "K-pop"}, headers=admin.headers
    )
    assert retired.status_code == 200
    assert retired.json() == {
        "code": "k-pop",
        "name": "K-pop",
        "position": 5,
        "active": False,
    }
    assert "k-pop" not in [c["code"] for c in (await client.get(f"{API}/categories")).json()]
    assert_problem(
        await client.patch(f"{API}/categories/nope", json={"name": "x"}, headers=admin.headers),
        404,
        "not_found",
    )
    assert_problem(
        await client.patch(f"{API}/categories/concert", json={"name": "x"}, headers=seller.headers),
        403,
        "forbidden",
    )
