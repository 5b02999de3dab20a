"""Catalog e2e fixtures: seeded categories on every backend, and callers of each role."""

from __future__ import annotations

import httpx
import pytest

from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role
from tests.support.api import Caller, customer, user_with_role
from tests.support.catalog import ensure_categories


@pytest.fixture(autouse=True)
async def _categories(runtime: Runtime) -> None:
    await ensure_categories(runtime)


@pytest.fixture
async def seller(client: httpx.AsyncClient, runtime: Runtime) -> Caller:
    return await user_with_role(client, runtime, Role.SELLER)


@pytest.fixture
async def other_seller(client: httpx.AsyncClient, runtime: Runtime) -> Caller:
    return await user_with_role(client, runtime, Role.SELLER, tag="rival")


@pytest.fixture
async def admin(client: httpx.AsyncClient, runtime: Runtime) -> Caller:
    return await user_with_role(client, runtime, Role.ADMIN)


@pytest.fixture
async def fan(client: httpx.AsyncClient) -> Caller:
    return await customer(client)
