"""What other contexts may know of the waiting room."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Admission:
    """A verified admission token: this user may hold seats of this show until ``expires_at``."""

    admission_id: str
    show_id: str
    user_id: str
    expires_at: datetime
