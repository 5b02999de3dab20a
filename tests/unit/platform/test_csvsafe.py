"""Exports opened in a spreadsheet never run what a buyer typed."""

from __future__ import annotations

import csv
import io

from boxoffice.platform import csvsafe


def test_text_that_starts_like_a_formula_is_written_as_text() -> None:
    out = io.StringIO()
    row = ['=HYPERLINK("http://evil")', "+1", "-2+3", "@SUM(A1)", "\tx", "Minji", 42, "a=b"]
    csvsafe.writer(out).writerow(row)
    written = next(csv.reader(io.StringIO(out.getvalue())))
    assert written == [
        '\'=HYPERLINK("http://evil")',
        "'+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\tx",
        "Minji",
        "42",
        "a=b",
    ]
