"""Seating's API on both lanes (the hold route on the fast lane, then on its FastAPI
twin), and real server processes for seating's races: two `boxoffice serve` sharing one
database."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from boxoffice.app import API_PREFIX, BoxOfficeApp, create_app
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import Settings
from boxoffice.platform.fastlane import FastLane
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import TokenUse
from boxoffice.seating import fast_routes
from boxoffice.waitroom import fast_routes as waitroom_fast_routes
from tests.support.processes import free_port, running_server
from tests.support.processes import server_env as shared_server_env

SERVE_CONTEXTS = "identity,catalog,waitroom,seating"
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
        if fast_lane and (lane is None or lane.match(_HOLD_PROBE) is None):
            # Until the app registers seating's fast route itself, as it does waitroom's.
            hot = waitroom_fast_routes.routes(API_PREFIX) + fast_routes.routes(API_PREFIX)
            app.fast_lane = FastLane(app.state.runtime, hot)
        assert (app.fast_lane is None) or fast_lane
        transport = httpx.ASGITransport(app=manager.app, client=("203.0.113.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


def server_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The test's settings as a server process reads them, serving the sale's contexts."""
    return shared_server_env(settings, BOXOFFICE_SERVE_CONTEXTS=SERVE_CONTEXTS, **overrides)


@contextmanager
def servers(envs: list[dict[str, str]], logs: Path) -> Iterator[list[str]]:
    """One `boxoffice serve` per environment; yields their base URLs."""
    with ExitStack() as stack:
        urls = []
        for index, env in enumerate(envs):
            port = free_port()
            stack.enter_context(
                running_server(
                    ["serve", "--port", str(port)], env, port, log_path=logs / f"serve-{index}.log"
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        yield urls


def bearer_tokens(runtime: Runtime, count: int) -> list[str]:
    """Access tokens of ``count`` distinct customers (signed by the shared dev key)."""
    now = runtime.clock.now()
    return [
        runtime.keys.sign(
            {"sub": new_id(), "email": f"fan{i}@example.com", "role": "customer"},
            use=TokenUse.ACCESS,
            now=now,
            ttl=timedelta(hours=1),
        )
        for i in range(count)
    ]


def contended_requests(seat_ids: list[str], count: int, seed: int) -> list[list[str]]:
    """``count`` requests of 1 to 4 adjacent seats, most of them near the stage."""
    rng = random.Random(seed)
    requests = []
    for _ in range(count):
        size = rng.randint(1, 4)
        start = min(int(rng.expovariate(1 / 20)), len(seat_ids) - size)
        requests.append(seat_ids[start : start + size])
    return requests
