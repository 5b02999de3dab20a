"""A database connection the server closed is noticed at checkout, not by pinging first.

No unit of work pays a ping round trip; a connection the server dropped (a restart, a
terminated backend) is discarded when the pool hands it out, and the request that would
have used it gets a fresh one and succeeds.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from boxoffice.platform.db import create_engine
from boxoffice.platform.runtime import Runtime
from tests.support.api import API, customer
from tests.support.backends import POSTGRES_ADMIN_URL


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_killed_connection_is_replaced_and_the_next_request_succeeds(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    fan = await customer(client)
    assert (await client.get(f"{API}/users/me", headers=fan.headers)).status_code == 200
    assert runtime.engine.pool._pre_ping is False  # type: ignore[attr-defined]
    database = make_url(str(runtime.engine.url)).database
    admin = create_engine(POSTGRES_ADMIN_URL, pool_size=1)
    try:
        async with admin.connect() as conn:
            killed = (
                await conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = :db AND pid <> pg_backend_pid()"
                    ),
                    {"db": database},
                )
            ).scalar()
    finally:
        await admin.dispose()
    assert (killed or 0) >= 1  # the app's pooled connections
    await asyncio.sleep(0.1)  # the server's close reaches the driver
    for _ in range(3):
        response = await client.get(f"{API}/users/me", headers=fan.headers)
        assert response.status_code == 200, response.text
    signed_up = await customer(client, "after")  # a write, on a fresh connection
    assert signed_up.id
