"""The seating API as a client sees it: seat map with ETags, holds, their owners, expiry.
Every test runs twice: the hold route on the fast lane, then on its FastAPI twin."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import event

from boxoffice.app import API_PREFIX, BoxOfficeApp, create_app
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import Settings
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role
from boxoffice.seating import best_available, suggestions
from boxoffice.waitroom import admission
from tests.conftest import BACKENDS
from tests.support.api import API, assert_problem, customer, user_with_role
from tests.support.catalog import open_show

_HOLD_PROBE = {"type": "http", "method": "POST", "path": f"{API_PREFIX}/shows/x/holds"}


@pytest.fixture(params=[True, False], ids=["fast-lane", "fastapi"])
def fast_lane(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def app(settings: Settings, clock: FrozenClock | None, fast_lane: bool) -> BoxOfficeApp:
    settings = settings.model_copy(update={"fast_lane": fast_lane})
    return create_app(settings, clock=clock, background=False)


@pytest.fixture
async def client(app: BoxOfficeApp, fast_lane: bool) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app) as manager:
        lane = app.fast_lane
        # The hold route takes the lane exactly when the lane is on.
        assert (lane is not None and lane.match(_HOLD_PROBE) is not None) == fast_lane
        transport = httpx.ASGITransport(app=manager.app, client=("203.0.113.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


def statuses(body: dict[str, Any]) -> dict[str, str]:
    return {seat["id"]: seat["status"] for seat in body["seats"]}


@pytest.mark.parametrize("use_redis", [False, True])
@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_hold_shows_on_the_seat_map_and_changes_its_etag(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show = await open_show(client, runtime)
    seats_url = f"{API}/shows/{show.show_id}/seats"
    first = await client.get(seats_url)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["show_id"] == show.show_id
    assert [s["id"] for s in body["seats"]] == show.seat_ids
    seat = body["seats"][0]
    assert set(seat) == {"id", "section", "row", "number", "grade", "price", "status"}
    assert seat["price"] == show.grade_prices[seat["grade"]]
    assert set(statuses(body).values()) == {"available"}
    etag = first.headers["etag"]
    unchanged = await client.get(seats_url, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.headers["etag"] == etag

    fan = await customer(client)
    wanted = show.seat_ids[:2]
    held = await client.post(
        f"{API}/shows/{show.show_id}/holds", json={"seat_ids": wanted}, headers=fan.headers
    )
    assert held.status_code == 201, held.text
    hold = held.json()
    assert hold["seat_ids"] == wanted
    assert hold["amount"] == sum(show.grade_prices[s["grade"]] for s in body["seats"][:2])
    assert hold["currency"] == "KRW"
    assert {"hold_id", "show_id", "expires_at"} <= set(hold)

    after = await client.get(seats_url, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    now = statuses(after.json())
    assert [now[s] for s in wanted] == ["held", "held"]
    assert list(now.values()).count("available") == len(show.seat_ids) - 2


async def test_a_warm_seat_map_is_served_without_the_database(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show = await open_show(client, runtime, rows=10, seats_per_row=30)
    seats_url = f"{API}/shows/{show.show_id}/seats"
    assert (await client.get(seats_url)).status_code == 200  # warms layout and board
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", count)
    try:
        plain = await client.get(seats_url)
        zipped = await client.get(seats_url, headers={"Accept-Encoding": "gzip"})
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", count)
    assert statements == []
    assert zipped.headers["content-encoding"] == "gzip"
    assert orjson.loads(zipped.content) == plain.json()  # httpx decoded it
    assert len(gzip.compress(plain.content)) < len(plain.content) / 4


async def test_a_taken_seat_is_named_and_nothing_is_held(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show = await open_show(client, runtime)
    one, two = await customer(client), await customer(client)
    url = f"{API}/shows/{show.show_id}/holds"
    a, b, c = show.seat_ids[:3]
    assert (await client.post(url, json={"seat_ids": [b]}, headers=one.headers)).status_code == 201
    refused = await client.post(url, json={"seat_ids": [a, b, c]}, headers=two.headers)
    assert assert_problem(refused, 409, "seat_unavailable")["seat_ids"] == [b]
    again = await client.post(url, json={"seat_ids": [a, c]}, headers=two.headers)
    assert again.status_code == 201, again.text


@pytest.mark.parametrize("use_redis", [False, True])
async def test_a_refused_hold_offers_free_seats_side_by_side(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    show = await open_show(client, runtime, rows=2, seats_per_row=6, grades=(("R", 132000),))
    one, two, three = await customer(client), await customer(client), await customer(client)
    url = f"{API}/shows/{show.show_id}/holds"
    row_a = show.seat_ids[:6]
    # The seat map was just served: this process's copy of the board is current.
    assert (await client.get(f"{API}/shows/{show.show_id}/seats")).status_code == 200
    middle = row_a[2:4]
    assert (
        await client.post(url, json={"seat_ids": middle}, headers=one.headers)
    ).status_code == 201
    refused = await client.post(url, json={"seat_ids": middle}, headers=two.headers)
    problem = assert_problem(refused, 409, "seat_unavailable")
    assert problem["seat_ids"] == sorted(middle)
    # Two free seats side by side, one of the four nearest runs that do not overlap: in
    # row A the two pairs either side, in row B the two middle seats, then the first two.
    row_b = show.seat_ids[6:12]
    nearest = [row_a[:2], row_a[4:], row_b[2:4], row_b[:2]]
    assert problem["suggested_seat_ids"] in nearest
    offered = await client.post(
        url, json={"seat_ids": problem["suggested_seat_ids"]}, headers=two.headers
    )
    assert offered.status_code == 201, offered.text
    # Without a recent copy of the board a refusal offers nothing (it spends no round trip).
    monkeypatch.setattr(suggestions, "SUGGEST_WITHIN_SECONDS", -1.0)
    refused = await client.post(url, json={"seat_ids": middle}, headers=three.headers)
    assert assert_problem(refused, 409, "seat_unavailable")["suggested_seat_ids"] == []


@pytest.mark.parametrize("use_redis", [False, True])
async def test_best_available_holds_the_best_free_seats_side_by_side(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two rows of VIP, then two of R, four seats each; the best run only (no spreading).
    monkeypatch.setattr(best_available, "SPREAD", 1)
    show = await open_show(client, runtime, rows=4, seats_per_row=4)
    seat_map = (await client.get(f"{API}/shows/{show.show_id}/seats")).json()["seats"]
    rows: dict[str, list[str]] = {}
    for seat in seat_map:
        rows.setdefault(f"{seat['grade']}{seat['row']}", []).append(seat["id"])
    vip_front, _, r_front, r_back = rows.values()
    url = f"{API}/shows/{show.show_id}/holds"

    async def best(quantity: int, **where: str) -> httpx.Response:
        body = {"best_available": {"quantity": quantity, **where}}
        return await client.post(url, json=body, headers=(await customer(client)).headers)

    first = await best(2, grade="R")
    assert first.status_code == 201, first.text
    assert first.json()["seat_ids"] == r_front[1:3]  # the front row's middle
    assert (await best(2, grade="R")).json()["seat_ids"] == r_back[1:3]
    # Row by row, the R seats left are 1 and 4: none side by side.
    none_together = assert_problem(await best(2, grade="R"), 409, "seat_unavailable")
    assert none_together["seat_ids"] == []
    assert (await best(1, grade="R")).json()["seat_ids"] == [r_front[0]]
    # Any grade: sections in map order, VIP first.
    assert (await best(4)).json()["seat_ids"] == vip_front


@pytest.mark.parametrize("use_redis", [False, True])
async def test_a_refused_attempt_does_no_database_work(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show = await open_show(client, runtime)
    one, two = await customer(client), await customer(client)
    url = f"{API}/shows/{show.show_id}/holds"
    a, b = show.seat_ids[:2]
    assert (await client.get(f"{API}/shows/{show.show_id}/seats")).status_code == 200  # warm
    assert (await client.post(url, json={"seat_ids": [b]}, headers=one.headers)).status_code == 201
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", count)
    try:
        refused = await client.post(url, json={"seat_ids": [a, b]}, headers=two.headers)
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", count)
    assert assert_problem(refused, 409, "seat_unavailable")["seat_ids"] == [b]
    assert statements == []


@pytest.mark.parametrize("use_redis", [False, True])
async def test_an_events_change_reaches_the_very_next_hold(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show = await open_show(client, runtime)
    fan, other, late = await customer(client), await customer(client), await customer(client)
    url = f"{API}/shows/{show.show_id}/holds"
    first, *free = show.seat_ids
    assert (
        await client.post(url, json={"seat_ids": [first]}, headers=fan.headers)
    ).status_code == 201
    event_url = f"{API}/events/{show.event_id}"
    changed = await client.patch(
        event_url, json={"max_tickets_per_user": 1}, headers=show.seller.headers
    )
    assert changed.status_code == 200, changed.text
    over = await client.post(url, json={"seat_ids": free[:2]}, headers=other.headers)
    assert_problem(over, 422, "purchase_limit_exceeded")
    queued = await client.patch(
        event_url,
        json={"queue": {"enabled": True, "admit_per_second": 10, "max_active": 100}},
        headers=show.seller.headers,
    )
    assert queued.status_code == 200, queued.text
    unadmitted = await client.post(url, json={"seat_ids": free[:1]}, headers=other.headers)
    assert_problem(unadmitted, 403, "admission_required")
    # Neither refusal left a mark on the seat board: the seats are free for the next person.
    token, _ = admission.issue(
        runtime, show_id=show.show_id, user_id=late.id, ttl=timedelta(minutes=5)
    )
    admitted = await client.post(
        url, json={"seat_ids": free[:1]}, headers={**late.headers, "X-Admission-Token": token}
    )
    assert admitted.status_code == 201, admitted.text


async def test_bad_requests_get_problem_answers(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show = await open_show(client, runtime, max_tickets_per_user=2)
    fan = await customer(client)
    url = f"{API}/shows/{show.show_id}/holds"
    assert_problem(
        await client.post(url, json={"seat_ids": show.seat_ids[:1]}), 401, "unauthorized"
    )
    assert_problem(
        await client.post(url, json={"seat_ids": []}, headers=fan.headers), 422, "validation_error"
    )
    malformed = {**fan.headers, "Content-Type": "application/json"}
    assert_problem(await client.post(url, content=b"{", headers=malformed), 400, "bad_request")
    long_id = await client.post(
        f"{API}/shows/{'x' * 65}/holds", json={"seat_ids": ["a"]}, headers=fan.headers
    )
    assert assert_problem(long_id, 422, "validation_error")["errors"][0]["loc"] == [
        "path",
        "show_id",
    ]
    unknown = await client.post(url, json={"seat_ids": ["nope"]}, headers=fan.headers)
    problem = assert_problem(unknown, 422, "validation_error")
    assert problem["seat_ids"] == ["nope"]
    assert problem["errors"][0]["loc"] == ["body", "seat_ids"]
    too_many = await client.post(url, json={"seat_ids": show.seat_ids[:3]}, headers=fan.headers)
    assert_problem(too_many, 422, "purchase_limit_exceeded")
    # Best available: asked instead of seats, of a grade and a section the map has, within
    # the buyer's limit.
    for best in (
        {"seat_ids": show.seat_ids[:1], "best_available": {"quantity": 1}},
        {"best_available": {"quantity": 0}},
        {"best_available": {"quantity": 1, "section": "Balcony"}},
    ):
        refused = await client.post(url, json=best, headers=fan.headers)
        assert_problem(refused, 422, "validation_error")
    best = {"best_available": {"quantity": 1, "grade": "S"}}
    unknown_grade = await client.post(url, json=best, headers=fan.headers)
    where = assert_problem(unknown_grade, 422, "validation_error")["errors"][0]["loc"]
    assert where == ["body", "best_available", "grade"]
    best = {"best_available": {"quantity": 3}}
    assert_problem(
        await client.post(url, json=best, headers=fan.headers), 422, "purchase_limit_exceeded"
    )
    assert (
        await client.post(url, json={"seat_ids": show.seat_ids[:2]}, headers=fan.headers)
    ).status_code == 201
    over = await client.post(url, json={"seat_ids": show.seat_ids[5:6]}, headers=fan.headers)
    assert_problem(over, 422, "purchase_limit_exceeded")
    missing = f"{API}/shows/no-such-show/holds"
    assert_problem(
        await client.post(missing, json={"seat_ids": ["x"]}, headers=fan.headers), 404, "not_found"
    )
    assert_problem(await client.get(f"{API}/shows/no-such-show/seats"), 404, "not_found")


async def test_holds_wait_for_the_sale_window(client: httpx.AsyncClient, runtime: Runtime) -> None:
    show = await open_show(client, runtime, sale_open=False)
    fan = await customer(client)
    refused = await client.post(
        f"{API}/shows/{show.show_id}/holds",
        json={"seat_ids": show.seat_ids[:1]},
        headers=fan.headers,
    )
    assert_problem(refused, 422, "sale_not_open")


async def test_a_queued_show_needs_this_users_admission_token(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show = await open_show(
        client, runtime, queue={"enabled": True, "admit_per_second": 10, "max_active": 100}
    )
    fan, other = await customer(client), await customer(client)
    url = f"{API}/shows/{show.show_id}/holds"
    body = {"seat_ids": show.seat_ids[:1]}
    assert_problem(
        await client.post(url, json=body, headers=fan.headers), 403, "admission_required"
    )
    junk = {**fan.headers, "X-Admission-Token": "not-a-token"}
    assert_problem(await client.post(url, json=body, headers=junk), 403, "admission_invalid")
    others, _ = admission.issue(
        runtime, show_id=show.show_id, user_id=other.id, ttl=timedelta(minutes=5)
    )
    stolen = {**fan.headers, "X-Admission-Token": others}
    assert_problem(await client.post(url, json=body, headers=stolen), 403, "admission_invalid")
    token, _ = admission.issue(
        runtime, show_id=show.show_id, user_id=fan.id, ttl=timedelta(minutes=5)
    )
    admitted = await client.post(
        url, json=body, headers={**fan.headers, "X-Admission-Token": token}
    )
    assert admitted.status_code == 201, admitted.text
    # Once verified (and remembered by this process) the token still admits only its user.
    reused = {**other.headers, "X-Admission-Token": token}
    more = {"seat_ids": show.seat_ids[1:2]}
    assert_problem(await client.post(url, json=more, headers=reused), 403, "admission_invalid")


async def test_only_the_holder_or_an_admin_sees_or_releases_a_hold(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show = await open_show(client, runtime)
    fan, stranger = await customer(client), await customer(client)
    admin = await user_with_role(client, runtime, Role.ADMIN)
    made = await client.post(
        f"{API}/shows/{show.show_id}/holds",
        json={"seat_ids": show.seat_ids[:2]},
        headers=fan.headers,
    )
    hold_url = f"{API}/holds/{made.json()['hold_id']}"
    mine = await client.get(hold_url, headers=fan.headers)
    assert mine.status_code == 200
    assert mine.json()["status"] == "active"
    assert mine.json()["amount"] == made.json()["amount"]
    assert (await client.get(hold_url, headers=admin.headers)).status_code == 200
    assert_problem(await client.get(hold_url, headers=stranger.headers), 404, "not_found")
    assert_problem(await client.delete(hold_url, headers=stranger.headers), 404, "not_found")
    assert_problem(await client.get(hold_url), 401, "unauthorized")
    assert (await client.delete(hold_url, headers=fan.headers)).status_code == 204
    assert (await client.delete(hold_url, headers=fan.headers)).status_code == 204
    assert (await client.get(hold_url, headers=fan.headers)).json()["status"] == "released"
    seat_map = (await client.get(f"{API}/shows/{show.show_id}/seats")).json()
    assert set(statuses(seat_map).values()) == {"available"}
    retaken = await client.post(
        f"{API}/shows/{show.show_id}/holds",
        json={"seat_ids": show.seat_ids[:2]},
        headers=stranger.headers,
    )
    assert retaken.status_code == 201


class TestExpiry:
    @pytest.fixture
    def clock(self) -> FrozenClock:
        return FrozenClock(datetime.now(UTC).replace(microsecond=0))

    @pytest.mark.parametrize("use_redis", [True])
    async def test_an_expired_hold_frees_its_seats_on_the_map_before_any_sweep(
        self, client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
    ) -> None:
        show = await open_show(client, runtime, hold_minutes=10)
        fan, late = await customer(client), await customer(client)
        url = f"{API}/shows/{show.show_id}/holds"
        made = await client.post(url, json={"seat_ids": show.seat_ids[:1]}, headers=fan.headers)
        expires_at = datetime.fromisoformat(made.json()["expires_at"])
        assert expires_at == clock.now() + timedelta(minutes=10)
        seats_url = f"{API}/shows/{show.show_id}/seats"
        before = await client.get(seats_url)
        assert statuses(before.json())[show.seat_ids[0]] == "held"
        clock.advance(timedelta(minutes=10))
        after = await client.get(seats_url, headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200
        assert statuses(after.json())[show.seat_ids[0]] == "available"
        hold = await client.get(f"{API}/holds/{made.json()['hold_id']}", headers=fan.headers)
        assert hold.json()["status"] == "expired"
        taken = await client.post(url, json={"seat_ids": show.seat_ids[:1]}, headers=late.headers)
        assert taken.status_code == 201, taken.text
