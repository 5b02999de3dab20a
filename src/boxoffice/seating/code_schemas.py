"""Presale codes' and vouchers' HTTP shapes (docs/selling.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from boxoffice.platform.schemas import Strict

CodeText = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_-]{3,40}$")
]
Limit = Annotated[int, Field(ge=1, le=10_000_000)]


class CodeCreate(Strict):
    """One code (``code``) or a batch of ``count`` unique random ones (``prefix`` + 10
    characters); each does what the other fields say."""

    code: CodeText | None = None
    count: Annotated[int, Field(ge=1, le=10_000)] | None = None
    prefix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{0,20}$")] = ""
    presale_opens_at: AwareDatetime | None = None
    ticket_type_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    amount_off: Annotated[int, Field(ge=1, le=1_000_000_000)] | None = None
    percent_off: Annotated[int, Field(ge=1, le=100)] | None = None
    max_uses: Limit | None = None
    max_uses_per_user: Limit | None = None
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None


class CodeUpdate(Strict):
    active: bool


class CodeRead(BaseModel):
    id: str
    event_id: str
    code: str
    batch_id: str | None
    presale_opens_at: datetime | None
    ticket_type_id: str | None
    amount_off: int | None
    percent_off: int | None
    max_uses: int | None
    max_uses_per_user: int | None
    valid_from: datetime | None
    valid_until: datetime | None
    active: bool
    uses: int = 0  # spent: paid orders that used it


class CodeBatch(BaseModel):
    batch_id: str | None
    codes: list[CodeRead]


class RedemptionRead(BaseModel):
    id: str
    user_id: str
    hold_id: str
    order_id: str | None
    status: str  # reserved | spent | released | lapsed
    discount: int
    created_at: datetime
    spent_at: datetime | None
    released_at: datetime | None
