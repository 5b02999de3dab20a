"""One contract for every broker: each event published once is consumed once in effect.

Runs against the real Redis Streams, NATS JetStream and RabbitMQ on this machine, and
Kafka when BOXOFFICE_KAFKA_URL names one. The effect counted is the real one: welcome
e-mails arriving at a real SMTP server (aiosmtpd).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import update

from boxoffice.notifications.consumers import CONSUMERS
from boxoffice.notifications.models import SentEmail
from boxoffice.platform.config import Settings
from boxoffice.platform.messaging.models import ProcessedEvent
from boxoffice.platform.messaging.worker import BrokerWorker, group_of
from boxoffice.platform.outbox import OutboxMessage
from boxoffice.platform.runtime import Runtime, build_runtime
from tests.support.messaging import (
    SmtpServer,
    broker_url,
    clean_broker,
    count,
    record_signups,
    remember_rabbit_queues,
    wait_until,
)

BROKERS = ["redis", "nats", "rabbit", "kafka"]
pytestmark = pytest.mark.services


async def all_published(runtime: Runtime) -> bool:
    return await count(runtime, OutboxMessage.seq, OutboxMessage.published_at.is_(None)) == 0


@pytest.fixture
async def broker_runtime(
    request: pytest.FixtureRequest,
    make_settings: Callable[..., Settings],
    smtp: SmtpServer,
    broker_prefix: str,
) -> AsyncIterator[Runtime]:
    kind: str = request.param
    url = broker_url(kind)
    settings = make_settings(
        broker_url=url,
        broker_prefix=broker_prefix,
        relay_poll_seconds=0.05,
        redelivery_after_seconds=2.0,
        retry_delays_seconds=[0.2, 0.2],
        **smtp.settings(),
    )
    runtime = build_runtime(settings)
    if kind == "rabbit":
        names = [group_of(c) for c in CONSUMERS] + [group_of(c) + ".retry" for c in CONSUMERS]
        remember_rabbit_queues(broker_prefix, names)
    try:
        yield runtime
    finally:
        await runtime.close()
        await clean_broker(kind, url, broker_prefix)


# SQLite writes a mail's record after the send; a server writes it before (commit after)
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("broker_runtime", BROKERS, indirect=True)
async def test_each_event_is_consumed_once_even_when_relayed_twice(
    broker_runtime: Runtime, smtp: SmtpServer
) -> None:
    runtime = broker_runtime
    emails = await record_signups(runtime, 150)
    worker = BrokerWorker(runtime, CONSUMERS)
    await worker.start()
    try:
        await wait_until(lambda: len(smtp.inbox) >= len(emails), "every welcome e-mail")
        await wait_until(lambda: all_published(runtime), "the outbox marked published")
        # A relay that crashed after publishing but before marking relays it all again.
        async with runtime.uow() as uow:
            await uow.session.execute(update(OutboxMessage).values(published_at=None))
            await uow.commit()
        await wait_until(lambda: all_published(runtime), "the second relay")
        if not runtime.settings.broker_url or not runtime.settings.broker_url.startswith("nats"):
            await wait_until(
                lambda: worker.dispatcher.outcomes["duplicate"] >= len(emails), "the duplicates"
            )
        # (JetStream drops a re-publish with the same Nats-Msg-Id at the broker already.)
    finally:
        await worker.stop()

    ids = smtp.inbox.message_ids()
    assert len(ids) == len(emails)
    # The second relay adds no e-mail. A send whose answer the server was too slow to give
    # (a loaded machine: an SMTP read timeout) is retried, and may arrive twice with its
    # one Message-ID — at-least-once towards SMTP; each such copy is one retry counted.
    resent = sum(n - 1 for n in ids.values())
    assert resent <= worker.dispatcher.outcomes["retry"], ids.most_common(3)
    assert sorted(m["To"] for m in smtp.inbox.messages) == sorted(emails)
    assert await count(runtime, SentEmail.id) == len(emails)
    assert await count(runtime, ProcessedEvent.event_id) == len(emails)
    assert worker.dispatcher.outcomes["processed"] == len(emails)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("broker_runtime", BROKERS, indirect=True)
async def test_smtp_refusing_for_a_while_delivers_after_retries(
    broker_runtime: Runtime, smtp: SmtpServer
) -> None:
    runtime = broker_runtime
    smtp.inbox.refusals_left = 2  # the first attempt and the first retry are refused
    [address] = await record_signups(runtime, 1, locale="ko")
    worker = BrokerWorker(runtime, CONSUMERS)
    await worker.start()
    try:
        await wait_until(lambda: len(smtp.inbox) == 1, "the e-mail after two refusals")
    finally:
        await worker.stop()
    assert smtp.inbox.refused == 2
    assert worker.dispatcher.outcomes["retry"] == 2
    [message] = smtp.inbox.to(address)
    assert "환영합니다" in str(message["Subject"])  # Korean, as the user signed up in
    assert "가입이 완료되었습니다" in message.get_body(("plain",)).get_content()
    assert "<strong>" in message.get_body(("html",)).get_content()
