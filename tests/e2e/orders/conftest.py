"""Orders e2e: the app's real payment clients pointed at the loopback stand-ins, a frozen
clock, and a show on sale."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import PaymentSettings, Settings
from boxoffice.platform.runtime import Runtime
from tests.support.api import Caller, customer
from tests.support.catalog import ShowSetup, open_show
from tests.support.orders import (  # noqa: F401 - fixtures
    _kakaopay_server,
    _toss_server,
    kakaopay,
    payment_settings,
    toss,
)


@pytest.fixture
def settings(
    make_settings: Callable[..., Settings],
    payment_settings: PaymentSettings,  # noqa: F811
) -> Settings:
    """The app starts with its payment clients pointed at the stand-ins."""
    return make_settings(payment=payment_settings)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def show(client: httpx.AsyncClient, runtime: Runtime) -> ShowSetup:
    return await open_show(client, runtime, rows=4, seats_per_row=10)


@pytest.fixture
async def fan(client: httpx.AsyncClient) -> Caller:
    return await customer(client)


@pytest.fixture
async def other(client: httpx.AsyncClient) -> Caller:
    return await customer(client, "other")
