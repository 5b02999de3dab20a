"""Venues and seat maps over HTTP: compact and explicit forms, limits, who may create."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import BACKENDS
from tests.support.api import API, Caller, assert_problem
from tests.support.catalog import venue_body


def _seats(venue: dict) -> list[dict]:
    return [s for sec in venue["sections"] for row in sec["rows"] for s in row["seats"]]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_seller_creates_a_venue_and_anyone_reads_its_map(
    client: httpx.AsyncClient, seller: Caller
) -> None:
    body = {
        "name": "Blue Square",
        "address": "294 Itaewon-ro, Seoul",
        "sections": [
            {"name": "Floor", "grade": "VIP", "rows": [{"label": "A", "seats": 3}]},
            {
                "name": "Balcony",
                "grade": "R",
                "rows": [
                    {"label": "B", "seats": [101, 102, "103A"], "y": 20.0},
                    {
                        "label": "C",
                        "grade": "S",
                        "seats": [
                            {"number": "1", "x": 1.5, "y": 30.0},
                            {"number": 2, "grade": "A"},
                        ],
                    },
                ],
            },
        ],
    }
    created = await client.post(f"{API}/venues", json=body, headers=seller.headers)
    assert created.status_code == 201, created.text
    venue = created.json()
    assert venue["seat_count"] == 8
    assert venue["seller_id"] == seller.id
    assert venue["grades"] == ["VIP", "R", "S", "A"]
    seats = _seats(venue)
    assert [s["number"] for s in seats] == ["1", "2", "3", "101", "102", "103A", "1", "2"]
    assert [s["grade"] for s in seats] == ["VIP"] * 3 + ["R"] * 3 + ["S", "A"]
    assert seats[3]["y"] == 20.0
    assert seats[6]["x"] == 1.5
    assert seats[6]["y"] == 30.0
    assert len({s["id"] for s in seats}) == 8

    anonymous = await client.get(f"{API}/venues/{venue['id']}")
    assert anonymous.status_code == 200
    assert anonymous.json() == venue


async def test_unknown_venue_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/venues/nope"), 404, "not_found")


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        (
            [{"name": "F", "grade": "R", "rows": [{"label": "A", "seats": [1, 2, 1]}]}],
            "duplicate seat",
        ),
        (
            [
                {
                    "name": "F",
                    "grade": "R",
                    "rows": [{"label": "A", "seats": 2}, {"label": "A", "seats": 2}],
                }
            ],
            "duplicate row",
        ),
        (
            [
                {"name": "F", "grade": "R", "rows": [{"label": "A", "seats": 2}]},
                {"name": "F", "grade": "S", "rows": [{"label": "B", "seats": 2}]},
            ],
            "duplicate section",
        ),
        (
            [
                {
                    "name": "F",
                    "grade": "R",
                    "rows": [{"label": str(i), "seats": 20_000} for i in range(11)],
                }
            ],
            "at most 200000",
        ),
    ],
)
async def test_invalid_seat_maps_are_422(
    client: httpx.AsyncClient, seller: Caller, sections: list, message: str
) -> None:
    response = await client.post(
        f"{API}/venues", json={"name": "Bad", "sections": sections}, headers=seller.headers
    )
    body = assert_problem(response, 422, "validation_error")
    assert any(message in e["msg"] for e in body["errors"]), body


@pytest.mark.parametrize(
    "row",
    [
        {"label": "A", "seats": 0},
        {"label": "", "seats": 1},
        {"label": "A", "seats": []},
        {"label": "A"},
    ],
)
async def test_malformed_rows_are_422(client: httpx.AsyncClient, seller: Caller, row: dict) -> None:
    body = {"name": "Bad", "sections": [{"name": "F", "grade": "R", "rows": [row]}]}
    response = await client.post(f"{API}/venues", json=body, headers=seller.headers)
    assert_problem(response, 422, "validation_error")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_only_approved_sellers_create_venues(
    client: httpx.AsyncClient, fan: Caller, seller: Caller, admin: Caller
) -> None:
    body = venue_body()
    assert_problem(await client.post(f"{API}/venues", json=body), 401, "unauthorized")
    assert_problem(
        await client.post(f"{API}/venues", json=body, headers=fan.headers), 403, "forbidden"
    )
    # The seller's approval is withdrawn: the access token still says "seller", the check does not.
    revoked = await client.patch(
        f"{API}/admin/users/{seller.id}", json={"seller_status": "rejected"}, headers=admin.headers
    )
    assert revoked.status_code == 200, revoked.text
    assert_problem(
        await client.post(f"{API}/venues", json=body, headers=seller.headers), 403, "forbidden"
    )
    by_admin = await client.post(f"{API}/venues", json=body, headers=admin.headers)
    assert by_admin.status_code == 201
