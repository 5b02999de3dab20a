"""The calls orders makes (docs/contracts.md), through seating's public service module."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from boxoffice.catalog import service as catalog
from boxoffice.catalog.contracts import ShowSaleInfo
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.errors import Conflict, NotFound
from boxoffice.platform.runtime import Runtime
from boxoffice.seating import service as seating
from boxoffice.seating.adapters import seating_of
from tests.conftest import BACKENDS
from tests.support.api import API, customer
from tests.support.catalog import ShowSetup, open_show
from tests.support.seating import seat_status_counts


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


async def held_over_http(
    client: httpx.AsyncClient, runtime: Runtime, seats: int = 2
) -> tuple[ShowSetup, str, str]:
    show = await open_show(client, runtime)
    fan = await customer(client)
    made = await client.post(
        f"{API}/shows/{show.show_id}/holds",
        json={"seat_ids": show.seat_ids[:seats]},
        headers=fan.headers,
    )
    assert made.status_code == 201, made.text
    return show, made.json()["hold_id"], fan.id


async def sale_info(runtime: Runtime, show: ShowSetup) -> ShowSaleInfo:
    async with runtime.uow(read_only=True) as uow:
        info = await catalog.show_sale_info(uow, show.show_id)
    assert info is not None
    return info


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_hold_becomes_an_order_and_then_sold_seats_in_one_transaction(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show, hold_id, user_id = await held_over_http(client, runtime)
    async with runtime.uow() as uow:
        held = await seating.held_seats(uow, runtime, hold_id)
        assert held is not None
        assert (held.status, held.user_id, held.currency) == ("active", user_id, "KRW")
        assert [s.seat_id for s in held.seats] == show.seat_ids[:2]
        assert held.amount == sum(show.grade_prices[s.grade] for s in held.seats)
        attached = await seating.attach_order(
            uow, runtime, hold_id, order_id="order-1", user_id=user_id
        )
        assert attached.hold_id == hold_id
        sold = await seating.sell_hold(
            uow, runtime, hold_id, order_id="order-1", info=await sale_info(runtime, show)
        )
        assert sold.status == "sold"
        await uow.commit()
    async with runtime.uow() as uow:
        assert (await seat_status_counts(uow, show.show_id))["sold"] == 2
        assert await seating.held_seats(uow, runtime, "no-such-hold") is None
    seat_map = (await client.get(f"{API}/shows/{show.show_id}/seats")).json()
    assert [s["status"] for s in seat_map["seats"][:3]] == ["sold", "sold", "available"]


async def test_nothing_is_kept_when_the_callers_transaction_rolls_back(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show, hold_id, user_id = await held_over_http(client, runtime)
    async with runtime.uow() as uow:
        await seating.attach_order(uow, runtime, hold_id, order_id="order-1", user_id=user_id)
        await seating.sell_hold(
            uow, runtime, hold_id, order_id="order-1", info=await sale_info(runtime, show)
        )
    async with runtime.uow() as uow:  # no commit: the order failed
        assert "sold" not in await seat_status_counts(uow, show.show_id)
        held = await seating.held_seats(uow, runtime, hold_id)
        assert held is not None
        assert held.status == "active"


async def test_attach_refuses_other_users_and_expired_holds(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    _, hold_id, user_id = await held_over_http(client, runtime)
    async with runtime.uow() as uow:
        with pytest.raises(NotFound):
            await seating.attach_order(uow, runtime, hold_id, order_id="o", user_id="someone")
    clock.advance(timedelta(minutes=7))
    async with runtime.uow() as uow:
        with pytest.raises(seating.HoldLapsed):
            await seating.attach_order(uow, runtime, hold_id, order_id="o", user_id=user_id)
        held = await seating.held_seats(uow, runtime, hold_id)
        assert held is not None
        assert held.status == "expired"


async def test_release_hold_and_release_sold_seats_give_seats_back(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show, hold_id, _ = await held_over_http(client, runtime)
    async with runtime.uow() as uow:
        await seating.release_hold(uow, runtime, hold_id, reason="order_expired")
        await uow.commit()
    async with runtime.uow() as uow:
        assert await seat_status_counts(uow, show.show_id) == {"available": 20}
        with pytest.raises(NotFound):
            await seating.release_hold(uow, runtime, "no-such-hold", reason="x")
        with pytest.raises(seating.HoldLapsed):  # released holds cannot be sold
            await seating.sell_hold(
                uow, runtime, hold_id, order_id="late", info=await sale_info(runtime, show)
            )

    show2, hold2, user2 = await held_over_http(client, runtime)
    async with runtime.uow() as uow:
        await seating.attach_order(uow, runtime, hold2, order_id="order-2", user_id=user2)
        await seating.sell_hold(
            uow, runtime, hold2, order_id="order-2", info=await sale_info(runtime, show2)
        )
        await uow.commit()
    async with runtime.uow() as uow:
        with pytest.raises(Conflict):
            await seating.sell_hold(
                uow, runtime, hold2, order_id="order-3", info=await sale_info(runtime, show2)
            )
        await seating.release_sold_seats(
            uow, runtime, show_id=show2.show_id, seat_ids=show2.seat_ids[:2], order_id="order-2"
        )
        await uow.commit()
    async with runtime.uow() as uow:
        assert await seat_status_counts(uow, show2.show_id) == {"available": 20}
    seat_map = (await client.get(f"{API}/shows/{show2.show_id}/seats")).json()
    assert {s["status"] for s in seat_map["seats"]} == {"available"}


async def test_the_sweeper_job_expires_holds_through_the_service(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    show, hold_id, _ = await held_over_http(client, runtime)
    clock.advance(timedelta(minutes=7, seconds=1))
    assert await seating.expire_holds(runtime) == 1
    async with runtime.uow() as uow:
        held = await seating.held_seats(uow, runtime, hold_id)
        assert held is not None
        assert held.status == "expired"
        assert await seat_status_counts(uow, show.show_id) == {"available": 20}


async def test_the_waiting_room_hears_when_a_hold_is_released_or_expires(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    finished: list[tuple[str, str]] = []

    async def record(show_id: str, user_id: str) -> None:
        finished.append((show_id, user_id))

    adapters = seating_of(runtime)
    adapters.admission_finished = record
    show, released, user_id = await held_over_http(client, runtime)
    async with runtime.uow() as uow:
        await seating.release_hold(uow, runtime, released, reason="order_failed")
        assert finished == []  # only once the release is committed
        await uow.commit()
    assert finished == [(show.show_id, user_id)]
    show2, _, user2 = await held_over_http(client, runtime)
    clock.advance(timedelta(minutes=8))
    assert await seating.expire_holds(runtime) == 1
    assert finished[-1] == (show2.show_id, user2)


async def test_the_sweeper_is_declared_as_a_job_batch_can_schedule(runtime: Runtime) -> None:
    from boxoffice.batch.schedule import Schedule

    jobs = {job.name: job for job in runtime.jobs}
    sweeper = jobs["seating.expire_holds"]
    assert Schedule.parse(sweeper.schedule).expression == "* * * * * */5"
    assert await sweeper.run(runtime) == 0
