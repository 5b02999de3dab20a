"""Helpers for driving the HTTP API in tests the way a client would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from boxoffice.identity import service as identity
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role

API = "/api/v1"
PASSWORD = "correct-horse-battery"


@dataclass
class Caller:
    """A signed-in user as a test sees it."""

    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


async def sign_up(
    client: httpx.AsyncClient, email: str | None = None, password: str = PASSWORD, name: str = "Fan"
) -> httpx.Response:
    return await client.post(
        f"{API}/auth/signup",
        json={"email": email or unique_email(), "password": password, "name": name},
    )


async def log_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(f"{API}/auth/login", json={"email": email, "password": password})


async def customer(client: httpx.AsyncClient, tag: str = "fan") -> Caller:
    email = unique_email(tag)
    created = await sign_up(client, email)
    assert created.status_code == 201, created.text
    return await _caller(client, created.json()["id"], email)


async def user_with_role(
    client: httpx.AsyncClient, runtime: Runtime, role: Role, tag: str | None = None
) -> Caller:
    """A user created with ``role`` (sellers come approved), signed in over HTTP."""
    email = unique_email(tag or role.value)
    async with runtime.uow() as uow:
        user, _ = await identity.ensure_user(
            uow,
            runtime,
            email=email,
            password=PASSWORD,
            name=role.value.title(),
            role=role,
            seller_business="Test Live Co." if role is Role.SELLER else None,
        )
    return await _caller(client, user.id, email)


async def _caller(client: httpx.AsyncClient, user_id: str, email: str) -> Caller:
    response = await log_in(client, email)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return Caller(user_id, email, PASSWORD, body["access_token"], body["refresh_token"])


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is problem+json with this status and stable code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    return body
