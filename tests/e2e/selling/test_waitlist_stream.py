"""A fan with the waitlist page open hears of the offer over a live stream (SSE over a
real HTTP server): the entry at once, ``offered`` when a returned seat is held for them,
``bought`` when they pay, and the stream ends; nobody else may open it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from boxoffice.app import create_app
from boxoffice.platform.config import Settings
from boxoffice.platform.runtime import Runtime
from boxoffice.seating import service as seating
from tests.support.api import API, assert_problem, customer
from tests.support.catalog import open_show
from tests.support.orders import new_order, place_order


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    app = create_app(settings, background=False)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the server did not start"
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            yield http, app.state.runtime
    finally:
        server.should_exit = True
        await task


async def _entries(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    event = None
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event == "entry":
            yield json.loads(line.removeprefix("data: "))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_offer_reaches_the_open_stream_then_the_purchase_ends_it(
    served: tuple[httpx.AsyncClient, Runtime],
) -> None:
    http, runtime = served
    show = await open_show(http, runtime, rows=1, seats_per_row=2)
    early, fan, stranger = [await customer(http, tag) for tag in ("early", "fan", "stranger")]
    order = await new_order(http, early, show, seats=2)
    assert (await http.post(f"{API}/orders/{order['id']}/pay", headers=early.headers)).is_success
    entry = (await http.post(f"{API}/shows/{show.show_id}/waitlist", headers=fan.headers)).json()
    url = f"{API}/waitlist/{entry['id']}/stream"
    assert_problem(await http.get(url, headers=stranger.headers), 404, "not_found")

    async with http.stream("GET", url, headers=fan.headers, timeout=30) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        seen = _entries(response)
        first = await anext(seen)
        assert (first["status"], first["position"]) == ("waiting", 1)
        cancelled = await http.post(
            f"{API}/orders/{order['id']}/cancel", json={"reason": "ill"}, headers=early.headers
        )
        assert cancelled.status_code == 200, cancelled.text
        await seating.expire_holds(runtime)  # the sweeper job offers the returned seats
        offered = await asyncio.wait_for(anext(seen), timeout=10)
        assert offered["status"] == "offered"
        assert offered["hold_id"]
        placed = await place_order(http, fan, offered["hold_id"])
        paid = await http.post(f"{API}/orders/{placed.json()['id']}/pay", headers=fan.headers)
        assert paid.status_code == 200, paid.text
        await seating.expire_holds(runtime)  # the same job marks a paid offer bought
        bought = await asyncio.wait_for(anext(seen), timeout=10)
        assert bought["status"] == "bought"
        assert [rest async for rest in seen] == []  # the stream ended by itself
