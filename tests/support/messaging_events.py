"""A test-only domain event and consumer that count their effects."""

from __future__ import annotations

from dataclasses import dataclass, field

from boxoffice.platform.events import DomainEvent
from boxoffice.platform.messaging import Consumer, Delivery


@dataclass(frozen=True, kw_only=True)
class SeatCounted(DomainEvent):
    """The n-th event of one aggregate (order matters within it)."""

    context, name = "test", "SeatCounted"
    show_id: str
    n: int

    @property
    def aggregate_id(self) -> str:
        return self.show_id


@dataclass
class Tally:
    """What a consumer saw, in the order it saw it."""

    seen: list[tuple[str, int]] = field(default_factory=list)

    def consumer(self, name: str = "test.tally") -> Consumer[SeatCounted]:
        async def handle(event: SeatCounted, delivery: Delivery) -> None:
            self.seen.append((event.show_id, event.n))

        return Consumer(name, SeatCounted, handle)
