"""notifications' HTTP shapes: the admin's view of dead letters."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from boxoffice.platform.jsonutil import loads


class DeadLetterRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: Literal["email", "event"] | str
    consumer: str
    event_id: str
    topic: str
    event_type: str
    aggregate_id: str
    payload: dict[str, Any]
    occurred_at: datetime
    attempts: int
    last_error: str
    status: Literal["dead", "retrying", "resolved"] | str
    failed_at: datetime
    retried_at: datetime | None = None
    retried_by: str | None = None

    @field_validator("payload", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return loads(value) if isinstance(value, str | bytes) else value


class DeadLetterPage(BaseModel):
    items: list[DeadLetterRead]
    next_cursor: str | None = None


class DeadLetterQuery(BaseModel):
    status: Literal["dead", "retrying", "resolved", "all"] = "dead"
    kind: Literal["email", "event"] | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=36)
