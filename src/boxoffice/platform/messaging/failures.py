"""What becomes of a delivery that failed: a retry after a growing delay, then a dead letter."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from boxoffice.platform.ids import new_id
from boxoffice.platform.jsonutil import dumps
from boxoffice.platform.messaging.consumers import AnyConsumer, PermanentFailure
from boxoffice.platform.messaging.envelope import Envelope
from boxoffice.platform.messaging.models import DeadLetter, ProcessedEvent, ScheduledRetry
from boxoffice.platform.uow import UnitOfWork

if TYPE_CHECKING:
    from boxoffice.platform.runtime import Runtime

log = structlog.get_logger("boxoffice.messaging")


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


class Failures:
    """Schedules retries and records dead letters of one runtime's consumers."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def failed(
        self, consumer: AnyConsumer, envelope: Envelope, exc: Exception, *, claim: str | None
    ) -> str:
        """``retry`` (scheduled after the attempt's delay) or ``dead`` (out of attempts, or a
        :class:`PermanentFailure`); gives up ``claim`` in the same transaction."""
        attempt = envelope.attempt
        delays = list(self.runtime.settings.retry_delays_seconds)
        fields = {"consumer": consumer.name, "event_id": envelope.event_id, "attempt": attempt}
        if not isinstance(exc, PermanentFailure) and attempt <= len(delays):
            due = self.runtime.clock.now() + timedelta(seconds=delays[attempt - 1])
            log.warning("consumer_failed_retry_scheduled", **fields, error=error_text(exc))
            await self.schedule_retry(
                consumer, envelope, attempt + 1, due, error_text(exc), claim=claim
            )
            return "retry"
        log.error("consumer_failed_dead_lettered", **fields, error=error_text(exc))
        await self.dead_letter(consumer, envelope, error_text(exc), claim=claim)
        return "dead"

    async def _release(
        self, uow: UnitOfWork, consumer: AnyConsumer, event_id: str, claim: str
    ) -> None:
        await uow.session.execute(
            delete(ProcessedEvent).where(
                ProcessedEvent.consumer == consumer.name,
                ProcessedEvent.event_id == event_id,
                ProcessedEvent.claim == claim,
            )
        )

    async def schedule_retry(
        self,
        consumer: AnyConsumer,
        envelope: Envelope,
        attempt: int,
        due: datetime,
        error: str,
        *,
        claim: str | None = None,
    ) -> None:
        """Upsert the one pending retry of (consumer, event); give up ``claim``."""
        async with self.runtime.uow() as uow:
            if claim is not None:
                await self._release(uow, consumer, envelope.event_id, claim)
            result = await uow.session.execute(
                update(ScheduledRetry)
                .where(
                    ScheduledRetry.consumer == consumer.name,
                    ScheduledRetry.event_id == envelope.event_id,
                )
                .values(attempt=attempt, due_at=due, last_error=error)
            )
            if getattr(result, "rowcount", 0) == 0:
                uow.session.add(
                    ScheduledRetry(
                        id=new_id(),
                        consumer=consumer.name,
                        attempt=attempt,
                        due_at=due,
                        last_error=error,
                        **_copied(envelope),
                    )
                )
            try:
                await uow.commit()
            except IntegrityError:
                await uow.rollback()  # a concurrent failure of the same event scheduled it

    async def dead_letter(
        self, consumer: AnyConsumer, envelope: Envelope, error: str, *, claim: str | None = None
    ) -> None:
        """Record (or re-open) the dead letter of (consumer, event); drop its pending retry."""
        async with self.runtime.uow() as uow:
            now = uow.clock.now()
            if claim is not None:
                await self._release(uow, consumer, envelope.event_id, claim)
            await uow.session.execute(
                delete(ScheduledRetry).where(
                    ScheduledRetry.consumer == consumer.name,
                    ScheduledRetry.event_id == envelope.event_id,
                )
            )
            existing = (
                await uow.session.execute(
                    select(DeadLetter).where(
                        DeadLetter.consumer == consumer.name,
                        DeadLetter.event_id == envelope.event_id,
                    )
                )
            ).scalar_one_or_none()
            if existing is not None:
                existing.status = "dead"
                existing.attempts += envelope.attempt
                existing.last_error = error
                existing.failed_at = now
            else:
                uow.session.add(
                    DeadLetter(
                        id=new_id(),
                        kind=consumer.kind,
                        consumer=consumer.name,
                        attempts=envelope.attempt,
                        last_error=error,
                        status="dead",
                        failed_at=now,
                        **_copied(envelope),
                    )
                )
            try:
                await uow.commit()
            except IntegrityError:
                await uow.rollback()  # a concurrent delivery dead-lettered it first

    async def resolve_dead_letter(self, consumer: AnyConsumer, envelope: Envelope) -> None:
        """A retried event was processed: its dead letter (if an admin retried it) is resolved."""
        async with self.runtime.uow() as uow:
            await uow.session.execute(
                update(DeadLetter)
                .where(
                    DeadLetter.consumer == consumer.name,
                    DeadLetter.event_id == envelope.event_id,
                    DeadLetter.status == "retrying",
                )
                .values(status="resolved")
            )
            await uow.commit()

    async def resolve_dead_letter_quietly(self, consumer: AnyConsumer, envelope: Envelope) -> None:
        """As :meth:`resolve_dead_letter`; a failure is logged (the event itself is processed)."""
        try:
            await self.resolve_dead_letter(consumer, envelope)
        except Exception:
            log.exception("dead_letter_not_resolved", consumer=consumer.name)


def _copied(envelope: Envelope) -> dict[str, object]:
    """The envelope's columns shared by retries and dead letters."""
    return {
        "event_id": envelope.event_id,
        "topic": envelope.topic,
        "event_type": envelope.event_type,
        "version": envelope.version,
        "aggregate_id": envelope.aggregate_id,
        "payload": dumps(envelope.payload).decode(),
        "occurred_at": envelope.occurred_at,
    }
