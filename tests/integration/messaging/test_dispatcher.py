"""The dispatcher on the database alone: group commit, duplicates, one bad event in a group."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from boxoffice.platform.config import Settings
from boxoffice.platform.messaging import (
    AlreadyProcessed,
    Consumer,
    Delivery,
    Dispatcher,
    Envelope,
)
from boxoffice.platform.messaging.models import ProcessedEvent, ScheduledRetry
from boxoffice.platform.runtime import Runtime, build_runtime
from tests.conftest import BACKENDS
from tests.support.messaging_events import SeatCounted


def envelope(n: int) -> Envelope:
    return Envelope(
        event_id=str(uuid.uuid4()),
        topic="boxoffice.test.SeatCounted",
        event_type="SeatCounted",
        version=1,
        aggregate_id=f"show-{n % 5}",
        payload={"show_id": f"show-{n % 5}", "n": n},
        occurred_at=datetime.now(UTC),
    )


async def processed_ids(runtime: Runtime, consumer: str) -> set[str]:
    """The event ids recorded as processed by ``consumer``."""
    query = select(ProcessedEvent.event_id).where(ProcessedEvent.consumer == consumer)
    async with runtime.uow(read_only=True) as uow:
        return set((await uow.session.execute(query)).scalars())


@pytest.mark.parametrize("backend", BACKENDS)
async def test_group_commit_processes_each_event_once_and_isolates_a_failing_one(
    make_settings: Callable[..., Settings],
) -> None:
    runtime = build_runtime(make_settings(retry_delays_seconds=[60]))
    effects: list[int] = []
    poisoned = envelope(13)

    async def handle(event: SeatCounted, delivery: Delivery) -> None:
        if delivery.event_id == poisoned.event_id:
            raise ValueError("cannot handle this one")
        effects.append(event.n)

    consumer = Consumer("test.grouped", SeatCounted, handle, group_commit=True)
    dispatcher = Dispatcher(runtime)
    batch = [envelope(n) for n in range(60)] + [poisoned]
    try:
        # Every event delivered twice, all at once (a broker redelivering while relaying).
        outcomes = await asyncio.gather(*(dispatcher.deliver(consumer, e) for e in batch + batch))
        assert outcomes.count("processed") == 60  # each good event once in effect
        assert outcomes.count("processed") + outcomes.count("duplicate") >= 120
        assert set(effects) == set(range(60))  # (rolled-back group attempts may repeat)
        processed = await processed_ids(runtime, "test.grouped")
        async with runtime.uow() as uow:
            retries = list((await uow.session.execute(select(ScheduledRetry.event_id))).scalars())
        assert processed == {e.event_id for e in batch[:60]}
        assert retries == [poisoned.event_id]
    finally:
        await runtime.close()


async def test_pruning_forgets_old_processed_ids_but_not_claims(
    make_settings: Callable[..., Settings],
) -> None:
    from datetime import timedelta

    from boxoffice.platform.messaging.housekeeping import prune_processed_events

    runtime = build_runtime(make_settings(processed_event_retention_days=30))
    now = runtime.clock.now()
    try:
        async with runtime.uow() as uow:
            for age_days, claim in ((40, None), (40, "claim-of-a-live-delivery"), (5, None)):
                uow.session.add(
                    ProcessedEvent(
                        consumer="test.pruned",
                        event_id=str(uuid.uuid4()),
                        processed_at=now - timedelta(days=age_days),
                        claim=claim,
                    )
                )
            await uow.commit()
        assert await prune_processed_events(runtime) == 1
        async with runtime.uow() as uow:
            left = list((await uow.session.execute(select(ProcessedEvent.claim))).scalars())
        assert sorted(left, key=str) == sorted([None, "claim-of-a-live-delivery"], key=str)
    finally:
        await runtime.close()


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
async def test_an_outside_act_comes_between_writing_its_record_and_committing_it(
    make_settings: Callable[..., Settings],
) -> None:
    """On a server only the COMMIT follows the act (a crash there re-acts once)."""
    runtime = build_runtime(make_settings())
    consumer = Consumer("test.mailer", SeatCounted, _no_op, acts_outside_db=True)
    dispatcher = Dispatcher(runtime)
    seen_during_act: list[str | None] = []

    async def claim_of(event_id: str) -> str | None:
        async with runtime.uow() as uow:  # another transaction: sees committed rows only
            row = await uow.session.get(ProcessedEvent, (consumer.name, event_id))
            assert row is not None
            return row.claim

    async def act() -> None:
        seen_during_act.append(await claim_of(sent.event_id))

    sent, lost = Delivery(runtime, consumer, envelope(1)), Delivery(runtime, consumer, envelope(2))
    try:
        for delivery in (sent, lost):
            assert await dispatcher._claim(delivery) is None
        async with sent.uow() as uow:
            await sent.commit_after(uow, act)
        assert seen_during_act == [sent.claim]  # written, not yet committed, while acting
        assert await claim_of(sent.event_id) is None  # committed right after: processed

        # The other delivery outlived its claim and another worker took the event over.
        async with runtime.uow() as uow:
            row = await uow.session.get(ProcessedEvent, (consumer.name, lost.event_id))
            assert row is not None
            row.claim = "taken-over-by-another-worker"
            await uow.commit()
        with pytest.raises(AlreadyProcessed):
            async with lost.uow() as uow:
                await lost.commit_after(uow, act)
        assert len(seen_during_act) == 1  # it did not act
    finally:
        await runtime.close()


async def _no_op(event: SeatCounted, delivery: Delivery) -> None:
    """A handler that is never run (the tests call the delivery directly)."""


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_consumer_that_does_not_apply_is_skipped_without_a_claim_or_a_record(
    make_settings: Callable[..., Settings],
) -> None:
    """``applies`` answers False → no claim, no processed id, no handler; True → handled
    once as usual (and a redelivery of the skipped event is asked again)."""
    runtime = build_runtime(make_settings())
    handled: list[int] = []
    wanted = {0, 2}

    async def applies(event: SeatCounted, _runtime: object) -> bool:
        return event.n in wanted

    async def handle(event: SeatCounted, delivery: Delivery) -> None:
        handled.append(event.n)
        async with delivery.uow() as uow:
            await delivery.commit(uow)

    consumer = Consumer("test.applies", SeatCounted, handle, acts_outside_db=True, applies=applies)
    dispatcher = Dispatcher(runtime)
    events = [envelope(n) for n in range(4)]
    try:
        outcomes = [await dispatcher.deliver(consumer, e) for e in events]
        assert outcomes == ["processed", "skipped", "processed", "skipped"]
        assert handled == [0, 2]
        recorded = await processed_ids(runtime, "test.applies")
        assert recorded == {events[0].event_id, events[2].event_id}
        wanted.add(1)  # the state changed: the skipped event, redelivered, is handled
        assert await dispatcher.deliver(consumer, events[1]) == "processed"
        assert await dispatcher.deliver(consumer, events[0]) == "duplicate"
        assert handled == [0, 2, 1]
    finally:
        await runtime.close()


def test_a_group_commit_consumer_cannot_skip_by_applies() -> None:
    async def applies(_event: SeatCounted, _runtime: object) -> bool:
        return False

    async def handle(_event: SeatCounted, _delivery: Delivery) -> None:
        return None

    with pytest.raises(ValueError, match="group-commit"):
        Consumer("test.grouped_applies", SeatCounted, handle, group_commit=True, applies=applies)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_handlers_reads_wait_for_no_writer(make_settings: Callable[..., Settings]) -> None:
    """``delivery.uow(read_only=True)`` reads in a read-only unit of work: with a writer holding
    SQLite's write lock (here, in the same task), the read still goes through instead of
    queueing behind it (which, in one task, would never end)."""
    runtime = build_runtime(make_settings())

    async def handle(_event: SeatCounted, _delivery: Delivery) -> None:
        return None

    delivery = Delivery(runtime, Consumer("test.reads", SeatCounted, handle), envelope(1))
    try:
        async with runtime.uow() as writer:
            writer.session.add(
                ProcessedEvent(consumer="test.reads", event_id="e1", processed_at=datetime.now(UTC))
            )
            await writer.session.flush()  # the write lock is taken
            async with asyncio.timeout(30), delivery.uow(read_only=True) as uow:
                seen = await uow.session.scalar(select(func.count(ProcessedEvent.event_id)))
            assert seen == 0  # the writer's row is not committed yet
            await writer.commit()
    finally:
        await runtime.close()
