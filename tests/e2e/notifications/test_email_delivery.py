"""E-mail as a user and an admin see it: welcome mail after sign-up, retries with growing
delays while the mail server refuses, then a dead letter an admin retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.messaging.models import DeadLetter, ScheduledRetry
from boxoffice.platform.messaging.worker import InProcessBus
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role
from tests.support.api import API, assert_problem, customer, sign_up, unique_email, user_with_role
from tests.support.messaging import SmtpServer


def bus_of(runtime: Runtime) -> InProcessBus:
    bus: InProcessBus = runtime.adapters.get(InProcessBus)
    return bus


async def pending_retry(runtime: Runtime) -> datetime | None:
    """When the one pending retry is due, if there is one."""
    async with runtime.uow() as uow:
        return (await uow.session.execute(select(ScheduledRetry.due_at))).scalar_one_or_none()


async def test_sign_up_sends_one_welcome_email_in_the_users_language(
    client: httpx.AsyncClient, runtime: Runtime, smtp: SmtpServer
) -> None:
    email = unique_email("welcome")
    assert (await sign_up(client, email, name="김민지")).status_code == 201
    await bus_of(runtime).run_once()
    await bus_of(runtime).run_once()  # nothing new: no second e-mail
    [message] = smtp.inbox.to(email)
    assert "김민지님" in str(message["Subject"])
    assert "가입이 완료되었습니다" in message.get_body(("plain",)).get_content()
    assert "김민지님" in message.get_body(("html",)).get_content()
    assert len(smtp.inbox) == 1


async def test_refused_mail_is_retried_with_growing_delays_then_dead_lettered_and_retried(
    client: httpx.AsyncClient, runtime: Runtime, smtp: SmtpServer, clock: FrozenClock
) -> None:
    bus = bus_of(runtime)
    smtp.inbox.refuse_all = True
    email = unique_email("refused")
    assert (await sign_up(client, email)).status_code == 201
    await bus.run_once()  # first attempt refused: retry in 1 minute

    waits = []
    for _ in range(4):
        due = await pending_retry(runtime)
        assert due is not None
        waits.append(due - clock.now())
        await bus.run_once()  # not due yet: nothing happens
        assert (await pending_retry(runtime)) is not None
        clock.advance(waits[-1])
        await bus.run_once()
    assert waits == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
    ]
    assert await pending_retry(runtime) is None
    assert smtp.inbox.refused == 5
    assert smtp.inbox.to(email) == []

    clock.set(datetime.now(UTC))  # back to the present, where tokens are checked
    admin = await user_with_role(client, runtime, Role.ADMIN)
    listed = await client.get(f"{API}/admin/dead-letters", headers=admin.headers)
    assert listed.status_code == 200, listed.text
    [letter] = [d for d in listed.json()["items"] if d["payload"].get("email") == email]
    assert letter["kind"] == "email"
    assert letter["status"] == "dead"
    assert letter["attempts"] == 5
    assert letter["consumer"] == "notifications.welcome_email"
    assert "451" in letter["last_error"]

    smtp.inbox.refuse_all = False
    retried = await client.post(
        f"{API}/admin/dead-letters/{letter['id']}/retry", headers=admin.headers
    )
    assert retried.status_code == 202, retried.text
    assert retried.json()["status"] == "retrying"
    assert_problem(
        await client.post(f"{API}/admin/dead-letters/{letter['id']}/retry", headers=admin.headers),
        409,
        "conflict",
    )
    await bus.run_once()
    assert len(smtp.inbox.to(email)) == 1
    async with runtime.uow() as uow:
        stored = await uow.session.get(DeadLetter, letter["id"])
        assert stored is not None
        assert stored.status == "resolved"
    still_dead = await client.get(f"{API}/admin/dead-letters", headers=admin.headers)
    assert letter["id"] not in {d["id"] for d in still_dead.json()["items"]}
    everything = await client.get(
        f"{API}/admin/dead-letters", params={"status": "all"}, headers=admin.headers
    )
    assert letter["id"] in {d["id"] for d in everything.json()["items"]}


async def test_dead_letter_desk_is_for_admins_only(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    assert_problem(await client.get(f"{API}/admin/dead-letters"), 401, "unauthorized")
    fan = await customer(client)
    assert_problem(
        await client.get(f"{API}/admin/dead-letters", headers=fan.headers), 403, "forbidden"
    )
    assert_problem(
        await client.post(f"{API}/admin/dead-letters/x/retry", headers=fan.headers),
        403,
        "forbidden",
    )
    admin = await user_with_role(client, runtime, Role.ADMIN)
    assert_problem(
        await client.post(
            f"{API}/admin/dead-letters/01a20000-0000-7000-8000-000000000000/retry",
            headers=admin.headers,
        ),
        404,
        "not_found",
    )
    assert_problem(
        await client.get(f"{API}/admin/dead-letters", params={"limit": 0}, headers=admin.headers),
        422,
        "validation_error",
    )
