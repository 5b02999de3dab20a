"""Reading the outbox and the retry schedule: in order per aggregate, claimed by one worker.

On PostgreSQL and MariaDB a batch is claimed with ``SELECT ... FOR UPDATE SKIP LOCKED``,
so several workers relay at once without taking the same rows; on SQLite
``BEGIN IMMEDIATE`` makes the claiming transaction the only writer. A claimed row is
handed on only when no older unpublished row of its aggregate is left outside the batch
(another worker's claim, or a transaction that committed late): order per aggregate
holds across workers. Rows are marked published in the claiming transaction, after the
sink (the broker, or the in-process consumers) accepted them; a crash in between hands
them on again, and consumers drop the duplicate by event id.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.platform.db import backend_name
from boxoffice.platform.messaging.envelope import Envelope
from boxoffice.platform.messaging.models import ScheduledRetry
from boxoffice.platform.outbox import OutboxMessage

if TYPE_CHECKING:
    from boxoffice.platform.runtime import Runtime

EnvelopeSink = Callable[[Envelope], Awaitable[None]]
RetrySink = Callable[[str, Envelope], Awaitable[None]]  # consumer name, envelope
BatchSink = Callable[[Sequence[Envelope]], Awaitable[None]]  # in order per aggregate
RELAY_CONCURRENCY = 32


def _ordered_chains(envelopes: Sequence[Envelope]) -> list[list[Envelope]]:
    chains: dict[str, list[Envelope]] = defaultdict(list)
    for envelope in envelopes:
        chains[envelope.aggregate_id].append(envelope)
    return list(chains.values())


async def hand_on(envelopes: Sequence[Envelope], sink: EnvelopeSink, concurrency: int) -> None:
    """Give ``envelopes`` to ``sink``: one after another within an aggregate, aggregates
    side by side (at most ``concurrency`` at once). Raises the first failure."""
    gate = asyncio.Semaphore(concurrency)

    async def run(chain: list[Envelope]) -> None:
        async with gate:
            for envelope in chain:
                await sink(envelope)

    await asyncio.gather(*(run(chain) for chain in _ordered_chains(envelopes)))


class OutboxReader:
    def __init__(self, runtime: Runtime, *, batch_size: int | None = None) -> None:
        self.runtime = runtime
        self.batch_size = batch_size or runtime.settings.relay_batch_size
        self.backend = backend_name(runtime.settings.database_url)
        # Publishes in flight at once (one connection each on Redis): bounded apart from
        # the consumers, whose concurrency grows with the handlers' latency.
        self.concurrency = min(runtime.settings.consumer_concurrency, RELAY_CONCURRENCY)

    @property
    def locks_rows(self) -> bool:
        return self.backend != "sqlite"

    def _claim(self, stmt: Select[Any]) -> Select[Any]:
        return stmt.with_for_update(skip_locked=True) if self.locks_rows else stmt

    async def _in_order(
        self, session: AsyncSession, rows: Sequence[OutboxMessage]
    ) -> list[OutboxMessage]:
        """The rows of the batch no older unpublished row of the same aggregate precedes."""
        aggregates = {row.aggregate_id for row in rows}
        last_seq = max(row.seq for row in rows)
        pending: dict[str, list[int]] = defaultdict(list)
        result = await session.execute(
            select(OutboxMessage.aggregate_id, OutboxMessage.seq)
            .where(
                OutboxMessage.published_at.is_(None),
                OutboxMessage.aggregate_id.in_(aggregates),
                OutboxMessage.seq <= last_seq,
            )
            .order_by(OutboxMessage.seq)
        )
        for aggregate_id, seq in result.all():
            pending[aggregate_id].append(seq)
        mine: dict[str, list[OutboxMessage]] = defaultdict(list)
        for row in rows:
            mine[row.aggregate_id].append(row)
        ready: list[OutboxMessage] = []
        for aggregate_id, claimed in mine.items():
            for row, expected in zip(claimed, pending[aggregate_id], strict=False):
                if row.seq != expected:
                    break
                ready.append(row)
        ready.sort(key=lambda row: row.seq)
        return ready

    async def relay_batch(self, sink: EnvelopeSink, *, publish_all: BatchSink | None = None) -> int:
        """Claim the oldest unpublished rows, hand them to ``sink`` in order per aggregate
        (or all at once, in order, to ``publish_all``), mark them published. Returns how
        many were handed on."""
        async with self.runtime.sessions() as session, session.begin():
            stmt = (
                select(OutboxMessage)
                .where(OutboxMessage.published_at.is_(None))
                .order_by(OutboxMessage.seq)
                .limit(self.batch_size)
            )
            rows: list[OutboxMessage] = list((await session.execute(self._claim(stmt))).scalars())
            if not rows:
                return 0
            ready = await self._in_order(session, rows)
            if not ready:
                return 0
            envelopes = [Envelope.from_outbox(r) for r in ready]
            if publish_all is not None:
                await publish_all(envelopes)
            else:
                await hand_on(envelopes, sink, self.concurrency)
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.seq.in_([r.seq for r in ready]))
                .values(published_at=self.runtime.clock.now())
            )
        return len(ready)

    async def consume_batch_in_process(self, sink: EnvelopeSink) -> int:
        """Embedded run: hand the oldest unpublished rows to in-process consumers.

        Servers keep the claim (row locks) while the consumers run; SQLite has one
        writer, so the rows are read, consumed and then marked in short transactions
        (one embedded process reads the outbox).
        """
        if self.locks_rows:
            return await self.relay_batch(sink)
        async with self.runtime.sessions() as session:
            rows = list(
                (
                    await session.execute(
                        select(OutboxMessage)
                        .where(OutboxMessage.published_at.is_(None))
                        .order_by(OutboxMessage.seq)
                        .limit(self.batch_size)
                    )
                ).scalars()
            )
            envelopes = [Envelope.from_outbox(r) for r in rows]
            seqs = [r.seq for r in rows]
        if not rows:
            return 0
        await hand_on(envelopes, sink, self.concurrency)
        async with self.runtime.sessions() as session, session.begin():
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.seq.in_(seqs))
                .values(published_at=self.runtime.clock.now())
            )
        return len(rows)

    async def pump_retries(self, sink: RetrySink, *, hold_claim: bool) -> int:
        """Hand due retries to ``sink`` (the retry topic, or the consumer in-process) and
        drop them, unless the attempt failed again and was rescheduled meanwhile."""
        now = self.runtime.clock.now()
        stmt = (
            select(ScheduledRetry)
            .where(ScheduledRetry.due_at <= now)
            .order_by(ScheduledRetry.due_at)
            .limit(self.batch_size)
        )
        if hold_claim and self.locks_rows:
            async with self.runtime.sessions() as session, session.begin():
                rows = list(
                    (await session.execute(stmt.with_for_update(skip_locked=True))).scalars()
                )
                for row in rows:
                    await sink(row.consumer, Envelope.from_retry(row))
                await self._drop(session, [(row.id, row.attempt) for row in rows])
            return len(rows)
        async with self.runtime.sessions() as session:
            rows = list((await session.execute(stmt)).scalars())
            due = [(row.consumer, Envelope.from_retry(row), row.id, row.attempt) for row in rows]
        for consumer, envelope, _, _ in due:
            await sink(consumer, envelope)
        if due:
            async with self.runtime.sessions() as session, session.begin():
                await self._drop(session, [(row_id, attempt) for _, _, row_id, attempt in due])
        return len(due)

    @staticmethod
    async def _drop(session: AsyncSession, rows: Sequence[tuple[str, int]]) -> None:
        for row_id, attempt in rows:
            await session.execute(
                delete(ScheduledRetry).where(
                    ScheduledRetry.id == row_id, ScheduledRetry.attempt == attempt
                )
            )
