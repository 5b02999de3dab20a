"""Redis Streams after Redis restarted without its data: the worker delivers again.

A Redis restarted empty has lost the streams and their consumer groups; the subscribers'
reads fail (NOGROUP), and FastStream stops such a subscriber for good. The worker re-creates
missing groups every ``GROUP_CHECK_SECONDS`` and starts its stopped subscribers again, so
events relayed after the restart are delivered, to every consumer (found by bench/chaos.py's
Redis fault: no e-mail went out after the restart). On a Redis of the
test's own: the machine's shared one is never restarted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from boxoffice.notifications.consumers import CONSUMERS
from boxoffice.platform.config import Settings
from boxoffice.platform.messaging.worker import BrokerWorker
from boxoffice.platform.runtime import Runtime, build_runtime
from tests.support.messaging import SmtpServer, record_signups, wait_until
from tests.support.redis_server import PrivateRedis, private_redis

pytestmark = pytest.mark.services


@pytest.fixture
async def redis_server(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    with private_redis(tmp_path) as server:
        yield server


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_events_relayed_after_an_empty_restart_are_delivered(
    make_settings: Callable[..., Settings],
    smtp: SmtpServer,
    broker_prefix: str,
    redis_server: PrivateRedis,
) -> None:
    settings = make_settings(
        broker_url=redis_server.url,
        broker_prefix=broker_prefix,
        relay_poll_seconds=0.05,
        redelivery_after_seconds=2.0,
        retry_delays_seconds=[0.2, 0.2],
        **smtp.settings(),
    )
    runtime: Runtime = build_runtime(settings)
    worker = BrokerWorker(runtime, CONSUMERS)
    try:
        before = await record_signups(runtime, 5)
        await worker.start()
        await wait_until(lambda: len(smtp.inbox) >= len(before), "the e-mails before")
        redis_server.restart()  # killed and started again, empty: no stream, no group
        # FastStream stops a subscriber for good on NOGROUP; the worker must start it again.
        subscribers = worker.broker.broker.subscribers  # type: ignore[attr-defined]
        await wait_until(lambda: not all(s.running for s in subscribers), "a NOGROUP stop", 30)
        await wait_until(lambda: all(s.running for s in subscribers), "all reading again", 30)
        after = await record_signups(runtime, 5)
        await wait_until(lambda: len(smtp.inbox) >= len(before) + len(after), "after", 60)
    finally:
        await worker.stop()
        await runtime.close()
    assert sorted(m["To"] for m in smtp.inbox.messages) == sorted(before + after)
