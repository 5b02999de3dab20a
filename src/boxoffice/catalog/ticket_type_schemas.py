"""catalog's HTTP shapes of ticket types (several prices per grade: docs/selling.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from boxoffice.catalog.schemas import GradeCode, Name, Price
from boxoffice.platform.schemas import Strict

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]


class TicketTypeCreate(Strict):
    grade: GradeCode
    name: Name
    price: Price
    available_from: AwareDatetime | None = None
    available_until: AwareDatetime | None = None
    quantity_cap: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    eligibility_note: Note | None = None
    hidden: bool = False


class TicketTypeUpdate(Strict):
    name: Name | None = None
    price: Price | None = None
    available_from: AwareDatetime | None = None
    available_until: AwareDatetime | None = None
    quantity_cap: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    eligibility_note: Note | None = None
    hidden: bool | None = None
    active: bool | None = None


class TicketTypeRead(BaseModel):
    id: str
    event_id: str
    grade: str
    name: str
    price: int
    available_from: datetime | None
    available_until: datetime | None
    quantity_cap: int | None
    eligibility_note: str | None
    hidden: bool
    active: bool
