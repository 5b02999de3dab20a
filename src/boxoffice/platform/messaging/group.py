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
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from boxoffice.platform.messaging.consumers import AnyConsumer
from boxoffice.platform.messaging.decoding import Incoming
from boxoffice.platform.messaging.delivery import Delivery
from boxoffice.platform.messaging.failures import Failures
from boxoffice.platform.messaging.models import ProcessedEvent

if TYPE_CHECKING:
    from boxoffice.platform.runtime import Runtime

GROUP_MAX = 256  # events per transaction
REGROUPS = 3  # failing handlers taken out one at a time before going one by one
Outcome = str | Exception  # an exception: the delivery was not recorded; redeliver it
DeliverAlone = Callable[[AnyConsumer, Incoming], Awaitable[str]]


class _HandlerFailed(Exception):
    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.position = position


async def _attempt(
    runtime: Runtime, consumer: AnyConsumer, incoming: Sequence[Incoming]
) -> list[str]:
    """Run every handler of the group on one unit of work and commit once."""
    async with runtime.uow() as uow:
        ids = [item.event_id for item in incoming]
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
        for position, item in enumerate(incoming):
            if item.event_id in done:  # processed before, or twice in this group
                outcomes.append("duplicate")
                continue
            done.add(item.event_id)
            delivery = Delivery(runtime, consumer, item.envelope, uow, event=item.event)
            try:
                await consumer.handler(item.event, delivery)
                if not delivery.recorded:
                    await delivery.commit(uow)
            except Exception as exc:
                raise _HandlerFailed(position) from exc
            outcomes.append("processed")
        await uow.commit()
    return outcomes


class GroupRunner:
    """Runs groups of one runtime's consumers; a delivery taken out goes to ``alone``."""

    def __init__(self, runtime: Runtime, failures: Failures, alone: DeliverAlone) -> None:
        self.runtime = runtime
        self.failures = failures
        self.alone = alone

    async def _alone(self, consumer: AnyConsumer, item: Incoming) -> Outcome:
        try:
            return await self.alone(consumer, item)
        except Exception as exc:
            return exc

    async def run(self, consumer: AnyConsumer, incoming: Sequence[Incoming]) -> list[Outcome]:
        """Deliver ``incoming`` in one transaction; their outcomes, in order.

        A handler that raises rolls the group back: that event is delivered alone (its
        failure retried or dead-lettered by the dispatcher) and the rest run again as a
        group. After ``REGROUPS`` such failures, or when the commit itself fails (a
        concurrent delivery recorded one of the events first), each event goes its own way.
        """
        left = list(enumerate(incoming))
        results: dict[int, Outcome] = {}
        for _ in range(REGROUPS + 1):
            if not left:
                break
            try:
                outcomes = await _attempt(self.runtime, consumer, [item for _, item in left])
            except _HandlerFailed as failed:
                index, item = left.pop(failed.position)
                results[index] = await self._alone(consumer, item)
                continue
            except Exception:
                break
            for (index, item), outcome in zip(left, outcomes, strict=True):
                if item.envelope.retried and outcome == "processed":
                    await self.failures.resolve_dead_letter_quietly(consumer, item.envelope)
                results[index] = outcome
            left = []
        for index, item in left:  # one by one
            results[index] = await self._alone(consumer, item)
        return [results[index] for index in range(len(incoming))]


class GroupCommit:
    """Deliveries of one consumer waiting at the same moment commit together.

    The first waiting delivery leads: it takes everything queued (up to ``GROUP_MAX``),
    runs the group and hands each delivery its outcome.
    """

    def __init__(self, runner: GroupRunner, consumer: AnyConsumer) -> None:
        self.runner = runner
        self.consumer = consumer
        self.waiting: list[tuple[Incoming, asyncio.Future[str]]] = []
        self.lock = asyncio.Lock()

    async def submit(self, item: Incoming) -> str:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.waiting.append((item, future))
        async with self.lock:
            if not future.done():
                await asyncio.sleep(0)  # let the deliveries arriving together queue up
                group, self.waiting = self.waiting[:GROUP_MAX], self.waiting[GROUP_MAX:]
                try:
                    outcomes = await self.runner.run(self.consumer, [i for i, _ in group])
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
