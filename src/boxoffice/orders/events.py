"""Events orders publishes."""

from __future__ import annotations

from dataclasses import dataclass, field

from boxoffice.platform.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class OrderPaid(DomainEvent):
    context, name = "orders", "OrderPaid"
    order_id: str
    user_id: str
    amount: int
    currency: str
    show_id: str | None
    ticket_ids: list[str] = field(default_factory=list)
    seller_id: str | None = None  # whose sale it is (their webhooks hear of it)

    @property
    def aggregate_id(self) -> str:
        return self.order_id


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(DomainEvent):
    """A paid order was refunded (``fee`` kept) or a pending one given up (nothing paid)."""

    context, name = "orders", "OrderCancelled"
    order_id: str
    user_id: str
    refund_amount: int
    fee: int
    currency: str
    reason: str
    seller_id: str | None = None
    # A refund of some lines (``positions``) leaves the order paid: ``partial``.
    refund_id: str | None = None
    partial: bool = False
    positions: tuple[int, ...] = ()
    # Fees kept at earlier refunds of the order and given back in this one (show cancelled).
    fee_returned: int = 0
    show_id: str | None = None  # of a refund's order of seats

    @property
    def aggregate_id(self) -> str:
        return self.order_id


@dataclass(frozen=True, kw_only=True)
class OrderFailed(DomainEvent):
    context, name = "orders", "OrderFailed"
    order_id: str
    user_id: str
    reason: str

    @property
    def aggregate_id(self) -> str:
        return self.order_id


@dataclass(frozen=True, kw_only=True)
class OrderExpired(DomainEvent):
    context, name = "orders", "OrderExpired"
    order_id: str
    user_id: str

    @property
    def aggregate_id(self) -> str:
        return self.order_id
