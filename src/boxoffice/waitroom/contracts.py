"""What other contexts may know of the waiting room, and the port it asks them to fill."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

# (available, held) seats of a show now; (0, 0) is sold out, None a show without seats.
SeatsLeft = Callable[[str], Awaitable[tuple[int, int] | None]]


@dataclass(frozen=True)
class SeatCount:
    """The port the dispatcher asks before it admits anyone: no admissions while no seat
    is left, and a sold-out show tells its line. Provided by the context selling seats."""

    seats_left: SeatsLeft


@dataclass(frozen=True)
class Admission:
    """A verified admission token: this user may hold seats of this show until ``expires_at``."""

    admission_id: str
    show_id: str
    user_id: str
    expires_at: datetime
