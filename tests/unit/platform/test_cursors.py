"""A list's cursor comes back as the (moment, id) it was made from, and nothing else passes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from boxoffice.platform import cursors


def test_cursor_round_trip_and_garbage() -> None:
    moment = datetime(2026, 12, 24, 19, 30, tzinfo=UTC)
    assert cursors.decode_cursor(cursors.encode_cursor(moment, "id-1")) == (moment, "id-1")
    naive = base64.urlsafe_b64encode(b'["2026-12-24T19:30:00","x"]').decode().rstrip("=")
    garbage = ("", "!!!", "bm90IGpzb24", cursors.encode_cursor(moment, "x")[:-3] + "A", naive)
    for text in garbage:
        with pytest.raises(cursors.BadCursor):
            cursors.decode_cursor(text)


def test_a_cursor_written_with_spaces_still_reads() -> None:
    """Run-history cursors were written by ``json.dumps`` with its default separators."""
    raw = b'["2026-12-24T19:30:00+00:00", "run-1"]'
    spaced = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    moment = datetime(2026, 12, 24, 19, 30, tzinfo=UTC)
    assert cursors.decode_cursor(spaced) == (moment, "run-1")
