"""Authorisation follows the account's current state (issue 16, defects 1 and 2).

A token says who signed in; what they may do now is what the account is now: a role taken
away, a seller approval withdrawn or a login ended stop working on the next request, on
the fast lane and through FastAPI alike, and in every API process (two apps on one Redis).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from asgi_lifespan import LifespanManager

from boxoffice.app import BoxOfficeApp, create_app
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import Settings
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role
from tests.support.api import API, Caller, assert_problem, customer, user_with_role
from tests.support.catalog import open_show
from tests.support.merch import create_product, product_body


@pytest.fixture(params=[True, False], ids=["fast-lane", "fastapi"])
def fast_lane(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def app(settings: Settings, clock: FrozenClock | None, fast_lane: bool) -> BoxOfficeApp:
    return create_app(settings.model_copy(update={"fast_lane": fast_lane}), clock=clock)


async def _me(client: httpx.AsyncClient, caller: Caller) -> httpx.Response:
    return await client.get(f"{API}/users/me", headers=caller.headers)


async def _join(client: httpx.AsyncClient, caller: Caller, show_id: str) -> httpx.Response:
    """A hot route (the queue join): answered by the fast lane when it is on."""
    return await client.post(f"{API}/shows/{show_id}/queue", headers=caller.headers)


QUEUE = {"enabled": True, "admit_per_second": 1, "max_active": 100}


async def test_access_token_stops_working_after_logout(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show = await open_show(client, runtime, queue=QUEUE)
    fan = await customer(client)
    other_device = await customer_login_again(client, fan)
    assert (await _me(client, fan)).status_code == 200
    out = await client.post(
        f"{API}/auth/logout", json={"refresh_token": fan.refresh_token}, headers=fan.headers
    )
    assert out.status_code == 204
    assert_problem(await _me(client, fan), 401, "invalid_token")
    assert_problem(await _join(client, fan, show.show_id), 401, "invalid_token")
    # The same person's other login (another device) is not ended by this one's logout.
    assert (await _me(client, other_device)).status_code == 200
    assert (await _join(client, other_device, show.show_id)).status_code == 201


async def test_refresh_token_reuse_ends_the_logins_access_tokens(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show = await open_show(client, runtime, queue=QUEUE)
    fan = await customer(client)
    renewed = await client.post(f"{API}/auth/refresh", json={"refresh_token": fan.refresh_token})
    assert renewed.status_code == 200
    fresh = Caller(fan.id, fan.email, fan.password, renewed.json()["access_token"], "")
    replay = await client.post(f"{API}/auth/refresh", json={"refresh_token": fan.refresh_token})
    assert_problem(replay, 401, "refresh_token_reused")
    for token_holder in (fan, fresh):  # the stolen pair and the one issued from it
        assert_problem(await _me(client, token_holder), 401, "invalid_token")
        assert_problem(await _join(client, token_holder, show.show_id), 401, "invalid_token")


async def test_a_demoted_admin_loses_admin_power_at_once(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    boss = await user_with_role(client, runtime, Role.ADMIN, "boss")
    rogue = await user_with_role(client, runtime, Role.ADMIN, "rogue")
    demoted = await client.patch(
        f"{API}/admin/users/{rogue.id}", json={"role": "customer"}, headers=boss.headers
    )
    assert demoted.status_code == 200, demoted.text
    # The old token (role "admin" in its claims) can no longer act as an admin...
    regain = await client.patch(
        f"{API}/admin/users/{rogue.id}", json={"role": "admin"}, headers=rogue.headers
    )
    assert_problem(regain, 403, "forbidden")
    # ...but still signs its holder in as the customer they now are.
    me = await _me(client, rogue)
    assert me.status_code == 200
    assert me.json()["role"] == "customer"


async def test_a_granted_role_works_without_signing_in_again(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    boss = await user_with_role(client, runtime, Role.ADMIN, "boss")
    fan = await customer(client)
    promoted = await client.patch(
        f"{API}/admin/users/{fan.id}", json={"role": "admin"}, headers=boss.headers
    )
    assert promoted.status_code == 200
    jobs = await client.get(f"{API}/admin/jobs", headers=fan.headers)
    assert jobs.status_code == 200, jobs.text


async def test_a_withdrawn_seller_can_no_longer_manage_goods(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await user_with_role(client, runtime, Role.ADMIN)
    show = await open_show(client, runtime)
    seller = show.seller
    product = await create_product(client, seller, show.event_id)
    withdrawn = await client.patch(
        f"{API}/admin/users/{seller.id}", json={"seller_status": "rejected"}, headers=admin.headers
    )
    assert withdrawn.status_code == 200, withdrawn.text
    reprice = await client.patch(
        f"{API}/products/{product['id']}", json={"price": 1}, headers=seller.headers
    )
    assert_problem(reprice, 403, "forbidden")
    another = await client.post(
        f"{API}/events/{show.event_id}/products",
        json=product_body("Tour towel", variants=[{"sku": "TW-9", "option": "", "stock": 5}]),
        headers=seller.headers,
    )
    assert_problem(another, 403, "forbidden")


async def customer_login_again(client: httpx.AsyncClient, caller: Caller) -> Caller:
    """A second login of the same account (another device)."""
    response = await client.post(
        f"{API}/auth/login", json={"email": caller.email, "password": caller.password}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return Caller(caller.id, caller.email, caller.password, body["access_token"], "")


@pytest.fixture
async def two_apps(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, Runtime]]:
    """Two API processes (replicas) on one database and one Redis."""
    settings = make_settings()
    first, second = create_app(settings), create_app(settings)
    async with LifespanManager(first) as one, LifespanManager(second) as two:
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=m.app), base_url="http://t")
            for m in (one, two)
        ]
        yield clients[0], clients[1], first.state.runtime
        for http in clients:
            await http.aclose()


@pytest.mark.parametrize("use_redis", [True])
async def test_logout_and_demotion_reach_every_api_process(
    two_apps: tuple[httpx.AsyncClient, httpx.AsyncClient, Runtime],
) -> None:
    one, two, runtime = two_apps
    fan = await customer(one)
    assert (await _me(two, fan)).status_code == 200  # verified (and remembered) by the second
    out = await one.post(
        f"{API}/auth/logout", json={"refresh_token": fan.refresh_token}, headers=fan.headers
    )
    assert out.status_code == 204
    assert_problem(await _me(two, fan), 401, "invalid_token")

    boss = await user_with_role(one, runtime, Role.ADMIN, "boss")
    rogue = await user_with_role(one, runtime, Role.ADMIN, "rogue")
    assert (await two.get(f"{API}/admin/jobs", headers=rogue.headers)).status_code == 200
    demoted = await one.patch(
        f"{API}/admin/users/{rogue.id}", json={"role": "customer"}, headers=boss.headers
    )
    assert demoted.status_code == 200
    assert_problem(await two.get(f"{API}/admin/jobs", headers=rogue.headers), 403, "forbidden")
