"""merch's rules in plain Python: product status, order lines, stock adjustments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum

MAX_UNITS_PER_LINE = 100
MAX_LINES = 20


class ProductStatus(StrEnum):
    ON_SALE = "on_sale"
    SOLD_OUT = "sold_out"  # set by the seller (sale stopped) or shown when no variant has stock
    HIDDEN = "hidden"  # visible to its seller only; cannot be bought


class ReservationStatus(StrEnum):
    RESERVED = "reserved"  # stock taken for a pending order
    CONSUMED = "consumed"  # the order was paid
    RELEASED = "released"  # the order expired or failed: stock given back
    RETURNED = "returned"  # the paid order was cancelled: stock given back


def shown_status(stored: str, stocks: Iterable[int]) -> ProductStatus:
    """What buyers see: a product on sale with no unit left in any variant is sold out.

    Derived on read, so the hot path (reservations) never writes the product row and
    returned stock puts a product back on sale by itself.
    """
    status = ProductStatus(stored)
    if status is ProductStatus.ON_SALE and not any(stock > 0 for stock in stocks):
        return ProductStatus.SOLD_OUT
    return status


def order_lines(items: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """Order lines merged by SKU and sorted by SKU (the lock order of every stock change).

    Raises ``ValueError`` naming the problem for empty SKUs, non-positive or too large
    quantities, or too many lines.
    """
    merged: dict[str, int] = {}
    for sku, quantity in items:
        if not isinstance(sku, str) or not sku.strip():
            raise ValueError("every item needs a sku")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ValueError(f"quantity of {sku} must be a positive whole number")
        merged[sku] = merged.get(sku, 0) + quantity
    if len(merged) > MAX_LINES:
        raise ValueError(f"at most {MAX_LINES} different goods per order")
    for sku, quantity in merged.items():
        if quantity > MAX_UNITS_PER_LINE:
            raise ValueError(f"at most {MAX_UNITS_PER_LINE} units of {sku} per order")
    return sorted(merged.items())


def stock_after(current: int, delta: int) -> int:
    """The stock after an adjustment; ``ValueError`` when it would go below zero."""
    if delta == 0:
        raise ValueError("delta must not be zero")
    after = current + delta
    if after < 0:
        raise ValueError(f"only {current} in stock; cannot remove {-delta}")
    return after


def within_limit(already: int, requested: int, limit: int | None) -> bool:
    """Whether ``requested`` more units keep a user within a per-user product limit."""
    return limit is None or already + requested <= limit
