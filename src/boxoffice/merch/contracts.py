"""What other contexts may know of merch (plain data; no tables, no ORM).

Orders calls ``merch.service.reserve_items`` / ``release_items`` / ``consume_items`` /
``return_items`` and gets :class:`ReservedItem` lines back; bundles read
:class:`ProductSuggestion`; the delivery choice given with an order is a :class:`Delivery`
(orders stores ``delivery.to_dict()`` on the order and rebuilds it with ``Delivery.from_dict``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from boxoffice.platform.errors import Unprocessable

DeliveryMethod = Literal["pickup", "delivery"]
DELIVERY_METHODS: tuple[DeliveryMethod, ...] = ("pickup", "delivery")


@dataclass(frozen=True)
class ReservedItem:
    """One merch line of an order: ``quantity`` units of ``sku`` at ``unit_price``.

    ``status`` is the reservation's state after the call that returned it:
    ``reserved`` → ``consumed`` (paid) → ``returned`` (paid order cancelled), or
    ``reserved`` → ``released`` (order expired or failed).
    """

    reservation_id: str
    order_id: str
    sku: str
    product_id: str
    event_id: str
    name: str
    option: str
    quantity: int
    unit_price: int
    currency: str
    status: str

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class SuggestedVariant:
    sku: str
    option: str
    in_stock: bool


@dataclass(frozen=True)
class ProductSuggestion:
    """A product offered next to tickets (bundles): on sale, in stock, for that event."""

    product_id: str
    event_id: str
    name: str
    price: int
    currency: str
    image_url: str | None
    variants: tuple[SuggestedVariant, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape hold and order responses carry under ``suggested_products``: the
        fields by name, ``variants`` a list."""
        shape = asdict(self)
        return {**shape, "variants": list(shape["variants"])}


class InvalidDelivery(Unprocessable):
    """422 ``validation_error`` with ``errors`` naming the delivery fields at fault."""

    code, title = "validation_error", "Invalid delivery"


_POSTAL_CODE = re.compile(r"^[0-9A-Za-z -]{3,10}$")
_PHONE = re.compile(r"^\+?[0-9 -]{7,20}$")


@dataclass(frozen=True)
class DeliveryAddress:
    recipient: str
    phone: str
    postal_code: str
    address1: str
    address2: str = ""

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for name, limit in (("recipient", 100), ("address1", 200), ("address2", 200)):
            value = getattr(self, name)
            if name != "address2" and not value.strip():
                found.append((name, "is required"))
            elif len(value) > limit:
                found.append((name, f"must be at most {limit} characters"))
        if not _PHONE.match(self.phone):
            found.append(("phone", "must be a phone number (digits, spaces, dashes, leading +)"))
        if not _POSTAL_CODE.match(self.postal_code):
            found.append(("postal_code", "must be a postal code (3 to 10 letters or digits)"))
        return found


@dataclass(frozen=True)
class Delivery:
    """How the goods of an order reach the buyer.

    ``pickup``: collected at the venue on the day of the show (no address).
    ``delivery``: shipped to ``address`` (required). Build it with :meth:`from_dict` to
    get :class:`InvalidDelivery` (422) for bad input; the constructor checks the same rules.
    """

    method: DeliveryMethod = "pickup"
    address: DeliveryAddress | None = None

    def __post_init__(self) -> None:
        found = self.problems()
        if found:
            raise InvalidDelivery(
                "The delivery choice is not valid: "
                + "; ".join(f"{loc} {msg}" for loc, msg in found)
                + ".",
                errors=[
                    {"loc": ["body", "delivery", *loc.split(".")], "msg": msg} for loc, msg in found
                ],
            )

    def problems(self) -> list[tuple[str, str]]:
        if self.method not in DELIVERY_METHODS:
            return [("method", "must be 'pickup' or 'delivery'")]
        if self.method == "pickup":
            if self.address is not None:
                return [("address", "must be left out for pickup at the venue")]
            return []
        if self.address is None:
            return [("address", "is required for delivery")]
        return [(f"address.{name}", msg) for name, msg in self.address.problems()]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Delivery:
        """Parse a request's ``delivery`` object; ``None`` means pickup at the venue."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise InvalidDelivery(
                "delivery must be an object",
                errors=[{"loc": ["body", "delivery"], "msg": "must be an object"}],
            )
        unknown = set(data) - {"method", "address"}
        if unknown:
            raise InvalidDelivery(
                f"Unknown delivery fields: {', '.join(sorted(unknown))}.",
                errors=[
                    {"loc": ["body", "delivery", k], "msg": "unknown field"}
                    for k in sorted(unknown)
                ],
            )
        raw_address = data.get("address")
        address: DeliveryAddress | None = None
        if raw_address is not None:
            if not isinstance(raw_address, Mapping):
                raise InvalidDelivery(
                    "delivery.address must be an object",
                    errors=[{"loc": ["body", "delivery", "address"], "msg": "must be an object"}],
                )
            fields = ("recipient", "phone", "postal_code", "address1", "address2")
            extra = set(raw_address) - set(fields)
            if extra:
                raise InvalidDelivery(
                    f"Unknown address fields: {', '.join(sorted(extra))}.",
                    errors=[
                        {"loc": ["body", "delivery", "address", k], "msg": "unknown field"}
                        for k in sorted(extra)
                    ],
                )
            values = {}
            for name in fields:
                value = raw_address.get(name, "")
                if not isinstance(value, str):
                    raise InvalidDelivery(
                        f"delivery.address.{name} must be a string",
                        errors=[
                            {
                                "loc": ["body", "delivery", "address", name],
                                "msg": "must be a string",
                            }
                        ],
                    )
                values[name] = value.strip()
            address = DeliveryAddress(**values)
        method = data.get("method", "pickup")
        return cls(method=method, address=address)

    def to_dict(self) -> dict[str, Any]:
        """``method`` and ``address`` (its fields, or None): what :meth:`from_dict` reads."""
        return asdict(self)
