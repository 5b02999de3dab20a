"""Fixtures for merch's tests: a seller with a published event (catalog's open_show)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from boxoffice.platform.runtime import Runtime
from tests.support.api import Caller
from tests.support.catalog import open_show


@dataclass
class Shop:
    seller: Caller
    event_id: str
    show_id: str


@pytest.fixture
async def shop(client: httpx.AsyncClient, runtime: Runtime) -> Shop:
    show = await open_show(client, runtime)
    return Shop(seller=show.seller, event_id=show.event_id, show_id=show.show_id)
