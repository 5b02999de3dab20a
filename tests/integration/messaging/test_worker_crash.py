"""kill -9 of `boxoffice worker` in the middle of a burst of 2,000 sign-ups, then a restart,
on each broker: every welcome e-mail reaches the SMTP server, recorded once in the database.

A mail the server accepted in the instant before the kill, before the worker recorded
it, is sent again after the restart with the same Message-ID (at-least-once towards SMTP;
see docs/messaging.md): the test counts those and bounds them by the sends in flight.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from boxoffice.notifications.consumers import CONSUMERS
from boxoffice.notifications.models import SentEmail
from boxoffice.platform.config import Settings
from boxoffice.platform.messaging.models import ProcessedEvent
from boxoffice.platform.messaging.worker import group_of
from boxoffice.platform.outbox import OutboxMessage
from boxoffice.platform.runtime import build_runtime
from tests.support.messaging import (
    SmtpServer,
    broker_url,
    clean_broker,
    count,
    record_signups,
    remember_rabbit_queues,
    wait_until,
)

BURST = 2000
CONCURRENCY = 16
pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.fixture(params=["redis", "nats", "rabbit", "kafka"])
def worker_env(
    request: pytest.FixtureRequest,
    settings: Settings,
    smtp: SmtpServer,
    broker_prefix: str,
    tmp_path: Path,
) -> Iterator[dict[str, str]]:
    kind: str = request.param
    url = broker_url(kind)
    if kind == "rabbit":
        names = [group_of(c) for c in CONSUMERS] + [group_of(c) + ".retry" for c in CONSUMERS]
        remember_rabbit_queues(broker_prefix, names)
    env = {
        **os.environ,
        "BOXOFFICE_ENVIRONMENT": "test",
        "BOXOFFICE_DATA_DIR": str(tmp_path),
        "BOXOFFICE_DATABASE_URL": settings.database_url,
        "BOXOFFICE_BROKER_URL": url,
        "BOXOFFICE_BROKER_PREFIX": broker_prefix,
        "BOXOFFICE_SMTP_HOST": "127.0.0.1",
        "BOXOFFICE_SMTP_PORT": str(smtp.port),
        "BOXOFFICE_CONSUMER_CONCURRENCY": str(CONCURRENCY),
        "BOXOFFICE_REDELIVERY_AFTER_SECONDS": "3",
        "BOXOFFICE_CONSUMER_CLAIM_SECONDS": "5",
        "BOXOFFICE_RELAY_POLL_SECONDS": "0.05",
        "BOXOFFICE_LOG_LEVEL": "WARNING",
    }
    env.pop("BOXOFFICE_REDIS_URL", None)
    yield env
    from tests.support.running import run_sync

    run_sync(clean_broker(kind, url, broker_prefix))


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "boxoffice", "worker"], env=env, stdout=out, stderr=out
        )


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_worker_killed_mid_burst_delivers_every_email_after_restart(
    make_settings: Callable[..., Settings],
    worker_env: dict[str, str],
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    runtime = build_runtime(make_settings())
    log = tmp_path / "worker.log"
    worker = None
    try:
        await record_signups(runtime, BURST)
        async with runtime.uow() as uow:
            event_ids = list((await uow.session.execute(select(OutboxMessage.event_id))).scalars())
        expected = {f"<welcome.{event_id}@boxoffice.local>" for event_id in event_ids}

        worker = start_worker(worker_env, log)
        await wait_until(lambda: len(smtp.inbox) >= BURST // 5, "the burst under way", 120)
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(timeout=10) == -signal.SIGKILL
        at_kill = len(smtp.inbox)
        assert at_kill < BURST, "the worker finished before the kill: nothing was tested"

        worker = start_worker(worker_env, log)

        async def everything_delivered() -> bool:
            done = ProcessedEvent.claim.is_(None)
            return (
                set(smtp.inbox.message_ids()) >= expected
                and await count(runtime, ProcessedEvent.event_id, done) == BURST
            )

        await wait_until(everything_delivered, "every e-mail after the restart", 240)
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        worker = None

        received = smtp.inbox.message_ids()
        assert set(received) == expected  # every e-mail, and nothing else
        assert await count(runtime, SentEmail.id) == BURST  # recorded exactly once
        resent = sum(n - 1 for n in received.values())
        print(f"killed at {at_kill}/{BURST} delivered; re-sent after restart: {resent}")
        assert resent <= CONCURRENCY, received.most_common(3)
    finally:
        if worker is not None:
            worker.kill()
            worker.wait()
        await runtime.close()
