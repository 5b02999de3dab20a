"""Consumers: a named handler of one event class, and what a handler may raise.

A consumer subscribes to a ``DomainEvent`` subclass (its topic is the event's); the
platform decodes each delivery's payload into that class once and hands the handler the
typed event with its :class:`~boxoffice.platform.messaging.delivery.Delivery`. The
dispatcher (``dispatcher.py``) makes the handling idempotent, retried and dead-lettered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from boxoffice.platform.events import DomainEvent

if TYPE_CHECKING:
    from boxoffice.platform.messaging.delivery import Delivery
    from boxoffice.platform.runtime import Runtime

E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[E, "Delivery"], Awaitable[None]]
Applies = Callable[[E, "Runtime"], Awaitable[bool]]
RETRY_TOPIC_PREFIX = "boxoffice.retry."


@dataclass(frozen=True)
class Consumer(Generic[E]):
    """``name`` is stable (it keys processed ids, broker groups and dead letters)."""

    name: str  # e.g. "notifications.welcome_email"
    event: type[E]  # e.g. UserRegistered: the topic, and what the payload is decoded into
    handler: Handler[E]
    kind: str = "event"  # what a dead letter of this consumer is: "event" or "email"
    # The handler acts outside the database (sends an e-mail, calls a provider): the event
    # is claimed first, so two deliveries never act at once. Database-only handlers skip
    # the claim: their processed id is inserted in their own transaction.
    acts_outside_db: bool = False
    # The handler works only through ``delivery.uow()``/``delivery.commit()`` and its
    # services do not commit on their own: deliveries arriving together share one
    # transaction (group commit), falling back to one by one if any of them fails.
    group_commit: bool = False
    # A cheap read-only test of whether the handler has anything to do with this event
    # now. When it answers False the delivery ends there ("skipped"): no claim, no
    # processed id, no handler. Only for a handler that would itself do nothing in that
    # state, so that doing nothing again on a redelivery is harmless (e.g. "refund this
    # order if its show is cancelled": while the show is on, nothing to refund).
    applies: Applies[E] | None = None

    def __post_init__(self) -> None:
        if self.applies is not None and self.grouped:
            raise ValueError(f"{self.name}: a group-commit consumer cannot skip by applies")

    @property
    def topic(self) -> str:
        return f"boxoffice.{self.event.context}.{self.event.name}"

    @property
    def retry_topic(self) -> str:
        return f"{RETRY_TOPIC_PREFIX}{self.name}"

    @property
    def grouped(self) -> bool:
        """Deliveries share transactions (group commit)."""
        return self.group_commit and not self.acts_outside_db


AnyConsumer = Consumer[Any]


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help: the delivery is dead-lettered at once."""


class UndecodableEvent(PermanentFailure):
    """The message or its payload cannot be read as the consumer's event class."""


class AlreadyProcessed(Exception):
    """Another delivery of the same event won the race to record it."""


class DeliveryBusy(Exception):
    """Another delivery holds the claim on this event right now: let the broker redeliver."""
