"""The event page and the listing in gzip for clients that accept it, the same JSON as
without, on the fast lane and through FastAPI, on the memory cache and on Redis."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class Sent:
    """An answer as it was sent: its body not decoded by httpx."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)

    def unpacked(self) -> Any:
        return json.loads(gzip.decompress(self.content))


async def _raw(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> Sent:
    async with client.stream("GET", url, headers=headers) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    return Sent(response.status_code, response.headers, body)


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
        unpacked = packed.unpacked()
        if url == event_url:  # each read counts a view
            assert unpacked["view_count"] == plain.json()["view_count"] + 1
            unpacked["view_count"] -= 1
        assert unpacked == plain.json()
        refused = await _raw(client, url, {"Accept-Encoding": "gzip;q=0, identity"})
        assert "content-encoding" not in refused.headers

    counts = []
    for _ in range(3):  # the compressed head is kept; the count after it is each read's own
        packed = await _raw(client, event_url, GZIP)
        counts.append(packed.unpacked())
    assert [c["view_count"] for c in counts] == [counts[0]["view_count"] + n for n in range(3)]

    edited = await client.patch(
        event_url, json={"title": "IU: The Winning"}, headers=setup.seller.headers
    )
    assert edited.status_code == 200
    event = await _raw(client, event_url, GZIP)
    assert event.unpacked()["title"] == "IU: The Winning"
    listing = await _raw(client, f"{API}/events", GZIP)
    items = listing.unpacked()["items"]
    assert [item["title"] for item in items] == ["IU: The Winning"]
