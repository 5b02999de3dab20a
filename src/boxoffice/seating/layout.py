"""A show's seats in map order, as this process keeps them once read (seats never move once
a show exists): the rows of each section, each seat's place in its row, and the seat map's
JSON prefixes per price list."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import orjson


@dataclass(frozen=True)
class SeatPlace:
    seat_id: str
    section: str
    row: str
    number: str
    grade: str


@dataclass
class Layout:
    show_id: str
    event_id: str
    seats: list[SeatPlace]
    index: dict[str, SeatPlace]
    # Rendered JSON prefixes per seat for one price list: b'{"id":...,"status":"'.
    _fragments: tuple[tuple[tuple[str, int], ...], list[bytes]] | None = None

    def fragments(self, prices: dict[str, int]) -> list[bytes]:
        key = tuple(sorted(prices.items()))
        if self._fragments is None or self._fragments[0] != key:
            rendered = []
            for seat in self.seats:
                head = orjson.dumps(
                    {
                        "id": seat.seat_id,
                        "section": seat.section,
                        "row": seat.row,
                        "number": seat.number,
                        "grade": seat.grade,
                        "price": prices.get(seat.grade, 0),
                        "status": "",
                    }
                )
                rendered.append(head[:-2])  # drop the closing '"}' of the empty status
            self._fragments = (key, rendered)
        return self._fragments[1]

    @cached_property
    def _row_index(self) -> tuple[dict[str, list[list[SeatPlace]]], dict[str, tuple[int, int]]]:
        """Each section's rows in map order, and each seat's (row, column) in its section."""
        by_row: dict[str, dict[str, list[SeatPlace]]] = {}
        for seat in self.seats:
            by_row.setdefault(seat.section, {}).setdefault(seat.row, []).append(seat)
        rows = {section: list(section_rows.values()) for section, section_rows in by_row.items()}
        places = {
            seat.seat_id: (row_at, column)
            for section_rows in rows.values()
            for row_at, row in enumerate(section_rows)
            for column, seat in enumerate(row)
        }
        return rows, places

    @cached_property
    def row_numbers(self) -> tuple[dict[str, int], dict[str, int]]:
        """Each seat's row numbered across the whole map (in map order), and the number of
        each section's first row: ints, which count and hash faster than (section, row)."""
        first: dict[str, int] = {}
        of_seat: dict[str, int] = {}
        number = 0
        for section, rows in self._row_index[0].items():
            first[section] = number
            for row in rows:
                for seat in row:
                    of_seat[seat.seat_id] = number
                number += 1
        return of_seat, first

    @cached_property
    def grades(self) -> frozenset[str]:
        return frozenset(seat.grade for seat in self.seats)

    def sections(self) -> list[str]:
        """The sections in map order."""
        return list(self._row_index[0])

    def rows(self, section: str) -> list[list[SeatPlace]]:
        """The section's rows in map order, each row's seats in map order."""
        return self._row_index[0].get(section, [])

    def place(self, seat_id: str) -> tuple[int, int]:
        """The seat's row within its section and its column within the row."""
        return self._row_index[1][seat_id]
