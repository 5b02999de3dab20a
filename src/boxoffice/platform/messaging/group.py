"""Group commit: deliveries of one database-only consumer share one transaction.

A durable commit costs a round trip and an fsync; events that arrive together (a batch
read from the broker, or deliveries waiting at the same moment) are handled on one unit
of work and commit once, their processed ids inserted in that same transaction. A
handler that fails is taken out of the group and delivered alone (retried or
dead-lettered); the others run again as a group, so one bad event neither loses nor
applies twice the events committed with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from boxoffice.platform.messaging.envelope import Envelope
from boxoffice.platform.messaging.models import ProcessedEvent

if TYPE_CHECKING:
    from boxoffice.platform.messaging.consumers import Consumer, Dispatcher

GROUP_MAX = 256  # events per transaction
REGROUPS = 3  # failing handlers taken out one at a time before going one by one
Outcome = str | Exception  # an exception: the delivery was not recorded; redeliver it


class _HandlerFailed(Exception):
    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.position = position


async def _attempt(
    dispatcher: Dispatcher, consumer: Consumer, envelopes: Sequence[Envelope]
) -> list[str]:
    """Run every handler of the group on one unit of work and commit once."""
    from boxoffice.platform.messaging.consumers import Delivery

    runtime = dispatcher.runtime
    async with runtime.uow() as uow:
        ids = [envelope.event_id for envelope in envelopes]
        done = set(
            (
                await uow.session.execute(
                    select(ProcessedEvent.event_id).where(
                        ProcessedEvent.consumer == consumer.name,
                        ProcessedEvent.event_id.in_(ids),
                    )
                )
            ).scalars()
        )
        outcomes: list[str] = []
        for position, envelope in enumerate(envelopes):
            if envelope.event_id in done:  # processed before, or twice in this group
                outcomes.append("duplicate")
                continue
            done.add(envelope.event_id)
            delivery = Delivery(runtime, consumer, envelope, shared=uow)
            try:
                await consumer.handler(delivery)
                if not delivery.recorded:
                    await delivery.commit(uow)
            except Exception as exc:
                raise _HandlerFailed(position) from exc
            outcomes.append("processed")
        await uow.commit()
    return outcomes


async def _alone(dispatcher: Dispatcher, consumer: Consumer, envelope: Envelope) -> Outcome:
    try:
        return await dispatcher._deliver(consumer, envelope)
    except Exception as exc:
        return exc


async def run_group(
    dispatcher: Dispatcher, consumer: Consumer, envelopes: Sequence[Envelope]
) -> list[Outcome]:
    """Deliver ``envelopes`` in one transaction; their outcomes, in order.

    A handler that raises rolls the group back: that event is delivered alone (its
    failure retried or dead-lettered by the dispatcher) and the rest run again as a
    group. After ``REGROUPS`` such failures, or when the commit itself fails (a
    concurrent delivery recorded one of the events first), each event goes its own way.
    """
    left = list(enumerate(envelopes))
    results: dict[int, Outcome] = {}
    for _ in range(REGROUPS + 1):
        if not left:
            break
        try:
            outcomes = await _attempt(dispatcher, consumer, [e for _, e in left])
        except _HandlerFailed as failed:
            index, envelope = left.pop(failed.position)
            results[index] = await _alone(dispatcher, consumer, envelope)
            continue
        except Exception:
            break
        for (index, envelope), outcome in zip(left, outcomes, strict=True):
            if envelope.retried and outcome == "processed":
                await dispatcher.resolve_dead_letter_quietly(consumer, envelope)
            results[index] = outcome
        left = []
    for index, envelope in left:  # one by one
        results[index] = await _alone(dispatcher, consumer, envelope)
    return [results[index] for index in range(len(envelopes))]


class GroupCommit:
    """Deliveries of one consumer waiting at the same moment commit together.

    The first waiting delivery leads: it takes everything queued (up to ``GROUP_MAX``),
    runs the group and hands each delivery its outcome.
    """

    def __init__(self, dispatcher: Dispatcher, consumer: Consumer) -> None:
        self.dispatcher = dispatcher
        self.consumer = consumer
        self.waiting: list[tuple[Envelope, asyncio.Future[str]]] = []
        self.lock = asyncio.Lock()

    async def submit(self, envelope: Envelope) -> str:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.waiting.append((envelope, future))
        async with self.lock:
            if not future.done():
                await asyncio.sleep(0)  # let the deliveries arriving together queue up
                group, self.waiting = self.waiting[:GROUP_MAX], self.waiting[GROUP_MAX:]
                try:
                    outcomes = await run_group(
                        self.dispatcher, self.consumer, [e for e, _ in group]
                    )
                except BaseException:  # cancelled: nobody may wait forever
                    for _, waiting in group:
                        waiting.cancel()
                    raise
                for (_, waiting), outcome in zip(group, outcomes, strict=True):
                    if isinstance(outcome, Exception):
                        waiting.set_exception(outcome)
                    else:
                        waiting.set_result(outcome)
        return await future
