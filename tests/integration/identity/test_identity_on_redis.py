"""identity with Redis configured: throttling shared through Redis, readiness naming Redis."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from asgi_lifespan import LifespanManager

from boxoffice.app import create_app
from boxoffice.platform.config import Settings
from tests.conftest import BACKENDS
from tests.support.api import assert_problem, log_in, sign_up, unique_email


@pytest.mark.parametrize("use_redis", [True])
@pytest.mark.parametrize("backend", BACKENDS)
async def test_login_throttle_is_shared_by_two_api_processes(
    make_settings: Callable[..., Settings],
) -> None:
    """Two app instances (two API replicas) count failures in the same Redis."""
    settings = make_settings()
    first, second = create_app(settings, background=False), create_app(settings, background=False)
    async with LifespanManager(first) as one, LifespanManager(second) as two:
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=m.app), base_url="http://t")
            for m in (one, two)
        ]
        email = unique_email("shared")
        assert (await sign_up(clients[0], email)).status_code == 201
        for attempt in range(5):
            wrong = await log_in(clients[attempt % 2], email, "wrong-password")
            assert wrong.status_code == 401
        assert_problem(await log_in(clients[1], email, "wrong-password"), 429, "rate_limited")
        assert_problem(await log_in(clients[0], email), 429, "rate_limited")
        ready = await clients[0].get("/ready")
        assert ready.status_code == 200
        checks = ready.json()["checks"]
        assert checks["database"] == checks["redis"] == "ok"
        assert set(checks.values()) == {"ok"}
        for client in clients:
            await client.aclose()


async def test_ready_names_the_backend_that_is_down(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(redis_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    app = create_app(settings, background=False)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://t"
        ) as client,
    ):
        ready = await client.get("/ready")
        body = assert_problem(ready, 503, "service_unavailable")
        assert "redis" in body["failed"]  # (and whatever else lives on Redis)
        assert body["checks"]["database"] == "ok"
        assert ready.headers["Retry-After"]
        assert (await client.get("/health")).status_code == 200


async def test_redis_down_is_503_not_500(make_settings: Callable[..., Settings]) -> None:
    """Login throttling lives on Redis: with Redis gone, a login is retryable, not a crash."""
    app = create_app(make_settings(redis_url="redis://127.0.0.1:1/0"), background=False)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://t"
        ) as client,
    ):
        response = await log_in(client, unique_email("nobody"), "whatever-password")
        assert_problem(response, 503, "service_unavailable")
        assert response.headers["Retry-After"]
