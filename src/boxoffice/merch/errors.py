"""merch's refusals (HTTP status and code come from the platform error kinds)."""

from __future__ import annotations

from boxoffice.platform.errors import Conflict, Forbidden, NotFound, Unprocessable


class ProductNotFound(NotFound):
    title = "Product not found"


class EventNotFound(NotFound):
    title = "Event not found"


class VariantNotFound(NotFound):
    title = "Variant not found"


class NotEventSeller(Forbidden):
    title = "Only the event's seller may do this"


class SkuTaken(Conflict):
    title = "SKU already in use"


class StockConflict(Conflict):
    title = "Stock cannot go below zero"


class EventClosed(Conflict):
    title = "The event is cancelled"


class OutOfStock(Unprocessable):
    """Not enough units of ``sku`` (extra member ``sku``, and ``available``)."""

    code, title = "out_of_stock", "Out of stock"


class PurchaseLimitExceeded(Unprocessable):
    code, title = "purchase_limit_exceeded", "Purchase limit exceeded"


class InvalidItems(Unprocessable):
    code, title = "validation_error", "Invalid order items"


class AlreadyReturned(Conflict):
    title = "The goods of this order were already returned"


class TooManyImages(Conflict):
    title = "Too many images"
