"""The waiting room over real HTTP: join, poll, leave, and the SSE stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from boxoffice.app import create_app
from boxoffice.platform.config import Settings
from boxoffice.waitroom import service as waitroom
from boxoffice.waitroom.errors import AdmissionInvalid
from tests.e2e.waitroom.conftest import Server
from tests.support.api import API, Caller, assert_problem, customer
from tests.support.catalog import open_show


class EventReader:
    """Server-Sent Events as a browser's EventSource parses them (comments kept too)."""

    def __init__(self, lines: AsyncIterator[str]) -> None:
        self._lines = lines

    async def next(self) -> dict[str, str]:
        return await asyncio.wait_for(self._next(), 10)

    async def _next(self) -> dict[str, str]:
        fields: dict[str, str] = {}
        async for line in self._lines:
            if line == "":
                if fields:
                    return fields
                continue
            name, _, value = line.partition(":")
            if name == "":
                fields["comment"] = value.strip()
            else:
                fields[name] = value.removeprefix(" ")
        raise EOFError

    async def next_event(self) -> dict[str, str]:
        while "event" not in (event := await self.next()):
            pass
        return event


def stream(http: httpx.AsyncClient, caller: Caller, entry_id: str, **headers: str):  # type: ignore[no-untyped-def]
    return http.stream(
        "GET", f"{API}/queue/{entry_id}/stream", headers={**caller.headers, **headers}
    )


QUEUE = {"enabled": True, "admit_per_second": 1, "max_active": 100}


async def queued_show(server: Server, http: httpx.AsyncClient, **queue: int | bool) -> str:
    setup = await open_show(http, server.runtime, queue={**QUEUE, **queue})
    return setup.show_id


async def join(http: httpx.AsyncClient, caller: Caller, show_id: str) -> httpx.Response:
    return await http.post(f"{API}/shows/{show_id}/queue", headers=caller.headers)


@pytest.mark.parametrize("use_redis", [False, True])
async def test_positions_fall_then_admitted_with_a_valid_token(
    server: Server, http: httpx.AsyncClient
) -> None:
    start = datetime.now(UTC)
    show_id = await queued_show(server, http)
    fans = [await customer(http) for _ in range(3)]
    entries = []
    for fan in fans:
        response = await join(http, fan, show_id)
        assert response.status_code == 201, response.text
        entries.append(response.json())
    assert [entry["number"] for entry in entries] == [1, 2, 3]
    assert entries[2]["position"] == 3
    assert entries[2]["status"] == "waiting"
    again = await join(http, fans[2], show_id)
    assert again.status_code == 200
    assert again.json()["entry_id"] == entries[2]["entry_id"]
    assert again.json()["number"] == 3

    dispatcher = server.room.dispatcher(server.runtime)
    await dispatcher.tick(start)
    last = fans[2]
    async with stream(http, last, entries[2]["entry_id"]) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = EventReader(response.aiter_lines())
        assert (await reader.next())["retry"] == "3000"
        first = await reader.next_event()
        assert (first["event"], json.loads(first["data"])["position"]) == ("position", 3)
        positions = []
        for second in (1, 2):
            await dispatcher.tick(start + timedelta(seconds=second))
            event = await reader.next_event()
            assert event["event"] == "position"
            positions.append(json.loads(event["data"])["position"])
        assert positions == [2, 1]
        polled = await http.get(f"{API}/queue/{entries[2]['entry_id']}", headers=last.headers)
        assert polled.json()["position"] == 1

        await dispatcher.tick(start + timedelta(seconds=3))
        admitted = await reader.next_event()
        assert admitted["event"] == "admitted"
        assert admitted["id"] == "a"
        body = json.loads(admitted["data"])
        granted = await waitroom.check_admission(
            server.runtime, body["admission_token"], show_id=show_id, user_id=last.id
        )
        assert granted.expires_at.isoformat() <= body["expires_at"]
        with pytest.raises(AdmissionInvalid):
            await waitroom.check_admission(
                server.runtime, body["admission_token"], show_id=show_id, user_id=fans[0].id
            )
        heartbeat = await reader.next()
        assert heartbeat == {"comment": "heartbeat"}

    polled = await http.get(f"{API}/queue/{entries[2]['entry_id']}", headers=last.headers)
    assert polled.json()["status"] == "admitted"
    assert polled.json()["admission_token"]


@pytest.mark.parametrize("use_redis", [False, True])
async def test_disconnected_streams_are_cleaned_up_and_reconnect_resumes(
    server: Server, http: httpx.AsyncClient
) -> None:
    start = datetime.now(UTC)
    show_id = await queued_show(server, http)
    fans = [await customer(http) for _ in range(3)]
    entry_ids = [(await join(http, fan, show_id)).json()["entry_id"] for fan in fans]
    dispatcher = server.room.dispatcher(server.runtime)
    await dispatcher.tick(start)
    board = server.room.board

    async with stream(http, fans[2], entry_ids[2]) as response:
        reader = EventReader(response.aiter_lines())
        assert (await reader.next_event())["id"] == "p3"
        assert board.stream_count(show_id) == 1
    for _ in range(200):  # the server notices the closed connection at once; bounded wait
        if board.stream_count(show_id) == 0:
            break
        await asyncio.sleep(0.02)
    assert board.stream_count(show_id) == 0

    # Reconnecting with the id last seen: nothing repeated, only what changed since.
    async with stream(http, fans[2], entry_ids[2], **{"Last-Event-ID": "p3"}) as response:
        reader = EventReader(response.aiter_lines())
        assert "retry" in await reader.next()
        assert await reader.next() == {"comment": "heartbeat"}  # no repeated position 3
        await dispatcher.tick(start + timedelta(seconds=1))
        assert (await reader.next_event())["id"] == "p2"

    # Giving the place up ends the stream with `expired`.
    async with stream(http, fans[1], entry_ids[1]) as response:
        reader = EventReader(response.aiter_lines())
        assert (await reader.next_event())["id"] == "p1"
        gone = await http.delete(f"{API}/queue/{entry_ids[1]}", headers=fans[1].headers)
        assert gone.status_code == 204
        assert (await reader.next_event())["event"] == "expired"


async def test_entries_are_private_and_sales_must_be_open(
    server: Server, http: httpx.AsyncClient
) -> None:
    show_id = await queued_show(server, http)
    later = (await open_show(http, server.runtime, queue=QUEUE, sale_open=False)).show_id
    early = await open_show(
        http, server.runtime, queue={**QUEUE, "pre_queue_minutes": 24 * 60}, sale_open=False
    )
    no_queue = (await open_show(http, server.runtime)).show_id
    owner, other = await customer(http), await customer(http)
    entry_id = (await join(http, owner, show_id)).json()["entry_id"]

    for method, path in [
        ("GET", f"/queue/{entry_id}"),
        ("GET", f"/queue/{entry_id}/stream"),
        ("DELETE", f"/queue/{entry_id}"),
        ("GET", "/queue/not-an-entry"),
    ]:
        response = await http.request(method, f"{API}{path}", headers=other.headers)
        assert_problem(response, 404, "not_found")
    assert_problem(await http.get(f"{API}/queue/{entry_id}"), 401, "unauthorized")
    forged = {"Authorization": f"Bearer {owner.access_token[:-4]}AAAA"}
    for _ in range(2):  # a refused token is not remembered: refused again
        assert_problem(
            await http.get(f"{API}/queue/{entry_id}", headers=forged), 401, "invalid_token"
        )
    assert_problem(await join(http, owner, later), 422, "sale_not_open")
    assert_problem(await join(http, owner, no_queue), 409, "conflict")
    assert_problem(await join(http, owner, "no-such-show"), 404, "not_found")

    pre = await join(http, owner, early.show_id)
    assert pre.status_code == 201
    assert pre.json()["number"] is None  # drawn at opening, in random order
    assert pre.json()["status"] == "waiting"

    polled = await http.get(f"{API}/queue/{entry_id}", headers=owner.headers)
    assert polled.json()["status"] == "waiting"  # and now remembered by this process
    assert_problem(
        await http.get(f"{API}/queue/{entry_id}", headers=other.headers), 404, "not_found"
    )
    left = await http.delete(f"{API}/queue/{entry_id}", headers=owner.headers)
    assert left.status_code == 204
    read = await http.get(f"{API}/queue/{entry_id}", headers=owner.headers)
    assert read.json()["status"] == "left"


async def test_the_first_join_after_the_opening_numbers_the_pre_queue_and_keeps_no_lock(
    server: Server, http: httpx.AsyncClient
) -> None:
    # No dispatcher runs here: the first join after the sale opens numbers the pre-queue.
    early = await open_show(
        http, server.runtime, queue={**QUEUE, "pre_queue_minutes": 24 * 60}, sale_open=False
    )
    fans = [await customer(http) for _ in range(3)]
    waiting = [(await join(http, fan, early.show_id)).json() for fan in fans[:2]]
    assert [entry["number"] for entry in waiting] == [None, None]
    opened = await http.patch(
        f"{API}/events/{early.event_id}",
        json={"sale_opens_at": datetime.now(UTC).isoformat()},
        headers=early.seller.headers,
    )
    assert opened.status_code == 200, opened.text

    last = await join(http, fans[2], early.show_id)
    assert last.status_code == 201, last.text
    assert last.json()["number"] == 3  # after the two who came early, in a random order
    numbers = [
        (await http.get(f"{API}/queue/{entry['entry_id']}", headers=fan.headers)).json()["number"]
        for fan, entry in zip(fans[:2], waiting, strict=True)
    ]
    assert sorted(numbers) == [1, 2]
    assert server.room.openings == {}  # the opening's lock is not kept once it is done


async def test_joins_are_rate_limited_per_user(server: Server, http: httpx.AsyncClient) -> None:
    server.room.settings.joins_per_user_per_minute = 3
    show_id = await queued_show(server, http)
    fan = await customer(http)
    for _ in range(3):
        assert (await join(http, fan, show_id)).status_code in (200, 201)
    limited = await join(http, fan, show_id)
    assert_problem(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) >= 1


async def test_the_embedded_run_admits_by_itself(settings: Settings) -> None:
    """`boxoffice run`: the dispatcher is a task of the API process (memory store, no Redis)."""
    app = create_app(settings, ["identity", "catalog", "waitroom"], background=True)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=("203.0.113.20", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            runtime = app.state.runtime
            setup = await open_show(
                http, runtime, queue={"enabled": True, "admit_per_second": 20, "max_active": 5}
            )
            fans = [await customer(http) for _ in range(3)]
            entry_ids = [(await join(http, fan, setup.show_id)).json()["entry_id"] for fan in fans]
            statuses: list[str] = []
            for _ in range(200):  # bounded: the in-process dispatcher ticks every 0.5 s
                statuses = [
                    (await http.get(f"{API}/queue/{entry_id}", headers=fan.headers)).json()[
                        "status"
                    ]
                    for entry_id, fan in zip(entry_ids, fans, strict=True)
                ]
                if statuses == ["admitted"] * 3:
                    break
                await asyncio.sleep(0.05)
            assert statuses == ["admitted"] * 3


@pytest.mark.parametrize("use_redis", [True])
async def test_a_place_given_up_through_one_process_is_gone_in_the_others(
    settings: Settings,
) -> None:
    """Two API processes on one Redis: each remembers waiting entries; a leave reaches both."""
    first = create_app(settings, ["identity", "catalog", "waitroom"], background=False)
    second = create_app(settings, ["identity", "catalog", "waitroom"], background=False)
    async with LifespanManager(first) as one, LifespanManager(second) as two:
        api_one = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=one.app), base_url="http://one"
        )
        api_two = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=two.app), base_url="http://two"
        )
        async with api_one, api_two:
            setup = await open_show(api_one, first.state.runtime, queue=QUEUE)
            fan = await customer(api_one)
            entry_id = (await join(api_one, fan, setup.show_id)).json()["entry_id"]
            url = f"{API}/queue/{entry_id}"
            assert (await api_one.get(url, headers=fan.headers)).json()["status"] == "waiting"
            assert (await api_two.delete(url, headers=fan.headers)).status_code == 204
            status = "waiting"
            for _ in range(200):  # pub/sub carries the news; bounded wait
                status = (await api_one.get(url, headers=fan.headers)).json()["status"]
                if status == "left":
                    break
                await asyncio.sleep(0.02)
            assert status == "left"


async def test_people_far_back_get_their_position_now_and_then(
    server: Server, http: httpx.AsyncClient
) -> None:
    """With stream_distant_position on, a place further back than it is pushed at most every
    stream_distant_every_seconds; near the front, every change arrives again."""
    server.room.settings.stream_distant_position = 2
    server.room.settings.stream_distant_every_seconds = 60
    start = datetime.now(UTC)
    show_id = await queued_show(server, http)
    fans = [await customer(http) for _ in range(5)]
    entries = [(await join(http, fan, show_id)).json() for fan in fans]
    dispatcher = server.room.dispatcher(server.runtime)
    await dispatcher.tick(start)
    async with stream(http, fans[4], entries[4]["entry_id"]) as response:
        reader = EventReader(response.aiter_lines())
        first = await reader.next_event()
        assert json.loads(first["data"])["position"] == 5  # the first one always comes
        for second in (1, 2, 3):  # positions 4 and 3 are far back: not pushed
            await dispatcher.tick(start + timedelta(seconds=second))
        near = await reader.next_event()
        assert (near["id"], json.loads(near["data"])["position"]) == ("p2", 2)
        await dispatcher.tick(start + timedelta(seconds=4))
        assert json.loads((await reader.next_event())["data"])["position"] == 1


async def _set_all_seats(server: Server, show_id: str, status: str) -> None:
    """As if the crowd had bought (or was holding) every seat of the show."""
    until = datetime.now(UTC) + timedelta(minutes=7) if status == "held" else None
    async with server.runtime.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE seating_seats SET status = :status, hold_expires_at = :until "
                "WHERE show_id = :show"
            ),
            {"status": status, "until": until, "show": show_id},
        )


@pytest.mark.parametrize("use_redis", [False, True])
async def test_a_sold_out_show_tells_everyone_waiting_and_takes_no_more_joins(
    server: Server, http: httpx.AsyncClient
) -> None:
    start = datetime.now(UTC)
    show_id = await queued_show(server, http)
    fans = [await customer(http) for _ in range(3)]
    entries = [(await join(http, fan, show_id)).json() for fan in fans]
    dispatcher = server.room.dispatcher(server.runtime)
    await dispatcher.tick(start)

    await _set_all_seats(server, show_id, "held")  # nothing to buy now, but it may come back
    paused = await dispatcher.tick(start + timedelta(seconds=5))
    assert paused[show_id].admitted == ()  # nobody is sent to an empty seat map
    waiting = await http.get(f"{API}/queue/{entries[0]['entry_id']}", headers=fans[0].headers)
    assert waiting.json()["status"] == "waiting"

    async with stream(http, fans[2], entries[2]["entry_id"]) as response:
        reader = EventReader(response.aiter_lines())
        assert (await reader.next_event())["event"] == "position"
        await _set_all_seats(server, show_id, "sold")
        await dispatcher.tick(start + timedelta(seconds=6))
        told = await reader.next_event()
        assert (told["event"], json.loads(told["data"])) == (
            "expired",
            {"status": "expired", "reason": "sold_out"},
        )
    polled = await http.get(f"{API}/queue/{entries[1]['entry_id']}", headers=fans[1].headers)
    assert (polled.json()["status"], polled.json()["sold_out"]) == ("expired", True)
    late = await join(http, await customer(http), show_id)
    assert assert_problem(late, 422, "sale_not_open")["sold_out"] is True
    await _set_all_seats(server, show_id, "available")  # a late cancellation gives seats back
    after = await dispatcher.tick(start + timedelta(seconds=7))
    assert after[show_id].admitted == ()  # the line was told: it stays sold out
    again = await http.get(f"{API}/queue/{entries[0]['entry_id']}", headers=fans[0].headers)
    assert again.json()["sold_out"] is True
