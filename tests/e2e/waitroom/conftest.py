"""A real uvicorn server on a free port, in the test's event loop, with the waiting room."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from boxoffice.app import create_app
from boxoffice.platform.config import Settings
from boxoffice.platform.runtime import Runtime
from boxoffice.waitroom import service
from boxoffice.waitroom.shows import catalog_loader


@dataclass
class Server:
    url: str
    app: FastAPI

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    @property
    def room(self) -> service.Waitroom:
        return service.room(self.runtime)


@pytest.fixture(params=[True, False], ids=["fast-lane", "fastapi"])
async def server(settings: Settings, request: pytest.FixtureRequest) -> AsyncIterator[Server]:
    """The hot routes answered by the fast lane, then by their FastAPI twins: same tests."""
    waitroom = settings.waitroom.model_copy(
        update={"heartbeat_seconds": 0.2, "stale_after_seconds": 60}
    )
    settings = settings.model_copy(update={"fast_lane": request.param, "waitroom": waitroom})
    app = create_app(settings, ["identity", "catalog", "waitroom"], background=False)
    assert (app.fast_lane is None) or request.param
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=2
    )
    uvicorn_server = uvicorn.Server(config)
    task = asyncio.create_task(uvicorn_server.serve())
    while not uvicorn_server.started:
        assert not task.done(), "the server did not start"
        await asyncio.sleep(0.01)
    port = uvicorn_server.servers[0].sockets[0].getsockname()[1]
    # each test changes sales as it goes: no stale copies
    service.room(app.state.runtime).sale_info = catalog_loader(app.state.runtime)
    try:
        yield Server(f"http://127.0.0.1:{port}", app)
    finally:
        uvicorn_server.should_exit = True
        await task


@pytest.fixture
async def http(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        yield client
