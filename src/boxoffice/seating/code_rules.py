"""Presale codes and vouchers in plain Python (``docs/selling.md``).

A code belongs to an event and does any of: open the sale to its holder from
``presale_opens_at`` (before the public sale), unlock a hidden ticket type, take an amount
or a percentage off. It is valid in ``[valid_from, valid_until)``, may be used ``max_uses``
times in all and ``max_uses_per_user`` times per buyer. A use counts from the hold that
redeems it (while the hold lives) and for good once its order is paid; a lapsed hold or
a cancelled order gives it back.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

# Unambiguous letters and digits (no 0/O, 1/I/L) for codes read aloud or typed from paper.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class CodeInfo:
    id: str
    event_id: str
    code: str
    presale_opens_at: datetime | None = None
    ticket_type_id: str | None = None  # a hidden type it unlocks
    amount_off: int | None = None  # per hold (order), in minor units
    percent_off: int | None = None  # per seat
    max_uses: int | None = None
    max_uses_per_user: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    active: bool = True


class CodeRefused(ValueError):
    """The code cannot be used now; ``reason`` is what the buyer is told."""


def normalise(code: str) -> str:
    """Codes are compared without case and surrounding spaces."""
    return code.strip().upper()


def generate(count: int, length: int = 10, prefix: str = "") -> list[str]:
    """``count`` distinct random codes (``prefix`` + ``length`` characters)."""
    made: set[str] = set()
    while len(made) < count:
        made.add(normalise(prefix) + "".join(secrets.choice(ALPHABET) for _ in range(length)))
    return sorted(made)


def check_usable(code: CodeInfo, now: datetime) -> None:
    """Raises ``CodeRefused`` when the code is stopped or outside its validity window."""
    if not code.active:
        raise CodeRefused("This code is no longer valid.")
    if code.valid_from is not None and now < code.valid_from:
        raise CodeRefused("This code is not valid yet.")
    if code.valid_until is not None and now >= code.valid_until:
        raise CodeRefused("This code has expired.")


def opens_sale_at(code: CodeInfo | None, public_opens_at: datetime) -> datetime:
    """When the sale opens for the code's holder: its presale start if earlier."""
    if code is None or code.presale_opens_at is None:
        return public_opens_at
    return min(code.presale_opens_at, public_opens_at)


def discounted(prices: list[int], code: CodeInfo | None) -> list[int]:
    """Seat prices after the code: a percentage off each seat (the price rounded down, in
    the buyer's favour), then an amount off the hold taken from the seats in order;
    never below zero."""
    if code is None:
        return list(prices)
    after = [p * (100 - (code.percent_off or 0)) // 100 for p in prices]
    left = code.amount_off or 0
    for index, price in enumerate(after):
        taken = min(price, left)
        after[index], left = price - taken, left - taken
    return after


def within_uses(used: int, limit: int | None) -> bool:
    return limit is None or used + 1 <= limit
