"""A search box finds what was typed, its ``%`` and ``_`` taken literally."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, select

from boxoffice.platform import search


@pytest.mark.parametrize(
    ("text", "pattern"),
    [("IU", "%iu%"), ("100%", "%100\\%%"), ("a_b", "%a\\_b%"), ("back\\slash", "%back\\\\slash%")],
)
def test_like_patterns_escape_wildcards(text: str, pattern: str) -> None:
    assert search.like_pattern(text) == pattern


def test_contains_finds_the_text_in_any_column_in_any_case() -> None:
    events = Table("events", MetaData(), Column("title", String), Column("description", String))
    engine = create_engine("sqlite://")
    with engine.begin() as connection:
        events.create(connection)
        connection.execute(
            events.insert(),
            [
                {"title": "IU Live", "description": ""},
                {"title": "Hamlet", "description": "with iu songs"},
                {"title": "100% Jazz", "description": "a_b"},
                {"title": "1000 Jazz", "description": "axb"},
            ],
        )

        def found(text: str) -> list[str]:
            where = search.contains(text, events.c.title, events.c.description)
            return list(connection.scalars(select(events.c.title).where(where)))

        assert found("iu") == ["IU Live", "Hamlet"]
        assert found("100%") == ["100% Jazz"]
        assert found("a_b") == ["100% Jazz"]
