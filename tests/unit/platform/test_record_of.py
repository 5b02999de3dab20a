"""``record_of``: a contract's dataclass or a response model from a row's same-named fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from pydantic import BaseModel, Field

from boxoffice.platform.db import record_of


@dataclass(frozen=True)
class Card:
    id: str
    title: str
    tags: list[str] = field(default_factory=list)
    note: str | None = None


class CardRead(BaseModel):
    id: str
    title: str
    tags: list[str] = Field(default_factory=list)
    note: str | None = None


@pytest.mark.parametrize("record", [Card, CardRead])
def test_fields_come_from_the_row_given_ones_win_and_absent_defaults_stay(record: type) -> None:
    row = SimpleNamespace(id="c1", title="row's", note="kept")
    made = record_of(record, row, title="given")
    assert (made.id, made.title, made.tags, made.note) == ("c1", "given", [], "kept")


@pytest.mark.parametrize("record", [Card, CardRead])
def test_a_required_field_the_row_lacks_is_an_error_not_a_default(record: type) -> None:
    with pytest.raises(AttributeError):
        record_of(record, SimpleNamespace(id="c1"))
