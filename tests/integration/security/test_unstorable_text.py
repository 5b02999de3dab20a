"""Defect 8: text no database can store is 422 on every backend, deep JSON 400, never 500."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from boxoffice.platform.text_guard import MAX_JSON_DEPTH
from tests.support.api import API, customer, unique_email

NUL_BACKENDS = ["sqlite", "postgresql"]


def _assert_refused(response: object, where: str) -> None:
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["code"] == "validation_error"
    assert body["errors"][0]["loc"][0] == where


@pytest.mark.parametrize("backend", NUL_BACKENDS)
async def test_nul_in_sign_up_and_login_is_422(client: AsyncClient) -> None:
    signup = {"email": unique_email(), "password": "correct-horse-battery", "name": "Fan\u0000"}
    _assert_refused(await client.post(f"{API}/auth/signup", json=signup), "body")
    nul_mail = {"email": "a\u0000b@example.com", "password": "x" * 12}
    _assert_refused(await client.post(f"{API}/auth/login", json=nul_mail), "body")
    nul_pass = {"email": unique_email(), "password": "pass\u0000word-long"}
    _assert_refused(await client.post(f"{API}/auth/login", json=nul_pass), "body")


@pytest.mark.parametrize("backend", NUL_BACKENDS)
async def test_lone_surrogate_is_422_and_a_real_pair_is_stored(client: AsyncClient) -> None:
    lone = b'{"email": "%s", "password": "correct-horse-battery", "name": "Fan \\ud800"}'
    response = await client.post(
        f"{API}/auth/signup",
        content=lone % unique_email().encode(),
        headers={"content-type": "application/json"},
    )
    _assert_refused(response, "body")
    pair = b'{"email": "%s", "password": "correct-horse-battery", "name": "Fan \\ud83c\\udfab"}'
    response = await client.post(
        f"{API}/auth/signup",
        content=pair % unique_email().encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Fan \U0001f3ab"


@pytest.mark.parametrize("backend", NUL_BACKENDS)
async def test_nul_in_path_query_and_fast_lane_body_is_422(client: AsyncClient) -> None:
    fan = await customer(client)
    _assert_refused(await client.get(f"{API}/events/ev%00x"), "path")
    _assert_refused(await client.get(f"{API}/orders?cursor=a%00b", headers=fan.headers), "query")
    _assert_refused(await client.get(f"{API}/holds/h%00x", headers=fan.headers), "path")
    hold = {"seat_ids": ["seat-\u0000"]}
    response = await client.post(f"{API}/shows/s1/holds", json=hold, headers=fan.headers)
    _assert_refused(response, "body")


async def test_deeply_nested_webhook_is_400_not_500(client: AsyncClient) -> None:
    deep = b"[" * 50_000 + b"]" * 50_000
    response = await client.post(
        f"{API}/webhooks/toss",
        content=b'{"eventType": "PAYMENT_STATUS_CHANGED", "data": ' + deep + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "bad_request"


async def test_brackets_inside_strings_do_not_count_as_nesting(client: AsyncClient) -> None:
    name = "[{" * (MAX_JSON_DEPTH * 2)
    signup = {"email": unique_email(), "password": "correct-horse-battery", "name": name[:100]}
    response = await client.post(f"{API}/auth/signup", json=signup)
    assert response.status_code == 201, response.text
