"""Dead letters: deliveries that failed for good, listed for admins and retried on request."""

from __future__ import annotations

from sqlalchemy import delete, select

from boxoffice.platform import listing
from boxoffice.platform.errors import Conflict, NotFound
from boxoffice.platform.ids import new_id
from boxoffice.platform.messaging.models import DeadLetter, ProcessedEvent, ScheduledRetry
from boxoffice.platform.uow import UnitOfWork

STATUSES = ("dead", "retrying", "resolved")


class DeadLetterNotRetryable(Conflict):
    code, title = "conflict", "Dead letter is not waiting for a retry"


async def list_dead_letters(
    uow: UnitOfWork,
    *,
    status: str | None = "dead",
    kind: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[DeadLetter], str | None]:
    """Newest first; ``cursor`` is the id of the last item of the previous page."""
    stmt = listing.where_given(
        select(DeadLetter), (DeadLetter.status, status), (DeadLetter.kind, kind)
    )
    return await listing.keyset_page(uow, stmt, DeadLetter.id, cursor, limit, newest_first=True)


async def retry_dead_letter(uow: UnitOfWork, dead_letter_id: str, *, admin_id: str) -> DeadLetter:
    """Schedule the failed delivery again at once, with a fresh set of retries.

    Raises ``NotFound`` for an unknown id and ``Conflict`` when it is already being
    retried or was resolved. Commits.
    """
    letter = await uow.session.get(DeadLetter, dead_letter_id, with_for_update=True)
    if letter is None:
        raise NotFound("No dead letter with this id.")
    if letter.status != "dead":
        raise DeadLetterNotRetryable(
            f"This dead letter is {letter.status}.", dead_letter_status=letter.status
        )
    now = uow.clock.now()
    letter.retried_at, letter.retried_by = now, admin_id
    done = await uow.session.get(ProcessedEvent, (letter.consumer, letter.event_id))
    if done is not None and done.claim is None:  # handled meanwhile (a late redelivery)
        letter.status = "resolved"
        await uow.commit()
        return letter
    letter.status = "retrying"
    await uow.session.execute(
        delete(ScheduledRetry).where(
            ScheduledRetry.consumer == letter.consumer, ScheduledRetry.event_id == letter.event_id
        )
    )
    uow.session.add(
        ScheduledRetry(
            id=new_id(),
            consumer=letter.consumer,
            attempt=1,
            due_at=now,
            last_error=letter.last_error,
            **letter.stored_event(),
        )
    )
    await uow.commit()
    return letter
