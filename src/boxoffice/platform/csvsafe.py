"""CSV for spreadsheets: a cell a buyer typed (a name, an e-mail) that starts like a formula
is written with a leading apostrophe, so opening an export never runs it (OWASP's "CSV
injection"). Numbers and dates are written as they are."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class RowWriter(Protocol):
    def writerow(self, row: Iterable[Any]) -> Any: ...


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, out: Any) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(cell) for cell in row])


def writer(out: Any) -> RowWriter:
    """``csv.writer(out)`` whose text cells cannot be read as formulas."""
    return _SafeWriter(out)
