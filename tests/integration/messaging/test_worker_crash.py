"""kill -9 of `boxoffice worker` in the middle of a burst of 2,000 sign-ups, then a restart,
on each broker: every welcome e-mail reaches the SMTP server, recorded once in the database.

A mail the server accepted in the instant before the kill, before the worker recorded
it, is sent again after the restart with the same Message-ID (at-least-once towards SMTP;
see docs/messaging.md): the test counts those and bounds them by the sends in flight.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from boxoffice.notifications.consumers import CONSUMERS
from boxoffice.notifications.models import SentEmail
from boxoffice.platform.config import Settings
from boxoffice.platform.messaging.models import ProcessedEvent
from boxoffice.platform.outbox import OutboxMessage
from boxoffice.platform.runtime import build_runtime
from tests.support.messaging import (
    SmtpServer,
    count,
    kill_mid_burst_and_restart,
    record_signups,
    worker_env_fixture,
)

BURST = 2000
CONCURRENCY = 16
pytestmark = [pytest.mark.services, pytest.mark.slow]


worker_env = worker_env_fixture(
    ["redis", "nats", "rabbit", "kafka"], CONSUMERS, concurrency=CONCURRENCY
)


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_worker_killed_mid_burst_delivers_every_email_after_restart(
    make_settings: Callable[..., Settings],
    worker_env: dict[str, str],
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    runtime = build_runtime(make_settings())
    try:
        await record_signups(runtime, BURST)
        async with runtime.uow() as uow:
            event_ids = list((await uow.session.execute(select(OutboxMessage.event_id))).scalars())
        expected = {f"<welcome.{event_id}@boxoffice.local>" for event_id in event_ids}

        async def everything_delivered() -> bool:
            done = ProcessedEvent.claim.is_(None)
            return (
                set(smtp.inbox.message_ids()) >= expected
                and await count(runtime, ProcessedEvent.event_id, done) == BURST
            )

        at_kill = await kill_mid_burst_and_restart(
            worker_env,
            tmp_path / "worker.log",
            burst=BURST,
            progress=lambda: len(smtp.inbox),
            finished=everything_delivered,
            what="e-mail",
        )

        received = smtp.inbox.message_ids()
        assert set(received) == expected  # every e-mail, and nothing else
        assert await count(runtime, SentEmail.id) == BURST  # recorded exactly once
        resent = sum(n - 1 for n in received.values())
        print(f"killed at {at_kill}/{BURST} delivered; re-sent after restart: {resent}")
        assert resent <= CONCURRENCY, received.most_common(3)
    finally:
        await runtime.close()
