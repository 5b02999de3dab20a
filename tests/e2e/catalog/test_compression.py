"""The event page and the listing in gzip for clients that accept it, the same JSON as
without, on the fast lane and through FastAPI, on the memory cache and on Redis."""

from __future__ import annotations

import gzip

import httpx
import pytest

from boxoffice.app import BoxOfficeApp, create_app
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import Settings
from boxoffice.platform.runtime import Runtime
from tests.support.api import API
from tests.support.catalog import open_show

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture(params=[True, False], ids=["fast-lane", "fastapi"])
def app(
    settings: Settings, clock: FrozenClock | None, request: pytest.FixtureRequest
) -> BoxOfficeApp:
    return create_app(settings.model_copy(update={"fast_lane": request.param}), clock=clock)


async def _raw(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> httpx.Response:
    """The answer as sent: its body not decoded by httpx."""
    async with client.stream("GET", url, headers=headers) as response:
        response._content = b"".join([chunk async for chunk in response.aiter_raw()])
    return response


@pytest.mark.parametrize("use_redis", [False, True], ids=["memory", "redis"])
async def test_gzip_is_the_same_json_and_follows_every_change(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    setup = await open_show(client, runtime)
    event_url = f"{API}/events/{setup.event_id}"
    for url in (event_url, f"{API}/events"):
        plain = await _raw(client, url, IDENTITY)
        assert plain.status_code == 200
        assert "content-encoding" not in plain.headers
        assert plain.headers["vary"].lower() == "accept-encoding"
        packed = await _raw(client, url, GZIP)
        assert packed.headers["content-encoding"] == "gzip"
        assert packed.headers["vary"].lower() == "accept-encoding"
        unpacked = httpx.Response(200, content=gzip.decompress(packed.content)).json()
        if url == event_url:  # each read counts a view
            assert unpacked["view_count"] == plain.json()["view_count"] + 1
            unpacked["view_count"] -= 1
        assert unpacked == plain.json()
        refused = await _raw(client, url, {"Accept-Encoding": "gzip;q=0, identity"})
        assert "content-encoding" not in refused.headers

    counts = []
    for _ in range(3):  # the compressed head is kept; the count after it is each read's own
        packed = await _raw(client, event_url, GZIP)
        counts.append(httpx.Response(200, content=gzip.decompress(packed.content)).json())
    assert [c["view_count"] for c in counts] == [counts[0]["view_count"] + n for n in range(3)]

    edited = await client.patch(
        event_url, json={"title": "IU: The Winning"}, headers=setup.seller.headers
    )
    assert edited.status_code == 200
    event = await _raw(client, event_url, GZIP)
    assert httpx.Response(200, content=gzip.decompress(event.content)).json()["title"] == (
        "IU: The Winning"
    )
    listing = await _raw(client, f"{API}/events", GZIP)
    items = httpx.Response(200, content=gzip.decompress(listing.content)).json()["items"]
    assert [item["title"] for item in items] == ["IU: The Winning"]
