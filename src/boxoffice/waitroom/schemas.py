"""waitroom's HTTP shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from boxoffice.waitroom.domain import Status


class QueueEntryRead(BaseModel):
    entry_id: str
    show_id: str
    number: int | None  # None while in the pre-queue: numbers are drawn when the sale opens
    position: int | None  # people ahead plus one; 0 once admitted
    status: Status
    eta_seconds: int | None
    admission_token: str | None = None
    admission_expires_at: datetime | None = None
    sold_out: bool = False  # the show sold out while this entry waited (status: expired)
