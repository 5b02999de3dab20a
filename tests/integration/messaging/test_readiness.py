"""/ready names the broker when one is configured: ok when it answers, 503 when it does not."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from asgi_lifespan import LifespanManager

from boxoffice.app import create_app
from boxoffice.platform.config import Settings
from tests.support.messaging import broker_url, clean_broker, free_port

pytestmark = pytest.mark.services


async def ready(settings: Settings) -> httpx.Response:
    app = create_app(settings, background=False)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.get("/ready")


@pytest.mark.parametrize("kind", ["redis", "nats", "rabbit", "kafka"])
async def test_ready_checks_the_configured_broker(
    kind: str, make_settings: Callable[..., Settings], broker_prefix: str
) -> None:
    url = broker_url(kind)
    try:
        response = await ready(make_settings(broker_url=url, broker_prefix=broker_prefix))
    finally:
        await clean_broker(kind, url, broker_prefix)  # the probe declared stream/exchange
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["broker"] == "ok"


async def test_ready_fails_naming_the_broker_when_it_is_down(
    make_settings: Callable[..., Settings],
) -> None:
    nobody = f"redis://127.0.0.1:{free_port()}/0"
    response = await ready(make_settings(broker_url=nobody))
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["failed"] == ["broker"]


async def test_without_a_broker_there_is_no_broker_check(
    make_settings: Callable[..., Settings],
) -> None:
    response = await ready(make_settings())
    assert response.status_code == 200
    assert "broker" not in response.json()["checks"]
