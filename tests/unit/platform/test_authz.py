"""The current-authorisation read on the memory store: a changed role replaces the token's,
an ended login refuses its tokens, and nothing recorded leaves the token's word standing."""

from __future__ import annotations

import asyncio

import pytest

from boxoffice.platform.authz import Authorisations
from boxoffice.platform.errors import InvalidToken
from boxoffice.platform.kv import MemoryStore
from boxoffice.platform.security import Principal, Role

ADMIN = Principal(id="u1", email="a@example.com", role=Role.ADMIN, sid="login-1")


async def test_nothing_recorded_keeps_the_tokens_role() -> None:
    authz = Authorisations(MemoryStore("t"), access_token_seconds=60)
    assert await authz.current(ADMIN) is ADMIN


async def test_a_recorded_role_replaces_the_tokens_for_every_login_of_the_user() -> None:
    authz = Authorisations(MemoryStore("t"), access_token_seconds=60)
    await authz.role_changed("u1", Role.CUSTOMER)
    assert (await authz.current(ADMIN)).role is Role.CUSTOMER
    older = Principal(id="u1", email="a@example.com", role=Role.ADMIN)  # no sid claim
    assert (await authz.current(older)).role is Role.CUSTOMER
    other = Principal(id="u2", email="b@example.com", role=Role.ADMIN, sid="login-2")
    assert (await authz.current(other)).role is Role.ADMIN


async def test_an_ended_login_refuses_only_its_own_tokens() -> None:
    authz = Authorisations(MemoryStore("t"), access_token_seconds=60)
    await authz.login_ended("u1", "login-1")
    with pytest.raises(InvalidToken):
        await authz.current(ADMIN)
    other_device = Principal(id="u1", email="a@example.com", role=Role.ADMIN, sid="login-9")
    assert await authz.current(other_device) is other_device


async def test_entries_last_as_long_as_a_token_and_then_go() -> None:
    authz = Authorisations(MemoryStore("t"), access_token_seconds=0.05, leeway_seconds=0)
    await authz.login_ended("u1", "login-1")
    await authz.role_changed("u1", Role.CUSTOMER)
    await asyncio.sleep(0.12)
    assert await authz.current(ADMIN) is ADMIN
