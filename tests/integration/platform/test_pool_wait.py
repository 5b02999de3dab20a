"""How long a unit of work waits for a pooled connection is the setting's, on every backend
(``database_pool_timeout_seconds``, docs/decisions.md); a wait that runs out is still a 503
"try again", never a 500."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

from boxoffice.platform.config import Settings
from boxoffice.platform.errors import response_for
from boxoffice.platform.runtime import build_runtime
from tests.conftest import BACKENDS


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_pool_waits_as_configured_for_a_connection_then_the_request_is_told_to_retry(
    make_settings: Callable[..., Settings],
) -> None:
    assert Settings.model_fields["database_pool_timeout_seconds"].default == 45.0
    runtime = build_runtime(make_settings(database_pool_size=1, database_pool_timeout_seconds=0.2))
    held: list[AsyncConnection] = []
    try:
        assert runtime.engine.pool.timeout() == 0.2  # type: ignore[attr-defined]
        # Every connection the pool may open, checked out and kept.
        size = runtime.engine.pool.size()  # type: ignore[attr-defined]
        held = [await runtime.engine.connect() for _ in range(size)]
        with pytest.raises(sa_exc.TimeoutError) as raised:
            await runtime.engine.connect()
        answer = response_for(raised.value, "/api/v1/orders")
        assert answer.status_code == 503
        assert json.loads(bytes(answer.body))["code"] == "service_unavailable"
        # A connection given back is handed to the next unit at once.
        await held.pop().close()
        async with runtime.engine.connect():
            pass
    finally:
        for conn in held:
            await conn.close()
        await runtime.close()
