"""The sign-up → login → profile → refresh → reuse → logout flow, as a client sees it."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.conftest import BACKENDS
from tests.support.api import API, PASSWORD, assert_problem, log_in, sign_up, unique_email


@pytest.mark.parametrize("backend", BACKENDS)
async def test_full_session_lifecycle(client: httpx.AsyncClient) -> None:
    email = unique_email("Flow").replace("flow", "FLOW")
    created = await sign_up(client, f"  {email}  ", name="Kim Minji")
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["email"] == email.lower()
    assert user["role"] == "customer"
    assert set(user) >= {"id", "email", "name", "role"}

    login = await log_in(client, email.upper())
    assert login.status_code == 200, login.text
    pair = login.json()
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 100 * 60
    headers = {"Authorization": f"Bearer {pair['access_token']}"}

    me = await client.get(f"{API}/users/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]
    assert set(me.json()) >= {"id", "email", "name", "phone", "role", "created_at"}

    patched = await client.patch(
        f"{API}/users/me", headers=headers, json={"name": "Minji", "phone": "010-1234-5678"}
    )
    assert patched.status_code == 200
    assert patched.json()["phone"] == "010-1234-5678"

    rotated = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert rotated.status_code == 200, rotated.text
    new_pair = rotated.json()
    assert new_pair["refresh_token"] != pair["refresh_token"]

    # The spent token comes back: the whole login is revoked, the new token with it.
    reused = await client.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert_problem(reused, 401, "refresh_token_reused")
    after = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": new_pair["refresh_token"]}
    )
    assert after.status_code == 401

    # A second login is a separate family; logout revokes it.
    second = (await log_in(client, email)).json()
    out = await client.post(
        f"{API}/auth/logout",
        headers={"Authorization": f"Bearer {second['access_token']}"},
        json={"refresh_token": second["refresh_token"]},
    )
    assert out.status_code == 204
    dead = await client.post(f"{API}/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert_problem(dead, 401, "invalid_token")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_concurrent_refreshes_of_one_token_yield_one_pair(client: httpx.AsyncClient) -> None:
    email = unique_email("race")
    assert (await sign_up(client, email)).status_code == 201
    pair = (await log_in(client, email)).json()
    results = await asyncio.gather(
        *(
            client.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
            for _ in range(6)
        )
    )
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(200) == 1, [r.text for r in results]
    assert statuses.count(401) == 5


async def test_duplicate_email_is_a_conflict(client: httpx.AsyncClient) -> None:
    email = unique_email("dup")
    assert (await sign_up(client, email)).status_code == 201
    assert_problem(await sign_up(client, email.upper()), 409, "conflict")


async def test_wrong_password_and_unknown_user_look_the_same(client: httpx.AsyncClient) -> None:
    email = unique_email("who")
    await sign_up(client, email)
    wrong = await log_in(client, email, "not-the-password")
    unknown = await log_in(client, unique_email("ghost"), PASSWORD)
    assert_problem(wrong, 401, "unauthorized")
    assert_problem(unknown, 401, "unauthorized")
    assert wrong.json()["detail"] == unknown.json()["detail"]
