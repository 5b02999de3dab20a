"""The shop in a real browser: the whole app on a real port (background loops on, so the
dispatcher admits and the sweeper sweeps), the payment stand-ins, and headless Chromium."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn

from boxoffice.app import BoxOfficeApp, create_app
from boxoffice.platform.config import PaymentSettings, Settings, WaitroomSettings, WebSettings
from boxoffice.platform.runtime import Runtime
from tests.stubs.toss import TossStandIn
from tests.support.browser import CHROMIUM_ARGS, chromium_path, serious_accessibility_violations
from tests.support.orders import (  # noqa: F401 - fixtures
    _kakaopay_server,
    _toss_server,
    kakaopay,
    payment_settings,
    toss,
)
from tests.support.processes import free_port


class ShiftedClock:
    """The real time, plus a shift a test can add to (a hold's minutes pass at once)."""

    def __init__(self) -> None:
        self.shift = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift

    def advance(self, delta: timedelta) -> None:
        self.shift += delta


@dataclass
class Shop:
    url: str
    app: BoxOfficeApp
    clock: ShiftedClock
    http: httpx.AsyncClient
    violations: dict[str, list[str]] = field(default_factory=dict)

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    async def check_accessibility(self, page: Any, name: str) -> None:
        """axe-core on the page as it is now; serious findings are kept for the test's end."""
        found = await serious_accessibility_violations(page)
        if found:
            self.violations[name] = found


@pytest.fixture
async def shop(
    make_settings: Callable[..., Settings],
    payment_settings: PaymentSettings,  # noqa: F811
    toss: TossStandIn,  # noqa: F811
) -> AsyncIterator[Shop]:
    chromium_path()  # skip (or fail in CI) before starting anything
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = make_settings(
        public_url=url,
        # Providers send the browser back to this shop's result page.
        payment=payment_settings.model_copy(update={"frontend_result_url": None}),
        waitroom=WaitroomSettings(heartbeat_seconds=1),
        web=WebSettings(toss_sdk_url=f"{toss.server.url}/v2/standard"),
    )
    clock = ShiftedClock()
    app = create_app(settings, clock=clock, background=True)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the shop did not start"
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield Shop(url, app, clock, http)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def new_page(browser: Any, locale: str = "ko-KR") -> Any:
    """A fresh browser profile (its own storage: another fan) on a phone-sized screen."""
    context = await browser.new_context(
        locale=locale, viewport={"width": 412, "height": 915}, service_workers="allow"
    )
    context.set_default_timeout(45_000)  # generous: CI runs these beside the whole suite
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors  # checked by the tests: a page's script must not throw
    return page
