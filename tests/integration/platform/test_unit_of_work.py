"""The unit of work: one commit point, events only with the commit, readable results."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from boxoffice.app import create_app
from boxoffice.identity import service as identity
from boxoffice.identity.events import SellerApproved
from boxoffice.identity.models import User
from boxoffice.platform.config import Settings
from boxoffice.platform.db import table_of
from boxoffice.platform.outbox import OutboxMessage
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role
from tests.conftest import BACKENDS
from tests.support import backends
from tests.support.api import API, assert_problem
from tests.support.processes import free_port


async def _count(runtime: Runtime, model: type) -> int:
    async with runtime.uow() as uow:
        return int(
            (await uow.session.execute(select(func.count()).select_from(model))).scalar_one()
        )


@pytest.mark.parametrize("backend", BACKENDS)
async def test_events_reach_the_outbox_only_with_the_commit(runtime: Runtime) -> None:
    before = await _count(runtime, OutboxMessage)
    async with runtime.uow() as uow:
        await identity.ensure_user(
            uow,
            runtime,
            email="outbox@example.com",
            password="x" * 12,
            name="O",
            role=Role.CUSTOMER,
        )
    assert await _count(runtime, OutboxMessage) == before + 1

    with pytest.raises(RuntimeError, match="failed before its commit"):
        await _half_done_use_case(runtime)
    assert await _count(runtime, OutboxMessage) == before + 1
    async with runtime.uow() as uow:
        assert await uow.session.get(User, "u-half-done") is None


async def _half_done_use_case(runtime: Runtime) -> None:
    async with runtime.uow() as uow:
        now = runtime.clock.now()
        uow.session.add(
            User(
                id="u-half-done",
                email="half@example.com",
                password_hash=None,
                name="H",
                role="customer",
                locale="ko",
                email_verified=False,
                created_at=now,
                updated_at=now,
            )
        )
        await uow.session.flush()
        raise RuntimeError("the use case failed before its commit")


def _user_row(runtime: Runtime, user_id: str) -> dict[str, object]:
    now = runtime.clock.now()
    return {
        "id": user_id,
        "email": f"{user_id}@example.com",
        "password_hash": None,
        "name": "C",
        "role": "customer",
        "locale": "ko",
        "email_verified": False,
        "created_at": now,
        "updated_at": now,
    }


async def _exists(runtime: Runtime, user_id: str) -> bool:
    async with runtime.uow() as uow:
        return await uow.session.get(User, user_id) is not None


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_core_only_use_case_commits_without_a_session(runtime: Runtime) -> None:
    """The checkout's units run Core statements only: the unit checks its connection out
    of the engine and commits it itself, outbox rows included, and may begin again."""
    before = await _count(runtime, OutboxMessage)
    async with runtime.uow() as uow:
        await (await uow.connection()).execute(
            insert(table_of(User)), _user_row(runtime, "u-core-1")
        )
        uow.record(SellerApproved(user_id="u-core-1", business_name="C"))
        await uow.commit()
        assert uow._session is None  # the point of the test
        await (await uow.connection()).execute(
            insert(table_of(User)), _user_row(runtime, "u-core-2")
        )
        await uow.commit()
    assert await _exists(runtime, "u-core-1")
    assert await _exists(runtime, "u-core-2")
    assert await _count(runtime, OutboxMessage) == before + 1


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_session_made_after_the_connection_shares_its_transaction(
    runtime: Runtime,
) -> None:
    async with runtime.uow() as uow:
        await (await uow.connection()).execute(
            insert(table_of(User)), _user_row(runtime, "u-shared-core")
        )
        # The session sees the uncommitted Core row: one transaction.
        assert await uow.session.get(User, "u-shared-core") is not None
        uow.session.add(User(**_user_row(runtime, "u-shared-orm")))
        await uow.commit()
    assert await _exists(runtime, "u-shared-core")
    assert await _exists(runtime, "u-shared-orm")

    with pytest.raises(RuntimeError, match="failed before its commit"):
        await _half_done_mixed_use_case(runtime)
    assert not await _exists(runtime, "u-undone-core")
    assert not await _exists(runtime, "u-undone-orm")


async def _half_done_mixed_use_case(runtime: Runtime) -> None:
    async with runtime.uow() as uow:
        await (await uow.connection()).execute(
            insert(table_of(User)), _user_row(runtime, "u-undone-core")
        )
        uow.session.add(User(**_user_row(runtime, "u-undone-orm")))
        await uow.session.flush()
        raise RuntimeError("the use case failed before its commit")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_rollback_undoes_the_units_own_connection(runtime: Runtime) -> None:
    async with runtime.uow() as uow:
        await (await uow.connection()).execute(
            insert(table_of(User)), _user_row(runtime, "u-rolled-back")
        )
        await uow.rollback()
        await (await uow.connection()).execute(
            insert(table_of(User)), _user_row(runtime, "u-after-rollback")
        )
        await uow.commit()
    assert not await _exists(runtime, "u-rolled-back")
    assert await _exists(runtime, "u-after-rollback")


async def test_after_commit_callbacks_run_only_after_a_commit(runtime: Runtime) -> None:
    ran: list[str] = []

    async def note() -> None:
        ran.append("after")

    async def broken() -> None:
        raise ValueError("a cache was down")

    async with runtime.uow() as uow:
        uow.on_commit(note)
        await uow.rollback()
        await uow.commit()
    assert ran == []
    async with runtime.uow() as uow:
        uow.on_commit(broken)  # best-effort: a failing callback does not undo the commit
        uow.on_commit(note)
        await uow.commit()
    assert ran == ["after"]


async def test_what_a_read_only_use_case_returns_stays_readable(runtime: Runtime) -> None:
    async with runtime.uow() as uow:
        await identity.ensure_user(
            uow, runtime, email="reader@example.com", password="x" * 12, name="R", role=Role.STAFF
        )
    async with runtime.uow() as uow:
        user, created = await identity.ensure_user(
            uow, runtime, email="reader@example.com", password="x" * 12, name="R", role=Role.STAFF
        )
    assert not created
    assert (user.email, user.role) == ("reader@example.com", "staff")


async def test_database_refusing_connections_is_503_not_500(
    make_settings: Callable[..., Settings],
) -> None:
    """A real PostgreSQL that refuses connections (as when max_connections is reached)."""
    backends.require_service("postgresql")
    role = f"bo_refused_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(backends.POSTGRES_ADMIN_URL.replace("+asyncpg", ""))
    try:
        # Superusers ignore connection limits: an ordinary role with none left is refused.
        await admin.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0')
        url = make_url(backends.POSTGRES_ADMIN_URL).set(username=role).render_as_string(False)
        app = create_app(make_settings(database_url=url), background=False)
        async with (
            LifespanManager(app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app), base_url="http://t"
            ) as client,
        ):
            response = await client.post(
                f"{API}/auth/login", json={"email": "a@example.com", "password": "whatever-pw"}
            )
            body = assert_problem(response, 503, "service_unavailable")
            assert response.headers["Retry-After"]
            assert "Traceback" not in body["detail"]
            ready = await client.get("/ready")
            assert ready.status_code == 503
            assert "database" in ready.json()["failed"]
    finally:
        await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        await admin.close()


async def test_database_not_listening_is_503_not_500(
    make_settings: Callable[..., Settings],
) -> None:
    """PostgreSQL down (restarting): asyncpg's connect raises the OS's ConnectionRefusedError
    bare, not wrapped by SQLAlchemy; the answer is still a retryable 503, on the FastAPI
    routes and on the fast lane alike (found by bench/chaos.py's PostgreSQL restart)."""
    nobody = free_port()  # nothing listens there
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{nobody}/test"
    app = create_app(make_settings(database_url=url), background=False)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://t"
        ) as client,
    ):
        login = await client.post(
            f"{API}/auth/login", json={"email": "a@example.com", "password": "whatever-pw"}
        )
        events = await client.get(f"{API}/events/01a23750-c86c-7373-9c25-ced8ecf023d1")
        for response in (login, events):
            body = assert_problem(response, 503, "service_unavailable")
            assert response.headers["Retry-After"]
            assert "Traceback" not in body["detail"]
