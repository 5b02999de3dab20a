"""Defect 10: security headers on every answer (FastAPI routes, the fast lane, media, pages),
and token answers never cached."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from httpx import AsyncClient

from boxoffice.platform.runtime import Runtime
from tests.support.api import API, customer, log_in, sign_up, unique_email


def _assert_hardened(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "referrer-policy" in response.headers
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    for name in ("x-content-type-options", "x-frame-options", "content-security-policy"):
        assert len(response.headers.get_list(name)) == 1, name


async def test_login_and_refresh_answers_are_no_store_and_hardened(client: AsyncClient) -> None:
    email = unique_email()
    assert (await sign_up(client, email)).status_code == 201
    login = await log_in(client, email)
    assert login.status_code == 200
    assert login.headers["cache-control"] == "no-store"
    _assert_hardened(login)
    refreshed = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.headers["cache-control"] == "no-store"
    _assert_hardened(refreshed)
    refused = await log_in(client, email, "wrong-password-x")
    assert refused.headers["cache-control"] == "no-store"
    _assert_hardened(refused)


async def test_fast_lane_answers_carry_the_headers(client: AsyncClient, runtime: Runtime) -> None:
    assert runtime.settings.fast_lane
    fan = await customer(client)
    held = await client.post(
        f"{API}/shows/no-such-show/holds", json={"seat_ids": ["a"]}, headers=fan.headers
    )
    assert held.headers["content-type"] == "application/problem+json"
    _assert_hardened(held)
    assert held.headers["cache-control"] == "no-store"
    read = await client.get(f"{API}/holds/no-such-hold", headers=fan.headers)
    assert read.status_code == 404
    _assert_hardened(read)


async def test_media_is_served_nosniff_and_sandboxed(client: AsyncClient, runtime: Runtime) -> None:
    await runtime.storage.put("events/x/evil.png", b"<script>alert(1)</script>", "image/png")
    response = await client.get(urlsplit(runtime.storage.url("events/x/evil.png")).path)
    assert response.status_code == 200
    _assert_hardened(response)
    assert "sandbox" in response.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/", "/docs"])
async def test_html_pages_keep_a_policy_that_lets_them_run(client: AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    _assert_hardened(response)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy  # the shop's own, or the API browser's


async def test_api_json_gets_a_locked_down_policy(client: AsyncClient) -> None:
    response = await client.get(f"{API}/categories")
    assert response.status_code == 200
    _assert_hardened(response)
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
