"""CSV for spreadsheets: a cell a buyer typed (a name, an e-mail) that starts like a formula
is written with a leading apostrophe, so opening an export never runs it (OWASP's "CSV
injection"). Numbers and dates are written as they are. :func:`download` answers an export
as an attachment, streamed when its rows come from an iterator."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from starlette.responses import Response

from boxoffice.platform.downloads import attachment

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MEDIA_TYPE = "text/csv; charset=utf-8"
Row = TypeVar("Row")


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


async def stream(
    columns: Sequence[str],
    pages: AsyncIterable[Iterable[Row]],
    cells: Callable[[Row], Iterable[Any]],
) -> AsyncIterator[str]:
    """A CSV file as text chunks: the header (after a BOM: spreadsheet apps then read UTF-8
    names), then each page's rows, as ``cells`` lays a row out."""
    header = io.StringIO()
    writer(header).writerow(columns)
    yield "\ufeff" + header.getvalue()
    async for page in pages:
        chunk = io.StringIO()
        page_writer = writer(chunk)
        for row in page:
            page_writer.writerow(cells(row))
        yield chunk.getvalue()


def responses(description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answer of a CSV export route."""
    return {200: {"content": {"text/csv": {}}, "description": description}}


def download(body: bytes | str | AsyncIterable[str | bytes], filename: str) -> Response:
    """``body`` as the CSV file ``filename`` (:func:`downloads.attachment`)."""
    return attachment(body, filename, MEDIA_TYPE)
